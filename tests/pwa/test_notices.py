"""Notifications say something (issue 16): each row names the topic (or the case), its level (or
tier) and what happened, no two rows of different warnings alike; a ladder notice has its text
and opens the case."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.pwa.helpers import person_id, signed_in
from tests.pwa.test_explained import TOPIC, seed, visible_faults

CASE = {
    "tier": "notice",
    "subject": "关于抄表数据异常的廉情预警告知",
    "problem": "群众反映：部分用户电量长期为零，抄表数据与现场不符。",
    "requirements": "请于期限内书面说明情况。",
}


def open_case(live: Any) -> int:
    body = {**CASE, "person_id": person_id(live, "manager")}
    made = live.api("POST", "/api/ladder", "inspector", json=body)
    assert made.status_code in (200, 201), made.text
    return int(made.json()["id"])


def test_each_notification_says_what_happened_to_what(live, phone, shots):
    made = seed(live)
    note = {"note": "请尽快处理"}
    urged = live.api("POST", f"/api/warnings/{made['overdue']}/urge", "inspector", json=note)
    assert urged.status_code == 200, urged.text
    case_id = open_case(live)

    _, page, problems = signed_in(phone, "manager")
    page.locator("nav.tabs a", has_text="消息").click()
    rows = page.locator("ul.notices a.notice")
    expect(rows.first).to_be_visible()
    texts = rows.all_inner_texts()
    assert len(texts) >= 13  # eleven new warnings, the chase, the case
    assert len(set(texts)) == len(texts), "two rows read the same"

    ladder = rows.filter(has_text=CASE["subject"])
    expect(ladder).to_contain_text("收到廉情预警，请按期书面说明")
    expect(ladder.locator(".badge")).to_have_text("告知")
    expect(ladder).to_have_attribute("href", f"#/ladder/{case_id}")
    chased = rows.filter(has_text="预警被催办")
    expect(chased).to_contain_text(TOPIC["name"])
    expect(chased).to_contain_text("对象 A0000040")
    expect(chased.locator(".badge")).to_have_text("高·红")
    raised = rows.filter(has_text="新预警").filter(has_text="对象 A0000003")
    expect(raised).to_contain_text(TOPIC["name"])
    shots(page, "notifications-say-something")
    faults = visible_faults(page.locator("main").inner_text())
    assert faults == [], faults

    chased.click()
    expect(page.get_by_role("heading", name=TOPIC["name"])).to_be_visible()
    assert problems == []
