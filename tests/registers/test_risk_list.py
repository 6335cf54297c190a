"""The B.1 risk list: experts and admins edit, each change a version with the old one kept and in
the trail; supervisors read and export it as XLSX (in the trail)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.topics.models import Topic

METER = {
    "code": "YX-01",
    "specialty": "marketing",
    "posts": "装表接电员、客户经理",
    "business_item": "计量装置装拆",
    "process_step": "换表",
    "risk_point": "换表后少计电量",
    "manifestation": "换表前后电量异常下降",
    "control_measures": "换表后三日内复核读数",
    "topic_code": "T01",
    "owner": "营销部",
}


async def test_edit_versions_and_export(client: Any, sessions: Any, db: Any) -> None:
    async with db.session() as s:
        s.add(Topic(code="T01", name="表计装拆后电量为零", specialty="marketing"))
        await s.commit()
    expert = await sessions.headers("expert")
    r = await client.post("/api/registers/risks", json=METER, headers=expert)
    assert r.status_code == 201, r.text
    point = r.json()
    assert point["version"] == 1 and point["topic_name"] == "表计装拆后电量为零"
    offline = {
        **METER,
        "code": "GC-01",
        "specialty": "engineering",
        "topic_code": None,
        "business_item": "竣工验收",
        "risk_point": "验收受请托",
        "offline_check": "现场抽查验收记录",
    }
    assert (await client.post("/api/registers/risks", json=offline, headers=expert)).status_code == 201
    assert (await client.post("/api/registers/risks", json=METER, headers=expert)).status_code == 409

    change = {"control_measures": "换表后两日内由第二人复核读数"}
    r = await client.patch(
        f"/api/registers/risks/{point['id']}", json=change, headers=await sessions.headers("admin")
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    versions = (await client.get(f"/api/registers/risks/{point['id']}/versions", headers=expert)).json()
    assert [(v["version"], v["data"]["control_measures"]) for v in versions] == [(1, "换表后三日内复核读数")]
    r = await client.patch(
        f"/api/registers/risks/{point['id']}", json=change, headers=await sessions.headers("inspector")
    )
    assert r.status_code == 403  # inspectors read, experts and admins edit

    inspector = await sessions.headers("inspector")
    listed = (await client.get("/api/registers/risks?specialty=marketing", headers=inspector)).json()
    assert [p["code"] for p in listed] == ["YX-01"]
    r = await client.get("/api/registers/risks/xlsx", headers=inspector)
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content))["专业廉洁风险清单"].iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "专业", "业务事项", "流程环节", "涉及岗位", "风险点")
    by_point = {row[5]: row for row in rows[1:]}
    assert (
        by_point["换表后少计电量"][1] == "营销"
        and by_point["换表后少计电量"][7] == "换表后两日内由第二人复核读数"
    )
    assert by_point["换表后少计电量"][8] == "线上：表计装拆后电量为零" and by_point["换表后少计电量"][10] == 2
    assert by_point["验收受请托"][8] == "线下：现场抽查验收记录"
    assert (
        await client.get("/api/registers/risks", headers=await sessions.headers("manager"))
    ).status_code == 403
    async with db.session() as s:
        actions = set((await s.execute(select(AuditRecord.action))).scalars())
    assert {"register.risk.create", "register.risk.update", "report.export"} <= actions


async def test_the_export_keeps_any_text_as_text(client: Any, sessions: Any) -> None:
    """Text a workbook cannot hold (control characters, from a paste) and text a spreadsheet would
    run as a formula: the export still answers, and each cell reads back as plain text."""
    expert = await sessions.headers("admin")
    odd = {
        **METER,
        "code": "YX-99",
        "topic_code": None,
        "offline_check": "现场抽查",
        "risk_point": "粘贴的文字\x01带控制字符",
        "control_measures": '=HYPERLINK("http://example.invalid","点此")',
    }
    r = await client.post("/api/registers/risks", json=odd, headers=expert)
    assert r.status_code == 201, r.text
    r = await client.get("/api/registers/risks/xlsx", headers=expert)
    assert r.status_code == 200, r.text
    rows = list(load_workbook(io.BytesIO(r.content))["专业廉洁风险清单"].iter_rows(values_only=True))
    (row,) = [row for row in rows[1:] if row[5] == "粘贴的文字带控制字符"]
    assert row[7] == '\'=HYPERLINK("http://example.invalid","点此")'


async def test_export_takes_control_characters_out(client: Any, sessions: Any) -> None:
    body = {**METER, "topic_code": None, "risk_point": "换表\x07后少计\x1b电量"}
    r = await client.post("/api/registers/risks", json=body, headers=await sessions.headers("admin"))
    assert r.status_code == 201, r.text
    r = await client.get("/api/registers/risks/xlsx", headers=await sessions.headers("inspector"))
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][5] == "换表后少计电量"
