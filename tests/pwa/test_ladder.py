"""The personal ladder on the phone (issue 16): the person finds their case under 我的, reads
what is asked and by when, answers within the deadline (measures required for an inquiry),
appeals, and reads the answer to the appeal; every step in words."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.pwa.helpers import person_id, signed_in
from tests.pwa.test_explained import visible_faults

CASE = {
    "tier": "inquiry",
    "subject": "关于多户零电量长期未核查的廉情预警质询",
    "problem": "群众反映：辖区内多户用户电量长期为零，未见核查记录。",
    "requirements": "请说明原因并提出整改措施。",
}


def test_the_person_answers_and_appeals_a_case_on_the_phone(live, phone, shots):
    made = live.api(
        "POST", "/api/ladder", "inspector", json={**CASE, "person_id": person_id(live, "manager")}
    )
    assert made.status_code in (200, 201), made.text
    case = made.json()

    _, page, problems = signed_in(phone, "manager")
    page.locator("nav.tabs a", has_text="我的").click()
    page.get_by_role("link", name="我的廉情预警").click()
    card = page.locator(f'a.wcard[href="#/ladder/{case["id"]}"]')
    expect(card.locator(".badge")).to_have_text("质询")
    expect(card).to_contain_text("请于")
    expect(card).to_contain_text("前答复并提出整改措施")
    expect(card).to_contain_text("待答复")
    shots(page, "ladder-list")
    assert visible_faults(page.locator("main").inner_text()) == []
    card.click()

    expect(page.get_by_role("heading", name=CASE["subject"])).to_be_visible()
    expect(page.locator("main")).to_contain_text(CASE["problem"])
    form = page.get_by_role("form", name="答复质询")
    form.get_by_role("button", name="提交答复").click()
    expect(page.locator("#ladder-text-error")).to_have_text("请填写说明")
    form.get_by_label("说明").fill("经核查，系表计故障未及时报修")
    expect(page.locator("#ladder-text-error")).to_be_hidden()
    form.get_by_role("button", name="提交答复").click()
    expect(page.locator("#ladder-measures-error")).to_be_visible()
    form.get_by_label("整改措施").fill("已更换表计，建立零电量月度核查台账")
    shots(page, "ladder-answer-form", full_page=True)
    form.get_by_role("button", name="提交答复").click()
    expect(page.locator(".ladder-head .chip")).to_have_text("已答复")
    expect(page.locator("ol.timeline")).to_contain_text("书面答复")
    filed = live.api("GET", f"/api/ladder/{case['id']}", "inspector").json()
    assert filed["case"]["state"] == "answered"
    assert filed["steps"][-1]["text"] == "经核查，系表计故障未及时报修"

    page.locator("details.ladder-appeal summary").click()
    page.get_by_label("申诉理由").fill("表计故障已于上月报修，有工单为证")
    page.get_by_role("button", name="提交申诉").click()
    expect(page.locator("main")).to_contain_text("等待答复")
    (appeal,) = live.api("GET", f"/api/ladder/{case['id']}", "inspector").json()["appeals"]
    answer = {"answer": "工单时间晚于反映时间，申诉不成立", "outcome": "rejected"}
    r = live.api("POST", f"/api/ladder/{case['id']}/appeals/{appeal['id']}/answer", "inspector", json=answer)
    assert r.status_code in (200, 201), r.text
    page.reload()
    expect(page.locator("main")).to_contain_text("申诉不成立 — 工单时间晚于反映时间，申诉不成立")
    shots(page, "ladder-case-file", full_page=True)
    faults = visible_faults(page.locator("main").inner_text())
    assert faults == [], faults
    assert problems == []
