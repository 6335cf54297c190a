"""Offline on a warning never opened (issue 16): the inbox keeps its open items' details on the
phone, so with no signal a manager opens one, sees which warning the form is for, answers it, is
taken back to the inbox where it is marked 待发送, and the waiting count survives a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.helpers import replies, seed_warnings, signed_in, wait_until, warning_state
from tests.pwa.test_explained import visible_faults
from tests.pwa.test_reply_flow import fill_reply

KEPT = """async (ids) => {
  const cache = await caches.open("probity-api-v1");
  const url = (id) => location.origin + "/api/warnings/" + id + "?lang=zh-CN";
  const found = await Promise.all(ids.map((id) => cache.match(url(id))));
  return found.filter(Boolean).length;
}"""


def test_a_never_opened_warning_is_answered_offline_and_waits_in_the_inbox(live, phone, shots):
    ids = seed_warnings(live)
    ctx, page, problems = signed_in(phone, "manager")
    expect(page.locator("a.wcard")).to_have_count(4)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # under the worker's control: the inbox it answers is kept too
    expect(page.locator("a.wcard")).to_have_count(4)
    open_ids = list(ids.values())
    wait_until(page, f"() => ({KEPT})({open_ids}).then((n) => n === 4)")
    # keeping a copy is not reading: the warnings are still unread on the server
    assert {warning_state(live, wid) for wid in open_ids} == {"delivered"}
    # copies are of one's own open warnings only: the head who may read them gets none
    joined = ",".join(map(str, open_ids))
    assert live.api("GET", f"/api/warnings/kept?ids={joined}", "head").json() == []
    assert len(live.api("GET", f"/api/warnings/kept?ids={joined}", "manager").json()) == 4
    assert live.api("GET", "/api/warnings/kept?ids=1,x", "manager").status_code == 400

    ctx.set_offline(True)
    page.locator(f'a.wcard[href="#/warnings/{ids["medium"]}"]').click()
    expect(page.locator(".detail-head h1")).to_be_visible()
    expect(page.get_by_role("link", name="填写核查反馈")).to_be_visible()
    shots(page, "offline-never-opened-warning", full_page=True)
    page.get_by_role("link", name="填写核查反馈").click()
    expect(page.get_by_role("heading", name="核查反馈")).to_be_visible()
    which = page.get_by_role("region", name="回复的预警")
    expect(which).to_contain_text("中·橙")
    expect(which).to_contain_text("前处理")
    fill_reply(page)
    shots(page, "offline-reply-form-says-which-warning", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []
    page.get_by_role("button", name="提交核查反馈").click()

    # back in the inbox, the answered one marked 待发送
    expect(page.get_by_role("heading", name="我的预警")).to_be_visible()
    card = page.locator(f'a.wcard[href="#/warnings/{ids["medium"]}"]')
    expect(card.locator(".badge.waiting")).to_have_text("待发送")
    expect(page.locator("#status")).to_contain_text("1 条回复等待发送")
    shots(page, "offline-inbox-waiting")

    page.reload()  # still offline: the count is still there
    expect(page.get_by_role("heading", name="我的预警")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("1 条回复等待发送")
    expect(card.locator(".badge.waiting")).to_have_text("待发送")
    shots(page, "offline-reload-keeps-count")
    assert replies(live, ids["medium"]) == []

    ctx.set_offline(False)
    expect(page.locator("#status")).to_be_hidden(timeout=30_000)
    (stored,) = replies(live, ids["medium"])
    assert stored.result == "true" and stored.channel == "pwa"
    assert warning_state(live, ids["medium"]) == "submitted"
    assert problems == []


def test_offline_a_warning_not_kept_says_so(live, phone, shots):
    ids = seed_warnings(live)
    ctx = phone()
    page = ctx.new_page()
    sign_in(page, "manager")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto("/#/me")
    expect(page.get_by_role("heading", name="我的", exact=True)).to_be_visible()
    page.evaluate("caches.delete('probity-api-v1')")
    ctx.set_offline(True)
    page.goto(f"/#/warnings/{ids['low']}")
    expect(page.get_by_role("heading", name="当前离线")).to_be_visible()
    expect(page.locator("main .alert-warn")).to_contain_text("没有保存在本机")
    shots(page, "offline-not-kept")
