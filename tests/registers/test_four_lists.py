"""Form B.4, the four lists' summary: each risk point with its problem list and risk list (kept on
the point by experts), its data list (the watching topic and its rule) and its psychological list
(the latest check-up's dimensions over the people of its posts, within the reader's scope, cells
under five people left out); exported as XLSX under the form's four headings, in the trail."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.topics.models import Topic
from tests.checkups.conftest import Kit, healthy_answers, risky_answers
from tests.checkups.conftest import kit as kit  # the fixture

POINT = {
    "code": "YX-02",
    "specialty": "marketing",
    "posts": "客户经理、抄表核算员",
    "business_item": "电费回收",
    "risk_point": "以一卡代缴多户电费",
    "topic_code": "T03",
    "owner": "营销部",
    "inspection_findings": "2025年巡察发现代缴电费问题3起",
    "typical_cases": "某供电所客户经理代收电费挪用案",
    "power_problems": "电费收取权集中于一人",
    "units": "各供电所",
    "post_powers": "收费、销账",
    "powers": "电费收取",
    "has_rules": True,
    "rule_basis": "《电费抄核收管理办法》",
}


async def test_the_four_lists_join_per_risk_point_within_scope(kit: Kit) -> None:
    async with kit.db.session() as s:
        rule = "同一银行卡为5户以上无关用户缴费"
        s.add(Topic(code="T03", name="一卡多户代缴", specialty="marketing", rule_text=rule))
        await s.commit()
    r = await kit.client.post("/api/registers/risks", json=POINT, headers=await kit.h("expert"))
    assert r.status_code == 201, r.text
    cid = (await kit.open_campaign(units=("C01-S1", "C01-S2")))["id"]
    # five customer managers: three answer as at risk (stress 100), two as healthy (stress 0)
    for user in ("manager", "E0101", "E0102"):
        await kit.complete(user, cid, risky_answers())
    for user in ("E0103", "E0110"):
        await kit.complete(user, cid, healthy_answers())

    (row,) = (await kit.client.get("/api/registers/four-lists", headers=await kit.h("inspector"))).json()
    assert row["risk"]["inspection_findings"] == "2025年巡察发现代缴电费问题3起"
    assert row["risk"]["has_rules"] is True and row["risk"]["topic_name"] == "一卡多户代缴"
    assert row["topic_rule"] == "同一银行卡为5户以上无关用户缴费"
    assert row["campaign_title"] == "2026年度廉洁体检"
    assert row["psych"]["people"] == 5 and row["psych"]["stress"] == 60.0

    # the station head sees four of the five: too few, so no figures
    (row,) = (await kit.client.get("/api/registers/four-lists", headers=await kit.h("head"))).json()
    assert row["psych"]["people"] is None and row["psych"]["stress"] is None
    # a topic expert reads the lists but no check-up figures
    (row,) = (await kit.client.get("/api/registers/four-lists", headers=await kit.h("expert"))).json()
    assert row["psych"]["people"] is None and row["risk"]["code"] == "YX-02"

    r = await kit.client.get("/api/registers/four-lists/xlsx", headers=await kit.h("inspector"))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows: list[Any] = [list(x) for x in sheet.iter_rows(values_only=True)]
    assert [h for h in rows[0] if h] == ["序号", "问题清单", "风险清单", "数据清单", "心理清单"]
    headers = rows[1]
    data = dict(zip(headers, rows[2], strict=True))
    assert data["巡视巡察"] == "2025年巡察发现代缴电费问题3起"
    assert data["是否有规可依"] == "是" and data["制度依据"] == "《电费抄核收管理办法》"
    assert data["监督主题"] == "一卡多户代缴" and data["监督规则"] == "同一银行卡为5户以上无关用户缴费"
    assert data["压力水平"] == 60.0
    r = await kit.client.get("/api/registers/four-lists/xlsx", headers=await kit.h("head"))
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    data = dict(zip(headers, next(sheet.iter_rows(min_row=3, values_only=True)), strict=True))
    assert data["压力水平"] == "不足5人"
    async with kit.db.session() as s:
        found = await s.execute(
            select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "report.export")
        )
        exports = [a.new_value for a in found.scalars()]
    assert exports == [{"what": "register.b4", "format": "xlsx"}] * 2
