"""An inspector acts on overdue work from the phone (issue 16): 催办 and 督办 on a warning, each with
a note (督办 with a date), on the timeline and told to the person and the head; the 督办单 list
shows the order with its date, whose warning it is and who issued it."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from backend.kernel.timeutil import SHANGHAI, utcnow
from tests.pwa.helpers import person_id, seed_warnings, signed_in
from tests.pwa.test_explained import visible_faults
from tests.warnings.conftest import told


def test_inspector_chases_and_supervises_an_overdue_warning(live, phone, shots):
    ids = seed_warnings(live)
    wid = ids["overdue"]
    name = live.api("GET", "/api/auth/me", "manager").json()["name"]
    _, page, problems = signed_in(phone, "inspector")
    page.locator("nav.tabs a", has_text="预警").click()
    page.get_by_role("button", name="本单位").click()
    card = page.locator(f'a.wcard[href="#/warnings/{wid}"]')
    expect(card).to_contain_text("已逾期")
    expect(card).to_contain_text(name)
    card.click()

    panel = page.get_by_role("region", name="督促办理")
    panel.get_by_role("button", name="催办", exact=True).click()
    note = panel.get_by_label("催办说明")
    panel.get_by_role("button", name="发送催办").click()
    expect(page.locator("#urge-note-urge-error")).to_have_text("请填写说明")
    note.fill("已逾期十天，请本周五前提交核查反馈")
    expect(page.locator("#urge-note-urge-error")).to_be_hidden()  # cleared as the user types
    shots(page, "inspector-urge-form", full_page=True)
    panel.get_by_role("button", name="发送催办").click()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("催办")
    expect(timeline).to_contain_text("已逾期十天，请本周五前提交核查反馈")
    # who chased, by name: the manager's timeline names the inspector
    inspector = live.api("GET", "/api/auth/me", "inspector").json()["name"]
    steps = live.api("GET", f"/api/warnings/{wid}", "manager").json()["timeline"]
    assert [s["actor_name"] for s in steps if s["kind"] == "urged"] == [inspector]

    due = utcnow().astimezone(SHANGHAI).date() + timedelta(days=7)
    page.get_by_role("region", name="督促办理").get_by_role("button", name="督办", exact=True).click()
    page.get_by_label("督办要求").fill("限期完成核查并整改，逾期将约谈")
    page.get_by_label("办理期限").fill(due.isoformat())
    shots(page, "inspector-supervise-form", full_page=True)
    page.get_by_role("button", name="下达督办单").click()
    expect(timeline).to_contain_text("限期完成核查并整改，逾期将约谈")
    shots(page, "inspector-warning-timeline", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []

    manager, head = person_id(live, "manager"), person_id(live, "head")
    assert live.run(lambda db: told(db, "warning.urged")) == {manager: "subject", head: "head"}
    assert live.run(lambda db: told(db, "warning.supervision_order")) == {manager: "subject", head: "head"}

    page.locator("nav.tabs a", has_text="待确认").click()
    page.get_by_role("link", name="督办单").click()
    expect(page.get_by_role("heading", name="督办单")).to_be_visible()
    order = page.locator(f'a.wcard[href="#/warnings/{wid}"]')
    weekday = "一二三四五六日"[due.weekday()]
    expect(order).to_contain_text(f"督办期限 {due.month}月{due.day}日（周{weekday}）")
    expect(order).to_contain_text(name)
    expect(order).to_contain_text("限期完成核查并整改")
    shots(page, "inspector-supervision-orders")
    assert visible_faults(page.locator("main").inner_text()) == []
    assert problems == []
