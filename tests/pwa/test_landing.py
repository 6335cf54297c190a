"""Each role lands on its work, with at most five tabs: a manager on 待办, a head on 待确认, an
inspector and a committee member on 看板, an admin on 管理; a tab with no room is under 我的."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.helpers import seed_warnings
from tests.pwa.test_explained import visible_faults

LANDING = [
    ("manager", "我的预警", "预警"),
    ("head", "待确认的核查反馈", "待确认"),
    ("inspector", "监督看板", "看板"),
    ("committee", "监督看板", "看板"),
    ("admin", "系统管理", "管理"),
]


@pytest.mark.parametrize(("username", "title", "tab"), LANDING, ids=[u for u, *_ in LANDING])
def test_each_role_lands_on_its_work_with_at_most_five_tabs(live, phone, shots, username, title, tab):
    seed_warnings(live)
    page = phone().new_page()
    sign_in(page, username)
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    tabs = page.locator("nav.tabs a")
    assert 4 <= tabs.count() <= 5
    expect(page.locator('nav.tabs a[aria-current="page"]')).to_have_text(tab)
    if username == "manager":
        expect(page.locator(".box-tabs button[aria-pressed=true]")).to_contain_text("待办")
    shots(page, f"landing-{username}")
    if title != "监督看板":  # the dashboard's words are issue 18's (another branch)
        faults = visible_faults(page.locator("main").inner_text())
        assert faults == [], faults

    # the home-screen icon opens the app's own address: the same landing screen
    page.goto("/#/notifications")
    expect(page.get_by_role("heading", name="消息", exact=True)).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()

    # a screen whose tab has no room is one tap away under 我的
    page.locator("nav.tabs a", has_text="我的").click()
    shown = set(tabs.all_inner_texts())
    if "体检" not in shown:
        page.locator("a.more-tab", has_text="体检").click()
        expect(page.get_by_role("heading", name="廉洁体检", exact=True)).to_be_visible()
