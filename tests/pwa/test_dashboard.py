"""The dashboard draws the server's statistics (no tally in the browser) and every figure opens the
list behind it; at 390×844 in zh-CN for an inspector and a head, with no identifier on screen."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.test_a11y import audit
from tests.stats.conftest import seed_known

NOVEMBER = "/#/dashboard?period=month&at=2026-11-15"
#: what a reader must never see: topic codes, snake_case keys, ISO dates, #ids, English words
IDENTIFIERS = re.compile(r"\bT0\d\b|[a-z]+_[a-z_]+|\d{4}-\d{2}-\d{2}|#\d+|\b(?:high|medium|low|open|true)\b")


def no_identifiers(page: Any) -> None:
    text = page.locator("main").inner_text()
    assert not IDENTIFIERS.findall(text), IDENTIFIERS.findall(text)


def tile(page: Any, label: str) -> Any:
    return page.locator("a.tile").filter(has=page.locator(".tile-label", has_text=re.compile(f"^{label}$")))


def test_inspector_dashboard_figures_and_their_lists(live, phone, shots):
    live.run(seed_known)
    page = phone().new_page()
    sign_in(page, "inspector")
    page.goto(NOVEMBER)
    expect(page.get_by_role("heading", name="监督看板")).to_be_visible()
    expect(page.locator(".period-label")).to_have_text("2026年11月")
    # counted by hand in tests/stats/conftest.py: w1-w7 in 东湖县供电公司
    expect(tile(page, "新增预警").locator(".tile-value")).to_have_text("7")
    expect(tile(page, "新增预警")).to_contain_text("较上期 +5")  # October: w10, w11
    expect(tile(page, "在办预警").locator(".tile-value")).to_have_text("3")
    expect(tile(page, "已逾期").locator(".tile-value")).to_have_text("2")
    expect(tile(page, "待确认").locator(".tile-value")).to_have_text("1")
    expect(tile(page, "已办结").locator(".tile-value")).to_have_text("3")
    expect(tile(page, "属实率").locator(".tile-value")).to_have_text("75%")
    by_unit = page.locator("figure.chart").filter(has_text="按单位")
    expect(by_unit.locator("table")).to_contain_text("城关供电所")
    expect(by_unit.locator("table")).to_contain_text("青山供电所")
    by_topic = page.locator("figure.chart").filter(has_text="按主题")
    expect(by_topic.locator("table")).to_contain_text("表计装拆后电量为零")
    red = page.locator("section.iv-ratio .ratio-box").nth(0)
    expect(red).to_contain_text("已约谈 2 / 属实 3 条，目标 80%")
    expect(page.locator("section.others")).to_contain_text("1 份，已报告 0 份，逾期 1 份")
    no_identifiers(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shots(page, "dashboard-inspector", full_page=True)
    assert audit(page, "dashboard") == []

    # a tile opens its list: the overdue warnings of November
    tile(page, "已逾期").click()
    expect(page.get_by_role("heading", name="预警清单")).to_be_visible()
    expect(page.locator(".list-about")).to_have_text("筛选：2026年11月 · 已逾期")
    expect(page.locator("ul.wlist a.wcard")).to_have_count(2)
    expect(page.locator("main p[role=status]")).to_have_text("共 2 条")
    no_identifiers(page)
    shots(page, "dashboard-list-overdue")

    # a bar opens its list: the warnings of 青山供电所
    page.go_back()
    page.locator("figure.chart").filter(has_text="按单位").locator("a.bar-link").filter(
        has_text="青山供电所"
    ).click()
    expect(page.locator(".list-about")).to_have_text("筛选：2026年11月 · 青山供电所")
    expect(page.locator("ul.wlist a.wcard")).to_have_count(1)

    # a column of the series opens its month: October
    page.go_back()
    series = page.locator("figure.chart").filter(has_text="近 6 个月")
    series.get_by_role("link", name="10月: 2").click()
    expect(page.locator(".list-about")).to_have_text("筛选：2026年10月")
    expect(page.locator("ul.wlist a.wcard")).to_have_count(2)

    # the previous period by its arrow
    page.go_back()
    page.get_by_role("button", name="上一期").click()
    expect(page.locator(".period-label")).to_have_text("2026年10月")
    expect(tile(page, "新增预警").locator(".tile-value")).to_have_text("2")


def test_head_dashboard_shows_only_the_station(live, phone, shots):
    live.run(seed_known)
    page = phone().new_page()
    sign_in(page, "head")
    page.goto(NOVEMBER)
    expect(tile(page, "新增预警").locator(".tile-value")).to_have_text("6")
    expect(tile(page, "按时办结率").locator(".tile-value")).to_have_text("60%")
    main = page.locator("main")
    expect(main).to_contain_text("城关供电所")
    expect(main).not_to_contain_text("青山供电所")
    expect(main).not_to_contain_text("河口供电所")
    by_post = page.locator("figure.chart").filter(has_text="按岗位")
    expect(by_post.locator("table")).to_contain_text("客户经理")
    no_identifiers(page)
    shots(page, "dashboard-head", full_page=True)
    # the true warnings of a topic, from its precision bar
    page.locator("section.card").filter(has_text="各主题属实率").locator("a.ratio-link").first.click()
    expect(page.locator(".list-about")).to_contain_text("表计装拆后电量为零")
    expect(page.locator("ul.wlist a.wcard")).to_have_count(2)
    no_identifiers(page)
