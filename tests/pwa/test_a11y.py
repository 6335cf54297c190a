"""Accessibility and polish on the screens people use most: 44 px targets, named controls, text
contrast, one h1 per screen, focus moved to the heading on navigation, no layout shift."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.helpers import seed_warnings

AUDIT = (Path(__file__).parent / "audit.js").read_text("utf-8")
LAYOUT_SHIFT = """
new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve(total), 500);
})
"""


def audit(page, screen: str) -> list[str]:
    page.wait_for_timeout(300)
    return [f"{screen}: {p}" for p in page.evaluate(AUDIT)]


def test_screens_pass_the_audit_and_do_not_shift(live, phone):
    ids = seed_warnings(live)
    page = phone().new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    problems = audit(page, "login")
    sign_in(page, "manager")
    expect(page.locator("a.wcard")).to_have_count(4)
    problems += audit(page, "inbox")
    assert page.evaluate(LAYOUT_SHIFT) < 0.1

    page.locator(f'a.wcard[href="#/warnings/{ids["high"]}"]').click()
    expect(page.get_by_role("heading", name="预警", exact=True)).to_be_focused()
    problems += audit(page, "warning")
    page.get_by_role("link", name="填写核查反馈").click()
    expect(page.get_by_role("heading", name="核查反馈")).to_be_focused()
    problems += audit(page, "reply")
    # keyboard order follows the form: the finding first, then cause, then measures
    page.locator("input[name=result][value=true]").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("原因分析")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("整改措施")).to_be_focused()

    for route, title in [("#/notifications", "消息"), ("#/me", "我的")]:
        page.goto("/" + route)
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        problems += audit(page, route)

    boss = phone().new_page()
    sign_in(boss, "inspector")
    boss.goto("/#/dashboard")
    expect(boss.locator("figure.chart")).to_have_count(5)  # by unit, topic, specialty, post; the series
    problems += audit(boss, "dashboard")
    assert problems == []


def test_head_and_admin_screens_pass_the_audit(live, phone):
    ids = seed_warnings(live)
    answer = {"client_id": "a11y-reply-0001", "result": "not_true", "cause": "现场核查无异常"}
    sent = live.api("POST", f"/api/warnings/{ids['medium']}/verifications", "manager", json=answer)
    assert sent.status_code == 201, sent.text
    head = phone().new_page()
    sign_in(head, "head")
    head.goto("/#/queue")
    expect(head.locator("a.wcard")).to_have_count(1)
    problems = audit(head, "queue")
    head.locator("a.wcard").click()
    expect(head.get_by_role("heading", name="审核核查反馈")).to_be_visible()
    problems += audit(head, "decide")

    page = phone().new_page()
    sign_in(page, "admin")
    for route, title in [
        ("#/admin", "系统管理"),
        ("#/admin/topics", "监督主题"),
        ("#/admin/import", "数据导入"),
        ("#/admin/calendar", "工作日历"),
        ("#/admin/broadcasts/new", "发布通知"),
    ]:
        page.goto("/" + route)
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        problems += audit(page, route)
    assert problems == []
