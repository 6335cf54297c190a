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


def test_the_inspector_issues_escalates_answers_the_appeal_and_lifts_on_the_phone(live, phone, shots):
    manager = person_id(live, "manager")
    _, page, problems = signed_in(phone, "inspector")
    page.goto(live.url + "/#/me")
    page.get_by_role("link", name="廉情预警告知、质询、建议").click()
    page.locator("#act-issue summary").click()
    form = page.get_by_role("form", name="下达告知、质询或监察建议")
    form.get_by_role("button", name="下达").click()
    expect(page.locator("#act-issue-person-error")).to_have_text("请填写这一项")
    form.get_by_label("对象").select_option(str(manager))
    form.get_by_label("标题").fill("关于抄表数据异常的廉情预警告知")
    form.get_by_label("反映的问题").fill("连续三个月抄表数据与现场不符。")
    shots(page, "ladder-issue-form", full_page=True)
    form.get_by_role("button", name="下达").click()
    card = page.locator("a.wcard", has_text="关于抄表数据异常的廉情预警告知")
    expect(card).to_contain_text("告知")
    manager_name = live.api("GET", f"/api/people/{manager}", "inspector").json()["name"]
    expect(card.locator(".whose")).to_have_text(manager_name)
    case_id = int(card.get_attribute("href").rsplit("/", 1)[1])
    card.click()

    page.locator("#act-escalate summary").click()
    escalate = page.get_by_role("form", name="升级为质询")
    escalate.get_by_label("理由").fill("逾期未书面说明")
    escalate.get_by_role("button", name="确定升级").click()
    expect(page.locator(".ladder-head .badge")).to_have_text("质询")
    expect(page.locator("ol.timeline")).to_contain_text("升级")

    r = live.api("POST", f"/api/ladder/{case_id}/appeal", "manager", json={"text": "数据异常系系统故障"})
    assert r.status_code in (200, 201), r.text
    page.reload()
    page.locator("#act-appeal summary").click()
    appeal = page.get_by_role("form", name="答复申诉")
    appeal.get_by_label("复核结论").select_option("rejected")
    appeal.get_by_label("答复意见").fill("系统日志无故障记录")
    appeal.get_by_role("button", name="提交答复").click()
    expect(page.locator("main")).to_contain_text("申诉不成立 — 系统日志无故障记录")

    page.locator("#act-visit summary").click()
    visit = page.get_by_role("form", name="登记回访")
    visit.get_by_label("回访情况").fill("已查阅整改台账，数据已更正")
    visit.get_by_label("已整改到位，解除预警").check()
    visit.get_by_role("button", name="保存回访").click()
    expect(page.locator(".ladder-head .chip")).to_have_text("已解除")
    shots(page, "ladder-inspector-case", full_page=True)
    filed = live.api("GET", f"/api/ladder/{case_id}", "inspector").json()
    assert filed["case"]["state"] == "lifted" and filed["case"]["tier"] == "inquiry"
    assert [s["kind"] for s in filed["steps"]][:2] == ["issued", "escalated"]
    faults = visible_faults(page.locator("main").inner_text())
    assert faults == [], faults
    assert problems == []
