"""The "1+3" evaluation and the integrity archive on the phone (issue 20), one walk at 390×844 in
zh-CN: the head files a tag with no signal (stored once when the network is back), reads a round's
explained results; the person reads the tag about them, comments, and opens their archive."""

from __future__ import annotations

from playwright.sync_api import expect

from backend.evaluation.demo import library
from tests.pwa.helpers import person_id, signed_in
from tests.pwa.shell import api_codes, missing_from_catalogs
from tests.pwa.test_explained import visible_faults
from tests.pwa.test_interviews import draw, fill_record


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


def test_every_error_code_of_the_evaluation_and_archive_apis_is_in_both_catalogs():
    codes = api_codes("evaluation") | api_codes("dossier")
    assert {"not_filer", "evidence_required", "client_id_reused"} <= codes
    assert missing_from_catalogs(codes) == {"zh-CN.js": [], "en.js": []}


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
    complaint = {"client_id": "pwa-complaint-0001", "category_id": category, "person_id": manager,
                 "tag_code": "complaint", "occurred_on": day, "note": "索要好处属实"}  # fmt: skip
    assert live.api("POST", "/api/evaluation/tags", "inspector", json=complaint).status_code == 201
    r = live.api("POST", f"/api/evaluation/categories/{category}/rounds", "inspector",
                 json={"name": "2026年第四季度", "period_start": day, "period_end": day})  # fmt: skip
    assert r.status_code == 201, r.text
    page.goto(f"/#/evaluation/rounds/{r.json()['id']}")
    card = page.locator("li.ev-score")
    expect(card).to_contain_text("55")  # 60 + 5 − 10
    card.locator("summary").click()
    expect(card.locator(".ev-explain")).to_contain_text("主动拒收礼品礼金：1次 × 系数 5（加分）= +5")
    shots(page, "evaluation-round", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []

    # the talk the result suggests becomes an interview record in one step
    page.goto("/#/evaluation")
    expect(page.locator("li.ev-talk")).to_contain_text("存在廉洁问题")
    shots(page, "evaluation-hub-head", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []
    page.locator("li.ev-talk").get_by_role("link", name="记录谈话").click()
    expect(page.get_by_role("heading", name="记录约谈")).to_be_visible()
    expect(page.locator("#iv-person")).to_have_value(str(manager))
    expect(page.locator("#iv-warnings")).to_contain_text("第一种形态谈话")
    page.locator("#iv-add-interviewer").select_option(index=1)
    fill_record(page, "所长办公室")
    pads = page.locator("canvas.sigpad")
    for i in range(3):
        draw(page, pads.nth(i), 1.1 + i)
    shots(page, "evaluation-talk-interview", full_page=True)
    page.get_by_role("button", name="提交约谈记录").click()
    expect(page.get_by_role("heading", name="约谈记录")).to_be_visible()
    assert live.api("GET", "/api/evaluation/talks", "head").json() == []
    (record,) = live.api("GET", "/api/interviews", "head").json()
    assert record["person_id"] == manager and record["place"] == "所长办公室"

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
    expect(mine.locator("main")).to_contain_text("所长办公室")  # the interview
    expect(mine.locator("main")).not_to_contain_text("廉洁投诉查实")  # confidential
    shots(mine, "dossier", full_page=True)
    faults = visible_faults(mine.locator("main").inner_text())
    assert faults == [], faults
    assert problems == [] and seen == []
