"""A manager replies from the phone with no signal; the reply goes once when the signal returns;
the head confirms it. A lost answer is replayed under the same client id and stored once."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.helpers import jpeg_size, photos, png, replies, seed_warnings, warning_state

RED, ORANGE, YELLOW = "rgb(198, 40, 40)", "rgb(194, 65, 12)", "rgb(242, 183, 5)"


def fill_reply(page, *, photo: bytes | None = None) -> None:
    page.locator("input[name=result][value=true]").check()
    page.get_by_label("原因分析").fill("换表后未及时抄录读数，系统按零电量结算")
    page.get_by_label("整改措施").fill("已补抄读数并追补电费，对装表人员进行培训")
    if photo is not None:
        page.locator("input.file-input[multiple]").set_input_files(
            {"name": "meter.png", "mimeType": "image/png", "buffer": photo}
        )
        expect(page.locator(".thumbs.editable li")).to_have_count(1)


def test_offline_reply_is_sent_once_and_the_head_confirms(live, phone, shots):
    ids = seed_warnings(live)
    ctx = phone()
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    sign_in(page, "manager")
    expect(page.get_by_role("heading", name="我的预警")).to_be_visible()
    expect(page.locator("a.wcard")).to_have_count(4)
    colours = {
        level: page.locator(f"a.wcard.lv-{level}:not(.overdue)").first.evaluate(
            "e => getComputedStyle(e).borderLeftColor"
        )
        for level in ("high", "medium", "low")
    }
    assert colours == {"high": RED, "medium": ORANGE, "low": YELLOW}
    overdue = page.locator(f'a.wcard[href="#/warnings/{ids["overdue"]}"]')
    expect(overdue).to_have_class("wcard lv-medium overdue")
    expect(overdue).to_contain_text("已逾期")
    expect(page.locator(f'a.wcard[href="#/warnings/{ids["low"]}"] .provisional')).to_have_text("暂定")
    expect(page.locator(".level-tabs")).to_contain_text("高·红")
    shots(page, "inbox-zh")

    page.locator(f'a.wcard[href="#/warnings/{ids["high"]}"]').click()
    expect(page.get_by_role("heading", name="预警", exact=True)).to_be_visible()  # a topic without a name
    expect(page.locator("main")).not_to_contain_text("usage_before")  # unlabelled evidence is not shown
    shots(page, "warning-detail", full_page=True)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    page.get_by_role("link", name="填写核查反馈").click()
    expect(page.get_by_role("heading", name="核查反馈")).to_be_visible()
    ctx.set_offline(True)
    fill_reply(page, photo=png(3000, 2000))
    shots(page, "reply-form-offline", full_page=True)
    page.get_by_role("button", name="提交核查反馈").click()

    expect(page.locator("#status")).to_contain_text("1 条回复等待发送")
    # back in the inbox, the answered warning marked 待发送; its page says the reply waits
    expect(page.locator(f'a.wcard[href="#/warnings/{ids["high"]}"] .badge.waiting')).to_have_text("待发送")
    page.locator(f'a.wcard[href="#/warnings/{ids["high"]}"]').click()
    expect(page.locator("section.alert-warn")).to_contain_text("保存在本机")
    expect(page.locator(f'a[href="#/warnings/{ids["high"]}/reply"]')).to_have_count(0)
    shots(page, "waiting-to-send")
    assert replies(live, ids["high"]) == []

    ctx.set_offline(False)
    expect(page.locator("#status")).to_be_hidden(timeout=30_000)
    stored = replies(live, ids["high"])
    assert len(stored) == 1
    reply = stored[0]
    assert reply.result == "true" and reply.channel == "pwa"
    assert reply.measures.startswith("已补抄读数")
    assert len(reply.photo_ids) == 1
    # once more: app open and an explicit flush change nothing
    page.reload()
    expect(page.get_by_role("heading", name="预警", exact=True)).to_be_visible()
    page.evaluate("globalThis.ProbityCore.flush()")
    assert len(replies(live, ids["high"])) == 1
    expect(page.locator(".reply")).to_have_count(1)
    expect(page.locator(".reply")).to_contain_text("属实")
    shots(page, "sent-once", full_page=True)

    # the photo was shrunk on the phone: a JPEG at most 1600 px on its longest side
    (photo,) = photos(live, ids["high"])
    assert photo.content_type == "image/jpeg"
    content = live.api("GET", f"/api/warnings/{ids['high']}/photos/{photo.id}", "manager").content
    assert max(jpeg_size(content)) == 1600

    head = phone().new_page()
    sign_in(head, "head")
    head.goto("/#/queue")
    expect(head.get_by_role("heading", name="待确认的核查反馈")).to_be_visible()
    card = head.locator(f'a.wcard[href="#/warnings/{ids["high"]}"]')
    expect(card).to_contain_text("属实")
    shots(head, "head-queue")
    card.click()
    expect(head.get_by_role("heading", name="审核核查反馈")).to_be_visible()
    head.get_by_role("button", name="确认", exact=True).click()
    # held a few seconds behind the undo bar (tests/pwa/test_head.py), then sent
    expect(head.locator("#undo")).to_contain_text("撤销")
    expect(head.locator(".detail-head .chip")).to_have_text("已确认", timeout=15_000)
    expect(head.locator(".decision")).to_contain_text("部门负责人已确认")
    shots(head, "head-confirmed", full_page=True)
    assert warning_state(live, ids["high"]) == "confirmed"
    assert problems == []


def test_a_lost_answer_is_replayed_and_stored_once(live, phone):
    ids = seed_warnings(live)
    page = phone(service_workers="block").new_page()
    bodies: list[dict] = []
    lost: list[int] = []

    def lose_the_first_answer(route):
        bodies.append(json.loads(route.request.post_data or "{}"))
        if len(bodies) == 1:
            stored = route.fetch()  # the server stores it ...
            route.abort("connectionreset")  # ... and the phone never hears back
            lost.append(stored.status)
        else:
            route.continue_()

    page.route("**/api/warnings/*/verifications", lose_the_first_answer)
    sign_in(page, "manager")
    page.goto(f"/#/warnings/{ids['medium']}/reply")
    fill_reply(page)
    page.get_by_role("button", name="提交核查反馈").click()
    expect(page.locator("#status")).to_contain_text("1 条回复等待发送")
    while not lost:
        page.wait_for_timeout(50)
    assert lost == [201]
    assert len(replies(live, ids["medium"])) == 1
    page.wait_for_timeout(300)
    expect(page.locator("#status")).to_contain_text("1 条回复等待发送")

    page.locator("#status").get_by_role("button", name="立即发送").click()
    expect(page.locator("#status")).to_be_hidden()
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    (stored,) = replies(live, ids["medium"])
    assert stored.client_id == bodies[0]["client_id"]


def test_a_refused_reply_says_why_in_the_users_language(live, phone):
    ids = seed_warnings(live)
    # no service worker: its Background Sync flush could send the reply first, and its requests
    # do not pass through page.route (the refusal below would never be seen)
    page = phone(service_workers="block").new_page()
    sign_in(page, "manager")
    page.goto(f"/#/warnings/{ids['low']}/reply")
    page.locator("input[name=result][value=true]").check()
    page.get_by_role("button", name="提交核查反馈").click()
    # checked on the phone first: the fields say what is missing
    expect(page.locator("#reply-cause-error")).to_have_text("请填写原因分析")
    expect(page.locator("#reply-measures-error")).to_have_text("结论为“属实”时必须填写整改措施")
    expect(page.get_by_label("原因分析")).to_be_focused()
    # the server's refusal is shown from its code: the warning was closed meanwhile
    page.get_by_label("原因分析").fill("现场核查")
    page.get_by_label("整改措施").fill("整改")
    page.route(
        "**/api/warnings/*/verifications",
        lambda route: route.fulfill(
            status=409,
            content_type="application/json",
            body=json.dumps({"code": "warning_closed", "detail": "cannot verify a warning that is closed"}),
        ),
    )
    page.get_by_role("button", name="提交核查反馈").click()
    expect(page.locator(".reply-form .alert-error")).to_have_text("预警已办结")
    assert replies(live, ids["low"]) == []
