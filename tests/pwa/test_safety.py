"""Safety on mass and destructive actions (issue 16): a sheet says what will happen before it
happens — a broadcast's real recipient count, a topic retired, a calendar day removed — and
cancelling changes nothing; a field's error goes as the user types; the home-screen label is
Chinese and Android phones are told how to install."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.helpers import offline_topic, signed_in

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def test_a_broadcast_says_how_many_people_it_reaches_before_it_goes(live, phone, shots):
    _, page, problems = signed_in(phone, "admin")
    page.goto("/#/admin/broadcasts/new")
    page.get_by_role("button", name="发布").click()
    expect(page.locator("#bc-title-error")).to_have_text("请填写标题")
    page.get_by_label("标题").fill("节")
    expect(page.locator("#bc-title-error")).to_be_hidden()  # cleared as the user types
    page.get_by_label("标题").fill("节前廉洁提醒")
    page.get_by_label("正文").fill("春节将至，请严守廉洁纪律。")
    page.get_by_label("城关供电所").check()

    unit = next(u for u in live.api("GET", "/api/units", "admin").json() if u["name"] == "城关供电所")
    targets = {"unit_ids": [unit["id"]], "roles": [], "person_ids": []}
    count = live.api("POST", "/api/broadcasts/audience", "admin", json=targets).json()["count"]
    assert count > 1

    page.get_by_role("button", name="发布").click()
    sheet = page.get_by_role("dialog", name="发布这条通知？")
    expect(sheet).to_contain_text(f"发送给 {count} 人")
    expect(sheet).to_contain_text("节前廉洁提醒")
    shots(page, "broadcast-confirm-sheet")
    sheet.get_by_role("button", name="取消").click()
    expect(sheet).to_have_count(0)
    assert live.api("GET", "/api/broadcasts", "admin").json() == []  # nothing sent

    page.get_by_role("button", name="发布").click()
    page.get_by_role("dialog", name="发布这条通知？").get_by_role("button", name=f"发送给 {count} 人").click()
    expect(page.get_by_role("heading", name="节前廉洁提醒")).to_be_visible()
    (sent,) = live.api("GET", "/api/broadcasts", "admin").json()
    assert sent["recipients"] == count
    assert problems == []


def test_retiring_a_topic_and_removing_a_calendar_day_ask_first(live, phone, shots):
    tid = offline_topic(live, "EN-SAFE")
    day = live.api(
        "POST",
        "/api/calendar/overrides",
        "admin",
        json={"day": "2027-02-11", "kind": "holiday", "note": "春节"},
    )
    assert day.status_code in (200, 201), day.text

    _, page, problems = signed_in(phone, "admin")
    page.goto("/#/admin/topics")
    topic = page.locator("li.topic").filter(has_text="竣工验收（线下）")
    topic.get_by_role("button", name="退出").click()
    sheet = page.get_by_role("dialog", name="让这个监督主题退出？")
    expect(sheet).to_contain_text("不会再产生新的预警")
    expect(sheet).to_contain_text("竣工验收（线下）")
    shots(page, "topic-retire-sheet")
    sheet.get_by_role("button", name="取消").click()
    assert live.api("GET", f"/api/topics/{tid}", "admin").json()["state"] == "proposed"
    topic.get_by_role("button", name="退出").click()
    page.get_by_role("dialog", name="让这个监督主题退出？").get_by_role("button", name="退出").click()
    expect(page.locator("li.topic").filter(has_text="竣工验收（线下）")).to_contain_text("已退出")
    assert live.api("GET", f"/api/topics/{tid}", "admin").json()["state"] == "retired"

    page.goto("/#/admin/calendar?year=2027")
    page.locator(".cal-row").get_by_role("button").click()
    sheet = page.get_by_role("dialog", name="删除 2月11日（周四） 的日历调整？")
    expect(sheet).to_contain_text("春节")
    shots(page, "calendar-remove-sheet")
    sheet.get_by_role("button", name="取消").click()
    assert len(live.api("GET", "/api/calendar/overrides?year=2027", "admin").json()) == 1
    page.locator(".cal-row").get_by_role("button").click()
    page.get_by_role("dialog").get_by_role("button", name="删除").click()
    expect(page.locator(".cal-row")).to_have_count(0)
    assert live.api("GET", "/api/calendar/overrides?year=2027", "admin").json() == []
    assert problems == []


def test_the_home_screen_label_is_chinese_and_android_is_told_how_to_install(live, phone, shots):
    manifest = json.loads((Path(__file__).resolve().parents[2] / "pwa" / "manifest.json").read_text("utf-8"))
    assert manifest["short_name"] == "廉洁预警"
    page = phone(user_agent=ANDROID).new_page()
    sign_in(page, "manager")
    page.goto("/#/me")
    guide = page.locator(".install-android")
    expect(guide).to_contain_text("安装到桌面")
    expect(guide.locator("ol li")).to_have_count(3)
    expect(guide).to_contain_text("安装应用")
    shots(page, "android-install-guidance")
