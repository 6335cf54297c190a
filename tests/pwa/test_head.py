"""The head's approval on a phone (issue 16): whose warning each reply is, photos full screen with
close and swipe (never a blob: tab), 确认并下一条 with a few seconds to undo (nothing is sent
before the undo bar expires), batch confirm of chosen replies after a sheet saying what will
happen, and 办结 explained before it is done."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.pwa.helpers import png, seed_warnings, signed_in, warning_state
from tests.pwa.test_explained import visible_faults

HOLD_S = 5  # undo.js HOLD_MS


def reply(live: Any, warning_id: int, *, photos: int = 0) -> None:
    ids = []
    for n in range(photos):
        shot = {"file": (f"p{n}.png", png(80 + n, 60), "image/png")}
        up = live.api("POST", f"/api/warnings/{warning_id}/photos", "manager", files=shot)
        assert up.status_code == 201, up.text
        ids.append(up.json()["id"])
    body = {
        "client_id": f"head-{warning_id:08d}",
        "result": "true",
        "cause": "抄表员漏抄",
        "measures": "已补抄",
        "photo_ids": ids,
    }
    sent = live.api("POST", f"/api/warnings/{warning_id}/verifications", "manager", json=body)
    assert sent.status_code == 201, sent.text


def test_head_reviews_with_photo_viewer_confirm_and_next_undo_and_batch(live, phone, shots):
    ids = seed_warnings(live)
    reply(live, ids["high"], photos=2)
    reply(live, ids["medium"])
    reply(live, ids["low"])
    name = live.api("GET", "/api/auth/me", "manager").json()["name"]

    ctx, page, problems = signed_in(phone, "head")
    expect(page.get_by_role("heading", name="待确认的核查反馈")).to_be_visible()
    cards = page.locator("a.wcard")
    expect(cards).to_have_count(3)
    for i in range(3):
        expect(cards.nth(i).locator(".wcard-person")).to_contain_text(name)
    shots(page, "head-queue-names")
    assert visible_faults(page.locator("main").inner_text()) == []

    # photos full screen, in the page
    page.locator(f'a.wcard[href="#/warnings/{ids["high"]}"]').click()
    expect(page.get_by_role("heading", name="审核核查反馈")).to_be_visible()
    page.get_by_role("button", name="查看照片 1").click()
    viewer = page.get_by_role("dialog", name="照片查看")
    expect(viewer).to_be_visible()
    expect(viewer.locator(".viewer-count")).to_have_text("第 1 张，共 2 张")
    expect(viewer.locator("img")).to_have_attribute("src", re.compile("^blob:"))
    shots(page, "head-photo-viewer")
    box = viewer.bounding_box()
    assert box is not None and box["width"] == 390 and box["height"] == 844  # full screen
    page.mouse.move(300, 420)
    page.mouse.down()
    page.mouse.move(80, 420, steps=5)
    page.mouse.up()
    expect(viewer.locator(".viewer-count")).to_have_text("第 2 张，共 2 张")
    viewer.get_by_role("button", name="关闭").click()
    expect(viewer).to_have_count(0)
    assert len(ctx.pages) == 1  # no blob: tab

    # 确认并下一条, then 撤销: nothing was sent
    page.get_by_role("button", name="确认并下一条").click()
    undo = page.locator("#undo")
    expect(undo).to_contain_text("已确认 1 条")
    expect(page.get_by_role("heading", name="审核核查反馈")).to_be_visible()
    assert page.url.endswith(f"#/warnings/{ids['medium']}") or page.url.endswith(f"#/warnings/{ids['low']}")
    shots(page, "head-confirm-next-undo-bar")
    undo.get_by_role("button", name="撤销").click()
    expect(undo).to_be_hidden()
    expect(page).to_have_url(f"{live.url}/#/warnings/{ids['high']}")
    page.wait_for_timeout((HOLD_S + 1) * 1000)
    assert warning_state(live, ids["high"]) == "submitted"

    # 确认并下一条 again: sent when the bar expires
    page.get_by_role("button", name="确认并下一条").click()
    expect(undo).to_be_visible()
    assert warning_state(live, ids["high"]) == "submitted"  # held, not sent yet
    expect(undo).to_be_hidden(timeout=(HOLD_S + 5) * 1000)
    page.wait_for_timeout(500)
    assert warning_state(live, ids["high"]) == "confirmed"

    # batch: the two left, chosen, a sheet says what will happen
    page.goto("/#/queue")
    expect(cards).to_have_count(2)
    batch = page.locator("button.batch-confirm")
    expect(batch).to_be_disabled()
    for label in page.locator("label.pick").all():
        label.click()
    expect(batch).to_have_text("确认所选 2 条")
    batch.click()
    sheet = page.get_by_role("dialog", name="确认这 2 条核查反馈？")
    expect(sheet.locator("li")).to_have_count(2)
    expect(sheet).to_contain_text(name)
    shots(page, "head-batch-sheet")
    sheet.get_by_role("button", name="确认所选 2 条").click()
    expect(page.locator("main")).to_contain_text("没有等待确认的核查反馈")
    expect(undo).to_contain_text("已确认 2 条")
    shots(page, "head-batch-undo-bar")
    expect(undo).to_be_hidden(timeout=(HOLD_S + 5) * 1000)
    page.wait_for_timeout(500)
    assert {warning_state(live, ids[k]) for k in ("medium", "low")} == {"confirmed"}

    # 办结 says what it does, and asks first
    page.goto(f"/#/warnings/{ids['high']}")
    expect(page.locator(".decide .hint")).to_contain_text("办结：")
    page.get_by_role("button", name="办结").click()
    closing = page.get_by_role("dialog", name="办结这条预警？")
    expect(closing).to_be_visible()
    shots(page, "head-close-sheet")
    closing.get_by_role("button", name="取消").click()
    assert warning_state(live, ids["high"]) == "confirmed"
    page.get_by_role("button", name="办结").click()
    page.get_by_role("dialog", name="办结这条预警？").get_by_role("button", name="办结").click()
    expect(page.locator(".detail-head .chip")).to_have_text("已办结")
    assert warning_state(live, ids["high"]) == "closed"
    assert problems == []
