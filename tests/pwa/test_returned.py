"""A returned reply (issue 16): the head's reason is the first thing on the form, and the form
starts from the earlier answer and its photos; sent again, it carries the same photos."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.pwa.helpers import png, replies, seed_warnings, signed_in
from tests.pwa.test_explained import visible_faults

REASON = "整改措施写得太笼统，请写明追补的电费金额和对装表人员的处理"


def answered_with_a_photo(live: Any, warning_id: int) -> int:
    """The manager's first reply with one photo, from the API; returns the photo's id."""
    shot = {"file": ("meter.png", png(64, 48), "image/png")}
    uploaded = live.api("POST", f"/api/warnings/{warning_id}/photos", "manager", files=shot)
    assert uploaded.status_code == 201, uploaded.text
    photo_id = int(uploaded.json()["id"])
    first = {
        "client_id": f"returned-{warning_id:08d}",
        "result": "true",
        "cause": "换表后未及时抄录读数",
        "measures": "已整改",
        "photo_ids": [photo_id],
    }
    sent = live.api("POST", f"/api/warnings/{warning_id}/verifications", "manager", json=first)
    assert sent.status_code == 201, sent.text
    return photo_id


def test_a_returned_reply_shows_the_reason_first_and_starts_from_the_earlier_answer(live, phone, shots):
    ids = seed_warnings(live)
    wid = ids["high"]
    photo_id = answered_with_a_photo(live, wid)
    back = live.api("POST", f"/api/warnings/{wid}/return", "head", json={"reason": REASON})
    assert back.status_code == 200, back.text

    _, page, problems = signed_in(phone, "manager")
    page.locator(f'a.wcard[href="#/warnings/{wid}"]').click()
    page.get_by_role("link", name="重新填写核查反馈").click()
    expect(page.get_by_role("heading", name="核查反馈")).to_be_visible()
    reason = page.get_by_role("note", name="退回原因")
    expect(reason).to_contain_text(REASON)
    expect(reason).to_contain_text("被退回")
    # the reason is on the first screen, above the form
    box = reason.bounding_box()
    assert box is not None and box["y"] + box["height"] < 844
    assert box["y"] < page.locator("#reply-result").bounding_box()["y"]
    expect(page.locator("input[name=result][value=true]")).to_be_checked()
    expect(page.get_by_label("原因分析")).to_have_value("换表后未及时抄录读数")
    expect(page.get_by_label("整改措施")).to_have_value("已整改")
    expect(page.locator(".thumbs.editable li img")).to_have_count(1)
    shots(page, "returned-reply-prefilled")
    shots(page, "returned-reply-prefilled-full", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []

    page.get_by_label("整改措施").fill("已追补电费 3,200 元，对装表人员进行了约谈和培训")
    page.get_by_role("button", name="提交核查反馈").click()
    expect(page.locator(".reply")).to_have_count(2)
    stored = sorted(replies(live, wid), key=lambda v: v.round)
    assert [v.round for v in stored] == [1, 2]
    assert stored[1].photo_ids == [photo_id]
    assert stored[1].cause == "换表后未及时抄录读数"
    assert stored[1].measures.startswith("已追补电费")
    assert problems == []
