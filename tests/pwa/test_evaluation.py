"""The "1+3" evaluation and the integrity archive on the phone (issue 20), one walk at 390×844 in
zh-CN: the head files a tag with no signal (stored once when the network is back), reads a round's
explained results; the person reads the tag about them, comments, and opens their archive."""

from __future__ import annotations

from playwright.sync_api import expect

from backend.evaluation.demo import library
from tests.pwa.helpers import person_id, signed_in
from tests.pwa.test_explained import visible_faults


def seed(live) -> tuple[int, int]:
    lib = {**library(), "indicators": []}
    made = live.api(
        "POST",
        "/api/evaluation/categories",
        "inspector",
        json={"code": "yk", "name": "业扩报装", "library": lib},
    )
    assert made.status_code == 201, made.text
    category = made.json()["id"]
    manager = person_id(live, "manager")
    r = live.api("POST", f"/api/evaluation/categories/{category}/subjects", "inspector",
                 json={"person_id": manager, "evaluator_ids": [person_id(live, "head")]})  # fmt: skip
    assert r.status_code == 200, r.text
    return category, manager


def test_a_tag_filed_offline_is_stored_once_and_the_person_reads_it_and_their_archive(live, phone, shots):
    category, manager = seed(live)
    ctx, page, problems = signed_in(phone, "head")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.locator("nav.tabs a", has_text="我的").click()
    page.get_by_role("link", name="廉洁评价").click()
    expect(page.get_by_role("heading", name="数据填报")).to_be_visible()
    page.locator(f'a.wcard[href="#/evaluation/file/{category}/{manager}"]').click()
    expect(page.get_by_role("heading", name="填报评价标签")).to_be_visible()
    ctx.set_offline(True)
    page.get_by_text("主动拒收礼品礼金").click()
    page.get_by_label("事实与依据").fill("客户赠送购物卡，当场退回并报告")
    shots(page, "evaluation-file", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []
    page.get_by_role("button", name="提交标签").click()
    expect(page.locator("#status")).to_contain_text("1 条评价标签等待发送")
    assert live.api("GET", f"/api/evaluation/tags?person_id={manager}", "head").json() == []
    ctx.set_offline(False)
    expect(page.locator("#status")).to_be_hidden(timeout=30_000)
    page.evaluate("globalThis.ProbityCore.flush()")
    (tag,) = live.api("GET", f"/api/evaluation/tags?person_id={manager}", "head").json()
    assert tag["note"] == "客户赠送购物卡，当场退回并报告" and tag["channel"] == "pwa"

    day = tag["occurred_on"]
    r = live.api("POST", f"/api/evaluation/categories/{category}/rounds", "inspector",
                 json={"name": "2026年第四季度", "period_start": day, "period_end": day})  # fmt: skip
    assert r.status_code == 201, r.text
    page.goto(f"/#/evaluation/rounds/{r.json()['id']}")
    card = page.locator("li.ev-score")
    expect(card).to_contain_text("65")
    card.locator("summary").click()
    expect(card.locator(".ev-explain")).to_contain_text("主动拒收礼品礼金：1次 × 系数 5（加分）= +5")
    shots(page, "evaluation-round", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []

    _, mine, seen = signed_in(phone, "manager")
    mine.goto("/#/evaluation")
    expect(mine.locator("li.ev-tag")).to_contain_text("主动拒收礼品礼金")
    mine.get_by_label("我的意见").fill("礼品已退回，有记录")
    mine.get_by_role("button", name="提交意见").click()
    expect(mine.locator(".ev-comments")).to_contain_text("礼品已退回，有记录")
    shots(mine, "evaluation-mine", full_page=True)
    assert visible_faults(mine.locator("main").inner_text()) == []
    mine.goto("/#/me")
    mine.get_by_role("link", name="我的廉洁档案").click()
    expect(mine.get_by_role("heading", name="我的廉洁档案")).to_be_visible()
    expect(mine.locator("main")).to_contain_text("2026年第四季度")
    expect(mine.locator("main")).to_contain_text("客户经理")
    shots(mine, "dossier", full_page=True)
    faults = visible_faults(mine.locator("main").inner_text())
    assert faults == [], faults
    assert problems == [] and seen == []
