"""A head answers a risk notice letter (linked warning) with a risk report from the phone."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.warnings.conftest import Seeder


def test_head_answers_a_risk_notice_letter(live, phone, shots):
    if "/api/linked" not in httpx.get(f"{live.url}/schema/openapi.json").json()["paths"]:
        pytest.skip("this server has no linked-warning API")

    async def three_of_one_topic(db):
        seed = Seeder(db)
        return [await seed.warning("E0005", level="medium", topic_code="T09") for _ in range(3)]

    for n, wid in enumerate(live.run(three_of_one_topic)):
        body = {"client_id": f"linked-test-{n:04d}", "result": "true", "cause": "属实", "measures": "整改"}
        assert live.api("POST", f"/api/warnings/{wid}/verifications", "manager", json=body).status_code == 201
        # a finding counts once the head confirmed it
        assert live.api("POST", f"/api/warnings/{wid}/confirm", "head").status_code == 200
    letters = live.api("GET", "/api/linked", "head").json()
    assert [letter["rule"] for letter in letters] == ["repeat"]

    page = phone().new_page()
    sign_in(page, "head")
    page.goto("/#/queue")
    page.get_by_role("link", name="风险函告书（联动预警） 1 份等待风险报告").click()
    expect(page.get_by_role("heading", name="风险函告书（联动预警）")).to_be_visible()
    page.locator("a.wcard").click()
    expect(page.locator(".facts")).to_contain_text("同一主题三次属实预警")
    page.get_by_label("风险确认情况").fill("三户换表后电量为零属实")
    page.get_by_label("风险发生原因及相关说明").fill("换表流程缺少复核环节，已排查同类客户 12 户")
    page.get_by_label("采取的处理措施").fill("增加换表后 3 日内复核读数")
    shots(page, "linked-report", full_page=True)
    page.get_by_role("button", name="提交风险报告单").click()
    # the report is a B.14 form: the head signs the head's opinion on it next
    expect(page.get_by_role("heading", name="风险报告单", exact=True)).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("增加换表后 3 日内复核读数")
    stored = live.api("GET", f"/api/linked/{letters[0]['id']}", "head").json()
    assert stored["state"] == "answered" and stored["report_measures"] == "增加换表后 3 日内复核读数"
