"""The risk portrait on the phone at 390×844 zh-CN: high-risk posts and people under close watch for
an inspector, counted by hand (tests/stats/conftest.py, years in post weighed 0); heads see no people."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.test_a11y import audit
from tests.pwa.test_dashboard import no_identifiers
from tests.stats.conftest import seed_known

QUARTER = "/#/portrait?by=post&at=2026-11-15"


def test_inspector_reads_high_risk_posts_and_people(live, phone, shots):
    live.run(seed_known)
    standing = {"years_in_post": 0, "education_shortfall": 0}
    r = live.api("PUT", "/api/portrait/weights", "admin", json={"weights": standing})
    assert r.status_code == 200, r.text
    page = phone().new_page()
    sign_in(page, "inspector")
    page.goto("/#/dashboard?period=month&at=2026-11-15")
    page.get_by_role("link", name=re.compile("^风险画像")).click()
    page.goto(QUARTER)
    expect(page.get_by_role("heading", name="风险高发岗位")).to_be_visible()
    rows = page.locator("li.portrait-row")
    # 客户经理 (the manager, Q4: w1-w5, w10-w12, the letter, the notice): true red 2 ×5, red 3 ×2,
    # orange 3 ×1, yellow 2 ×0.5, overdue 2 ×2, letter ×3, notice ×3
    expect(rows.nth(0)).to_contain_text("第 1 名 客户经理")
    expect(rows.nth(0).locator(".score")).to_have_text("30")
    expect(rows.nth(0)).to_contain_text("较上季度上升（上季度 0）")
    expect(rows.nth(0)).to_contain_text("属实红色预警 2，计 10 分")
    expect(rows.nth(1)).to_contain_text("第 2 名 供电所所长")  # w6 and w7
    expect(rows.nth(1).locator(".score")).to_have_text("9.5")
    no_identifiers(page)
    shots(page, "portrait-posts", full_page=True)
    assert audit(page, "portrait") == []
    page.get_by_role("button", name="人员").click()
    expect(page.get_by_role("heading", name="重点监督人员")).to_be_visible()
    expect(rows).to_have_count(3)
    no_identifiers(page)


def test_head_sees_posts_not_people(live, phone):
    live.run(seed_known)
    page = phone().new_page()
    sign_in(page, "head")
    page.goto(QUARTER)
    expect(page.get_by_role("heading", name="风险高发岗位")).to_be_visible()
    expect(page.locator(".segmented button")).to_have_count(2)  # departments and posts, no people
    # the station's heads' post holds w6 only (w7 is 青山供电所's): yellow 0.5 + overdue 2, plus
    # years in post (0.5 a year) and 8 hours of education short (1 an hour) at the default weights
    score = float(
        page.locator("li.portrait-row").filter(has_text="供电所所长").locator(".score").inner_text()
    )
    assert 2.5 + 8 < score < 2.5 + 8 + 0.5 * 40
    page.get_by_role("button", name="部门").click()
    expect(page.locator("li.portrait-row")).to_have_count(1)
    expect(page.locator("li.portrait-row")).to_contain_text("城关供电所")
