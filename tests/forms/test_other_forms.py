"""B.9 (the admin's signature creates the account), B.6 (inspector, leader, receiver; its workbook),
B.5, and the ladder's documents from a real case."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import load_workbook

from tests.forms.conftest import call, has, pdf_text, sign
from tests.ladder.test_ladder import issue


async def test_account_request_approved_by_an_admin_creates_the_account(client, sessions):
    person = {"employee_no": "E0901", "name": "新员工甲", "unit_code": "C01-S1"}
    await call(client, sessions, "POST", "/api/people", "admin", 201, json=person)
    body = {
        "employee_no": "E0901",
        "username": "cm.feng",
        "permission": "预警核查反馈",
        "reason": "新任客户经理",
    }
    await call(client, sessions, "POST", "/api/forms/b9", "head2", 400, json=body)  # not of their station
    form = await call(client, sessions, "POST", "/api/forms/b9", "head", 201, json=body)
    await sign(client, sessions, form, 0, "head", "同意")
    await sign(client, sessions, form, 1, "inspector", "同意")
    await sign(client, sessions, form, 2, "committee", "同意", status=403)
    accounts = await call(client, sessions, "GET", "/api/accounts", "admin")
    assert "cm.feng" not in [a["username"] for a in accounts]
    await sign(client, sessions, form, 2, "admin", "已分配权限")
    accounts = await call(client, sessions, "GET", "/api/accounts", "admin")
    assert "cm.feng" in [a["username"] for a in accounts]
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{form['id']}/pdf", "admin"))
    has(
        text,
        "应用权限申请表",
        "账号cm.feng",
        "申请权限名称预警核查反馈",
        "部门负责人签字同意",
        "技术开发组权限分配已分配权限",
    )


async def test_clue_sheet_signed_by_inspector_leader_and_receiver(client, sessions):
    units = await call(client, sessions, "GET", "/api/units", "inspector")
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    item = {"risk_point": "换表后电量为零", "tier": "二级", "description": "3户换表后7日电量为零"}
    form = await call(
        client,
        sessions,
        "POST",
        "/api/forms/b6",
        "inspector",
        201,
        json={"unit_id": station, "items": [item]},
    )
    assert (await sign(client, sessions, form, 2, "head", "已签收", status=409))[
        "code"
    ] == "step_out_of_order"
    await sign(client, sessions, form, 0, "inspector", "请核查")
    await sign(client, sessions, form, 1, "committee", "同意下发")
    await sign(client, sessions, form, 2, "head", "已签收")
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{form['id']}/pdf", "head"))
    has(
        text,
        "风险线索核查表",
        "换表后电量为零",
        "二级",
        "单位：城关供电所",
        "监察人员请核查",
        "监察领导同意下发",
        "签收人已签收",
    )


async def test_plan_review(client, sessions):
    form = await call(
        client,
        sessions,
        "POST",
        "/api/forms/b5",
        "admin",
        201,
        json={"topic": "一卡多户缴费", "goal": "发现代缴电费异常"},
    )
    await sign(client, sessions, form, 0, "admin", "方案可行")
    await sign(client, sessions, form, 1, "admin", "数据可得")
    await sign(client, sessions, form, 2, "committee", "同意立项")
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{form['id']}/pdf", "admin"))
    has(
        text,
        "监督主题方案评审单",
        "拟开发或改进监督主题",
        "一卡多户缴费",
        "主题专家组评审意见方案可行",
        "主题管理组评审意见同意立项",
    )


async def test_ladder_documents(client, sessions, db):
    case = await issue(client, sessions, db, tier="recommendation")
    url = f"/api/forms/ladder/{case['id']}"
    text = pdf_text(await call(client, sessions, "GET", f"{url}/recommendation/pdf", "inspector"))
    has(
        text,
        "廉情监察建议书",
        "多户电费由同一银行卡代缴",
        "所辖12户电费由同一张银行卡代缴",
        "一个月内整改到位",
    )
    await call(client, sessions, "GET", f"{url}/notice/pdf", "inspector", 404)  # never at that tier
    await call(client, sessions, "GET", f"{url}/extension/pdf", "inspector", 404)
    until = (date.fromisoformat(case["due_at"][:10]) + timedelta(days=20)).isoformat()
    h = await sessions.headers("inspector")
    await client.post(
        f"/api/ladder/{case['id']}/extend", json={"until": until, "reason": "材料待补"}, headers=h
    )
    text = pdf_text(await call(client, sessions, "GET", f"{url}/extension/pdf", "manager"))
    has(text, "延期整改通知书", "延期原因材料待补", "延期仅限一次")
    await client.post(
        f"/api/ladder/{case['id']}/visit", json={"note": "已补签委托书", "lifted": True}, headers=h
    )
    text = pdf_text(await call(client, sessions, "GET", f"{url}/visit/pdf", "inspector"))
    has(text, "回访登记表", "已整改，解除预警", "回访情况已补签委托书")
    await call(client, sessions, "GET", f"{url}/visit/pdf", "manager2", 404)
    notice = await issue(client, sessions, db)
    text = pdf_text(
        await call(client, sessions, "GET", f"/api/forms/ladder/{notice['id']}/notice/pdf", "manager")
    )
    has(text, "廉情预警告知书", "7个工作日内作出书面说明")


async def test_topic_library_as_pdf_and_xlsx(client, sessions):
    from io import BytesIO

    from openpyxl import load_workbook

    body = {
        "code": "MK-010",
        "name": "高压客户基本电费少收",
        "specialty": "marketing",
        "target": "10千伏及以上客户",
        "risk_point": "基本电费违规减免",
        "handling_post": "客户经理",
        "rule_text": "实收基本电费低于合同容量乘以电价",
        "threshold_text": "低于50%为高风险",
        "formula": "实收/（容量×电价）",
        "data_fields": "户号、合同容量、电价、实收",
        "data_source": "营销系统",
        "monitoring_period": "monthly",
        "data_range": "12个月",
    }
    await call(client, sessions, "POST", "/api/topics", "admin", 201, json=body)
    text = pdf_text(await call(client, sessions, "GET", "/api/forms/b3/pdf", "inspector"))
    has(
        text,
        "监督预警主题库（数据清单）",
        "权限主题",
        "所需数据范围（至少）",
        "高压客户基本电费少收",
        "营销",
        "每月",
        "12个月",
    )
    book = load_workbook(BytesIO(await call(client, sessions, "GET", "/api/forms/b3/xlsx", "head")))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "权限主题", "专业")
    assert rows[1][1:4] == ("高压客户基本电费少收", "营销", "10千伏及以上客户") and rows[1][11] == "每月"
    await call(client, sessions, "GET", "/api/forms/b3/xlsx", "manager", 403)


async def test_clue_sheet_as_a_workbook_laid_out_as_its_pdf(client, sessions):
    """B.6 as XLSX: the title, its number, one row a clue, each sign-off box with opinion, signer and
    day; in the trail; refused to someone out of scope and for a form that is not a table."""
    units = await call(client, sessions, "GET", "/api/units", "inspector")
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    items = [
        {"risk_point": "换表后电量为零", "tier": "高风险", "description": "3户换表后7日电量为零"},
        {"risk_point": "示数人工修改", "tier": "中风险", "description": "=23条无审批", "note": "见附件"},
    ]
    form = await call(
        client, sessions, "POST", "/api/forms/b6", "inspector", 201, json={"unit_id": station, "items": items}
    )
    await sign(client, sessions, form, 0, "inspector", "请核查")
    await sign(client, sessions, form, 1, "committee", "同意下发")
    r = await client.get(f"/api/forms/{form['id']}/xlsx", headers=await sessions.headers("head"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = [[c for c in row if c not in (None, "")] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["风险线索核查表"]
    assert rows[1] == [f"编号：{form['number']}"]
    assert rows[2] == ["序号", "风险点", "风险层级", "详细描述", "单位", "备注"]
    assert rows[3] == [1, "换表后电量为零", "高风险", "3户换表后7日电量为零", "城关供电所"]
    # a cell a spreadsheet would run as a formula stays text
    assert rows[4] == [2, "示数人工修改", "中风险", "'=23条无审批", "城关供电所", "见附件"]
    inspector, leader, receiver = rows[-3:]
    signed = await call(client, sessions, "GET", f"/api/forms/{form['id']}", "inspector")
    assert inspector[:4] == ["监察人员", "请核查", "签字", signed["steps"][0]["signer_name"]]
    assert leader[:2] == ["监察领导", "同意下发"] and leader[-2] == "日期"
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", leader[-1])
    assert receiver[0] == "签收人" and "请核查" not in receiver
    trail = await call(
        client, sessions, "GET", f"/api/audit?object_type=approval&object_id={form['id']}", "committee"
    )
    assert {"kind": "b6", "number": form["number"], "format": "xlsx"} in [
        i["new_value"] for i in trail["items"] if i["action"] == "form.export"
    ]
    await call(client, sessions, "GET", f"/api/forms/{form['id']}/xlsx", "head2", 404)
    asked = {"topic": "一卡多户", "goal": "发现代缴"}
    plan = await call(client, sessions, "POST", "/api/forms/b5", "admin", 201, json=asked)
    r = await client.get(f"/api/forms/{plan['id']}/xlsx", headers=await sessions.headers("admin"))
    assert r.status_code == 404 and r.json()["code"] == "no_workbook"
