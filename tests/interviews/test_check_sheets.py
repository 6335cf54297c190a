"""High-risk check sheets (B.17) of true red warnings."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.interviews.conftest import true_warning

SHEET = {
    "risk_description": "表计更换后连续三个月电量为零",
    "check_result": "核查属实，已追补电量电费",
    "possible_risk": "换表环节存在人为少计电量的廉洁风险",
    "control_requirements": "换表后由第二人复核读数",
    "head_opinion": "同意核查结论，限期整改",
}


async def test_head_fills_inspector_adds_unit_opinion_and_prints(client, sessions, seed):
    wid = await true_warning(client, sessions, seed)
    head, inspector = await sessions.headers("head"), await sessions.headers("inspector")
    r = await client.post(f"/api/check-sheets?warning_id={wid}", json=SHEET, headers=head)
    assert r.status_code == 201, r.text
    sheet = r.json()
    assert sheet["warning_id"] == wid and sheet["unit_opinion"] is None
    again = await client.post(f"/api/check-sheets?warning_id={wid}", json=SHEET, headers=inspector)
    assert (again.status_code, again.json()["code"]) == (409, "check_sheet_exists")
    # whoever filled it does not add the unit's opinion too
    r = await client.post(
        f"/api/check-sheets/{sheet['id']}/unit-opinion", json={"opinion": "x"}, headers=head
    )
    assert (r.status_code, r.json()["code"]) == (403, "not_unit_leader")
    r = await client.post(
        f"/api/check-sheets/{sheet['id']}/unit-opinion",
        json={"opinion": "同意，纳入年度考核"},
        headers=inspector,
    )
    assert r.status_code == 200 and r.json()["unit_opinion"] == "同意，纳入年度考核"
    r = await client.post(
        f"/api/check-sheets/{sheet['id']}/unit-opinion", json={"opinion": "y"}, headers=inspector
    )
    assert (r.status_code, r.json()["code"]) == (409, "opinion_given")
    timeline = (await client.get(f"/api/warnings/{wid}", headers=head)).json()["timeline"]
    assert "check_sheet" in [s["kind"] for s in timeline]
    r = await client.get(sheet["pdf_url"], headers=await sessions.headers("committee"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    labels = (
        "主题高风险问题核查单 预警主题 风险发生时间 风险描述 风险核查结果 可能存在的廉政风险 相关防控要求"
    )
    for label in [*labels.split(), "业务部门负责人意见", "单位负责人意见", "城关供电所"]:
        assert label in text, label
    for value in SHEET.values():
        assert value in text, value
    listed = await client.get(
        f"/api/check-sheets?warning_id={wid}", headers=await sessions.headers("manager")
    )
    assert [s["id"] for s in listed.json()] == [sheet["id"]]


async def test_only_true_red_warnings_in_scope_get_a_sheet(client, sessions, seed):
    head = await sessions.headers("head")
    orange = await true_warning(client, sessions, seed, level="medium")
    r = await client.post(f"/api/check-sheets?warning_id={orange}", json=SHEET, headers=head)
    assert (r.status_code, r.json()["code"]) == (409, "not_true_red")
    unverified = await seed.warning("E0005", level="high")
    r = await client.post(f"/api/check-sheets?warning_id={unverified}", json=SHEET, headers=head)
    assert (r.status_code, r.json()["code"]) == (409, "not_true_red")
    red = await true_warning(client, sessions, seed)
    r = await client.post(
        f"/api/check-sheets?warning_id={red}", json=SHEET, headers=await sessions.headers("head2")
    )
    assert (r.status_code, r.json()["code"]) == (404, "warning_not_found")
    r = await client.post(
        f"/api/check-sheets?warning_id={red}", json=SHEET, headers=await sessions.headers("manager")
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/check-sheets?warning_id={red}", json={**SHEET, "check_result": ""}, headers=head
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request")
    r = await client.post(f"/api/check-sheets?warning_id={red}", json=SHEET, headers=head)
    sheet_id = r.json()["id"]
    for user in ("manager2", "head2"):
        h = await sessions.headers(user)
        assert (await client.get(f"/api/check-sheets/{sheet_id}", headers=h)).status_code == 404
        assert (await client.get(f"/api/check-sheets/{sheet_id}/pdf", headers=h)).status_code == 404
