"""The integrity check-up (廉洁体检) on the phone: a manager answers one statement at a time, is
saved as they go (also with no signal), resumes where they stopped and sees their profile with
why; an inspector reads a grade, assigns care and downloads form B.2; a head sees aggregates only;
an admin opens a campaign and sets the grading policy."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select
from sqlmodel import col

from backend.checkups.content import ITEMS, SCALE
from backend.checkups.demo import load_demo
from backend.checkups.models import CheckupResult
from tests.pwa.conftest import LiveServer, sign_in
from tests.pwa.shell import api_codes, missing_from_catalogs

AUDIT = (Path(__file__).parent / "audit.js").read_text("utf-8")
STATEMENTS = [zh for _code, _dim, zh, _en, _rev in ITEMS]
LABELS = [zh for zh, _en in SCALE]
TOTAL = len(ITEMS)
GRADE = {"high": "高", "medium": "中", "low": "低"}


def test_every_error_code_of_the_check_up_api_is_in_both_catalogs():
    codes = api_codes("checkups")
    assert {"already_submitted", "weights_not_summing", "checkup_key_mismatch"} <= codes
    assert missing_from_catalogs(codes) == {"zh-CN.js": [], "en.js": []}


def demo_campaign(live: LiveServer) -> int:
    """The demo check-up: questionnaire v1, policy v1, this year's open campaign for the whole
    company with synthetic submissions by the generated staff (the named accounts answer themselves)."""

    async def go(db: Any) -> str:
        return await load_demo(db, live.settings, lambda _m: None)

    live.run(go)
    (mine,) = live.api("GET", "/api/checkups/mine", "manager").json()
    return int(mine["campaign_id"])


def audit(page: Any, screen: str) -> list[str]:
    """The shared accessibility audit, and nothing wider than the phone's screen."""
    page.wait_for_timeout(300)
    problems = list(page.evaluate(AUDIT))
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if wide > 0:
        problems.append(f"the page is {wide} px wider than the screen")
    return [f"{screen}: {p}" for p in problems]


def answer(page: Any, n: int, label: str) -> None:
    """Answer statement n (1-based) shown on screen, and wait for the next one (or the review)."""
    expect(page.locator(".ck-count")).to_have_text(f"第 {n} 题 / 共 {TOTAL} 题")
    expect(page.locator(".ck-statement")).to_have_text(STATEMENTS[n - 1])
    page.get_by_role("button", name=label, exact=True).click()
    if n < TOTAL:
        expect(page.locator(".ck-count")).to_have_text(f"第 {n + 1} 题 / 共 {TOTAL} 题")


def submit(live: LiveServer, campaign_id: int, answers: dict[str, int], user: str = "manager") -> Any:
    """Answer everything and submit through the API; the graded result."""
    saved = live.api("PUT", f"/api/checkups/mine/{campaign_id}/answers", user, json={"answers": answers})
    assert saved.status_code == 200, saved.text
    graded = live.api("POST", f"/api/checkups/mine/{campaign_id}/submit", user)
    assert graded.status_code == 200, graded.text
    return graded.json()


def saved_count(live: LiveServer, campaign_id: int, user: str = "manager") -> int:
    return int(live.api("GET", f"/api/checkups/mine/{campaign_id}", user).json()["answered"])


def test_manager_answers_resumes_after_closing_the_app_and_sees_the_profile(live, phone, shots):
    cid = demo_campaign(live)
    ctx = phone()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, "manager")
    page.get_by_role("link", name="体检").click()
    expect(page.get_by_role("heading", name="廉洁体检", exact=True)).to_be_visible()
    card = page.locator("li.ck-mine")
    expect(card).to_contain_text("进行中")
    expect(card).to_contain_text(f"已答 0 / {TOTAL} 题")
    problems = audit(page, "checkups")
    shots(page, "checkup-hub")
    page.wait_for_function("!!navigator.serviceWorker.controller")  # keeps what I read for offline use
    card.get_by_role("link", name="开始答题").click()

    expect(page.locator(".ck-statement")).to_have_text(STATEMENTS[0])
    problems += audit(page, "question")
    shots(page, "checkup-question")
    for n in range(1, 8):
        answer(page, n, LABELS[(n % 2) + 1])
    expect(page.locator(".ck-save")).to_have_text("已保存")
    assert saved_count(live, cid) == 7
    # a changed mind: back one statement, another answer replaces the first
    page.get_by_role("button", name="上一题").click()
    expect(page.locator(".ck-count")).to_have_text(f"第 7 题 / 共 {TOTAL} 题")
    expect(page.get_by_role("button", name=LABELS[2], exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name=LABELS[0], exact=True).click()
    expect(page.locator(".ck-count")).to_have_text(f"第 8 题 / 共 {TOTAL} 题")
    expect(page.locator(".ck-save")).to_have_text("已保存")

    # no signal: two answers wait on the phone and go when it returns
    ctx.set_offline(True)
    answer(page, 8, LABELS[1])
    answer(page, 9, LABELS[1])
    expect(page.locator(".ck-save")).to_contain_text("当前离线")
    expect(page.locator("#status")).to_contain_text("2 个体检答案保存在本机")
    shots(page, "checkup-offline")
    assert saved_count(live, cid) == 7
    # closed and opened again with no signal: the saved copy and the waiting answers resume at 10
    page.close()
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"/#/checkups/{cid}")
    expect(page.locator(".ck-count")).to_have_text(f"第 10 题 / 共 {TOTAL} 题")
    expect(page.locator(".alert-warn")).to_contain_text("离线")
    ctx.set_offline(False)
    expect(page.locator(".ck-save")).to_have_text("已保存", timeout=30_000)
    expect(page.locator("#status")).to_be_hidden()
    mine = live.api("GET", f"/api/checkups/mine/{cid}", "manager").json()
    assert mine["answered"] == 9 and mine["next_index"] == 9
    assert mine["questions"][6]["answer"] == 1  # the changed answer, not the first one

    # close the app and open it again: it resumes at the first unanswered statement
    page.close()
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/#/checkups")
    resume = page.locator("li.ck-mine").get_by_role("link", name="继续答题（第 10 题）")
    expect(resume).to_be_visible()
    resume.click()
    expect(page.locator(".ck-count")).to_have_text(f"第 10 题 / 共 {TOTAL} 题")
    for n in range(10, TOTAL + 1):
        answer(page, n, LABELS[1])

    expect(page.get_by_role("heading", name=f"{TOTAL} 题已全部作答")).to_be_visible()
    expect(page.locator(".ck-grid button.done")).to_have_count(TOTAL)
    page.get_by_label(re.compile("有什么希望组织了解或帮助的吗")).fill("希望多组织一些团体活动")
    problems += audit(page, "review")
    page.get_by_role("button", name="提交问卷").click()
    expect(page.locator(".ck-confirm")).to_contain_text("提交后不能再修改答案")
    shots(page, "checkup-confirm", full_page=True)
    page.get_by_role("button", name="确认提交").click()

    expect(page.get_by_role("heading", name="我的体检结果")).to_be_visible()
    expect(page.locator(".ck-headline .ck-grade")).to_have_text(re.compile("^[高中低]$"))
    radar = page.locator("figure.chart").filter(has_text="五个维度的得分")
    expect(radar.locator("svg[role=img] polygon.ck-shape")).to_have_count(1)
    expect(radar.locator("table tbody tr")).to_have_count(5)
    why = page.locator("section.ck-why")
    expect(why).to_contain_text("为什么是这个等级")
    expect(why.locator("tbody tr")).to_have_count(3)
    expect(why).to_contain_text("心理得分")
    expect(why).to_contain_text("岗位风险值")
    expect(why).to_contain_text("综合等级分界：≥ 65 为高，≥ 45 为中")
    expect(why).to_contain_text("评定规则第 1 版")
    expect(page.locator("section.ck-resources")).to_contain_text("关爱资源")
    problems += audit(page, "result")
    shots(page, "checkup-result", full_page=True)

    result = live.api("GET", f"/api/checkups/mine/{cid}/result", "manager").json()
    expect(page.locator(".ck-headline .ck-grade")).to_have_text(GRADE[result["composite_grade"]])
    page.goto("/#/checkups")
    expect(page.locator("li.ck-mine")).to_contain_text("已提交")
    expect(page.locator("li.ck-mine").get_by_role("link", name="查看我的结果")).to_be_visible()

    # the same profile in English, item text from the API
    page.get_by_role("button", name="Switch to English / 切换语言").click()
    page.goto(f"/#/checkups/{cid}/result")
    expect(page.get_by_role("heading", name="My check-up result")).to_be_visible()
    expect(page.locator("section.ck-why")).to_contain_text("Grading policy version 1")
    expect(page.locator("figure.chart svg")).to_contain_text("Personality")
    problems += audit(page, "result-en")
    shots(page, "checkup-result-en", full_page=True)
    assert problems == [] and errors == []


def test_inspector_reads_a_grade_assigns_care_and_downloads_b2(live, phone, shots):
    cid = demo_campaign(live)
    worried = {code: (1 if rev else 5) for code, _d, _zh, _en, rev in ITEMS}
    graded = submit(live, cid, worried)
    me = live.api("GET", "/api/auth/me", "manager").json()
    head = live.api("GET", "/api/auth/me", "head").json()

    page = phone().new_page()
    sign_in(page, "inspector")
    page.goto("/#/checkups")
    page.locator("a.ck-campaign").first.click()
    expect(page.get_by_role("heading", name=re.compile("年度廉洁体检"))).to_be_visible()
    expect(page.locator(".ratio-box").first).to_contain_text("已提交")
    problems = audit(page, "campaign-progress")
    page.get_by_role("button", name="个人结果").click()
    row = page.locator("a.ck-person").filter(has_text=me["name"])
    expect(row).to_have_count(1)
    grade = GRADE[graded["composite_grade"]]
    expect(row.locator(".ck-grade")).to_have_text(grade)
    problems += audit(page, "campaign-people")
    shots(page, "inspector-people", full_page=False)

    with page.expect_download() as got:
        page.get_by_role("button", name="下载心理状况清单（B.2，Excel）").click()
    download = got.value
    assert download.suggested_filename.endswith(".xlsx")
    content = Path(download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        assert "xl/workbook.xml" in book.namelist()
        sheet = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.startswith("xl/"))
    assert me["name"] in sheet

    row.click()
    expect(page.get_by_role("heading", name=me["name"])).to_be_visible()
    expect(page.locator(".ck-headline .ck-grade")).to_have_text(grade)
    expect(page.locator("section.ck-why")).to_contain_text("评定规则第 1 版")
    expect(page.locator(".alert-warn").filter(has_text="需要关注")).to_contain_text("心理风险")
    # the measures offered follow the risk type
    page.get_by_label("风险类型").select_option("tenure")
    expect(page.get_by_label("措施").locator("option")).to_have_text(["轮岗建议"])
    page.get_by_label("风险类型").select_option("psychological")
    expect(page.get_by_label("措施").locator("option")).to_have_count(3)
    page.get_by_label("措施").select_option("talk")
    page.get_by_label("负责人").select_option(str(head["person_id"]))
    page.get_by_label("说明").fill("安排一次谈心谈话")
    problems += audit(page, "person")
    shots(page, "inspector-person", full_page=True)
    page.get_by_role("button", name="安排", exact=True).click()
    expect(page.locator("li.ck-care")).to_contain_text("谈心谈话")
    expect(page.locator("li.ck-care")).to_contain_text(head["name"])

    page.goto("/#/checkups/care")
    care = page.locator("li.ck-care").filter(has_text=me["name"])
    expect(care).to_contain_text("待办")
    care.locator("summary").click()
    care.get_by_label(re.compile("^结果")).fill("已谈话，情绪平稳")
    problems += audit(page, "care")
    care.get_by_role("button", name="记录结果").click()
    expect(page.locator("li.ck-care")).to_have_count(0)
    page.get_by_role("button", name="全部").click()
    expect(page.locator("li.ck-care").filter(has_text=me["name"])).to_contain_text("已完成")
    (stored,) = live.api("GET", "/api/checkups/care", "inspector").json()
    assert stored["status"] == "done" and stored["outcome"] == "已谈话，情绪平稳"
    assert problems == []


def test_head_sees_aggregates_only_with_small_cells_suppressed(live, phone, shots):
    cid = demo_campaign(live)
    submit(live, cid, {code: 2 for code, *_ in ITEMS})
    by_post = live.api("GET", f"/api/checkups/campaigns/{cid}/aggregates?by=post", "head").json()
    hidden = [c for c in by_post["cells"] if c["suppressed"]]
    assert hidden, "the demo unit has posts held by fewer than five people"
    names = [p["name"] for p in live.api("GET", "/api/people?limit=500", "head").json()["items"]]

    page = phone().new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    sign_in(page, "head")
    page.goto("/#/checkups")
    page.locator("a.ck-campaign").first.click()
    expect(page.get_by_role("button", name="个人结果")).to_have_count(0)
    page.get_by_role("button", name="汇总").click()
    expect(page.get_by_text(re.compile("少于 5 人的组不显示数值"))).to_be_visible()
    page.get_by_role("button", name="按岗位").click()
    expect(page.locator("li.ck-cell.is-suppressed")).to_have_count(len(hidden))
    expect(page.locator("li.ck-cell.is-suppressed").first).to_contain_text("—")
    expect(page.locator("li.ck-cell.is-suppressed").first).to_contain_text("少于 5 人，不显示数值")
    shots(page, "head-aggregates", full_page=True)
    problems = audit(page, "aggregates")

    text = page.locator("main").inner_text()
    assert not [n for n in names if n in text], "a person's name on the head's page"
    assert page.locator(".ck-person, .ck-why, .ck-headline").count() == 0
    assert not [u for u in asked if "/results" in u or "b2.xlsx" in u]
    # individual pages stay closed to heads, also by address
    page.goto(f"/#/checkups/campaigns/{cid}/people/1")
    expect(page.get_by_role("heading", name="您没有权限查看此页面")).to_be_visible()
    page.goto(f"/#/checkups/campaigns/{cid}?tab=people")
    expect(page.locator(".segmented button[aria-pressed=true]")).to_have_text("进度")

    # the committee: the whole company by unit, small units suppressed the same way
    by_unit = live.api("GET", f"/api/checkups/campaigns/{cid}/aggregates", "committee").json()
    committee = phone().new_page()
    sign_in(committee, "committee")
    committee.goto(f"/#/checkups/campaigns/{cid}?tab=figures")
    expect(committee.locator("li.ck-cell")).to_have_count(len(by_unit["cells"]) + 1)
    hidden_units = [c for c in by_unit["cells"] if c["suppressed"]]
    expect(committee.locator("li.ck-cell.is-suppressed")).to_have_count(len(hidden_units))
    expect(committee.get_by_role("button", name="个人结果")).to_have_count(0)
    shown = next(c for c in by_unit["cells"] if not c["suppressed"])
    cell = committee.locator("li.ck-cell").filter(has_text=shown["label"])
    expect(cell).to_contain_text(f"人数 {shown['people']}")
    problems += audit(committee, "committee-aggregates")
    assert problems == []


def test_admin_opens_a_campaign_and_sets_the_grading_policy(live, phone, shots):
    cid = demo_campaign(live)
    page = phone().new_page()
    sign_in(page, "admin")
    page.goto("/#/admin")
    page.get_by_role("link", name=re.compile("^廉洁体检")).click()
    page.get_by_role("link", name="发起体检").click()
    expect(page.get_by_role("heading", name="发起体检")).to_be_visible()
    page.get_by_label("年度").fill("2027")
    expect(page.get_by_label("名称")).to_have_value("2027年度廉洁体检")
    page.get_by_label("开始时间").fill("2027-03-01T08:00")
    page.get_by_label(re.compile("^截止时间")).fill("2027-02-01T18:00")
    page.get_by_label("城关供电所").check()
    problems = audit(page, "new-campaign")
    shots(page, "admin-new-campaign", full_page=True)
    page.get_by_role("button", name="发起", exact=True).click()
    expect(page.locator("form .alert-error")).to_contain_text("截止时间要晚于开始时间")
    expect(page.get_by_label(re.compile("^截止时间"))).to_have_attribute("aria-invalid", "true")
    page.get_by_label(re.compile("^截止时间")).fill("2027-03-31T18:00")
    page.get_by_label("补交截止时间").fill("2027-04-15T18:00")
    page.get_by_role("button", name="发起", exact=True).click()

    expect(page.get_by_role("heading", name="2027年度廉洁体检")).to_be_visible()
    expect(page.locator("main p.muted").first).to_contain_text("未开始")
    (made,) = live.api("GET", "/api/checkups/campaigns?year=2027", "admin").json()
    assert made["participants"] == 10 and made["late_until"].startswith("2027-04-15")
    expect(page.locator(".ratio-box").first).to_contain_text(f"已提交 0 / {made['participants']} 人")
    problems += audit(page, "campaign-admin")

    page.goto("/#/checkups/policy")
    expect(page.get_by_role("heading", name="现行规则：第 1 版")).to_be_visible()
    page.get_by_label("心理得分", exact=True).fill("0.5")
    expect(page.locator(".ck-sum").first).to_have_text("合计 1.1")
    page.get_by_role("button", name="保存为新的一版").click()
    expect(page.locator("form .alert-error")).to_have_text("权重之和必须为 1")
    expect(page.get_by_label("心理得分", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("综合“中”不低于").fill("70")
    page.get_by_label("岗位风险值", exact=True).fill("0.3")
    page.get_by_role("button", name="保存为新的一版").click()
    expect(page.locator("form .alert-error")).to_have_text("“中”的分界必须低于“高”的分界")
    page.get_by_label("综合“中”不低于").fill("40")
    problems += audit(page, "policy")
    page.get_by_role("button", name="保存为新的一版").click()
    expect(page.get_by_role("heading", name="现行规则：第 2 版")).to_be_visible()
    shots(page, "admin-policy", full_page=True)
    policies = live.api("GET", "/api/checkups/policies", "admin").json()
    assert [p["version"] for p in policies] == [2, 1]
    now = policies[0]
    assert (now["psych_weight"], now["post_weight"], now["composite_medium"]) == (0.5, 0.3, 40)

    # grading the demo campaign again under version 2 makes new dated results, the old ones kept
    page.goto(f"/#/checkups/campaigns/{cid}")
    page.get_by_text("按现行规则重新评定").click()
    page.get_by_role("button", name="重新评定").click()
    done = page.locator(".ok-text").filter(has_text="已重新评定")
    expect(done).to_contain_text(re.compile(r"已重新评定 \d+ 份结果"))
    count = int(re.findall(r"\d+", done.inner_text())[0])

    async def regraded(db: Any) -> list[tuple[str, int, bool]]:
        async with db.session() as s:
            rows = await s.execute(select(CheckupResult).where(col(CheckupResult.campaign_id) == cid))
            return [(r.reason, r.policy_id, r.superseded_at is None) for r in rows.scalars()]

    results = live.run(regraded)
    assert count > 5 and len(results) == 2 * count
    assert {(reason, current) for reason, _p, current in results} == {("submit", False), ("regrade", True)}
    assert {p for reason, p, _c in results if reason == "regrade"} == {now["id"]}
    assert problems == []


def test_closed_late_and_reopened_check_ups_are_shown_clearly(live, phone, shots):
    demo_campaign(live)
    qid = live.api("GET", "/api/checkups/questionnaires", "admin").json()[0]["id"]
    now = datetime.now(UTC)

    def campaign(title: str, opens: int, closes: int, late: int | None = None) -> int:
        body: dict[str, Any] = {
            "year": 2026,
            "title": title,
            "questionnaire_id": qid,
            "opens_at": (now + timedelta(days=opens)).isoformat(),
            "closes_at": (now + timedelta(days=closes)).isoformat(),
            "unit_codes": ["C01-S1"],
        }
        if late is not None:
            body["late_until"] = (now + timedelta(days=late)).isoformat()
        made = live.api("POST", "/api/checkups/campaigns", "admin", json=body)
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    closed = campaign("已截止的体检", -40, -10)
    late = campaign("补交期的体检", -20, -1, late=5)

    page = phone().new_page()
    sign_in(page, "manager")
    page.goto("/#/checkups")
    closed_card = page.locator("li.ck-mine").filter(has_text="已截止的体检")
    expect(closed_card).to_contain_text("本次体检已截止")
    expect(closed_card.get_by_role("link")).to_have_count(0)
    late_card = page.locator("li.ck-mine").filter(has_text="补交期的体检")
    expect(late_card.locator(".chip").first).to_have_text("补交期")
    expect(late_card).to_contain_text("将记为逾期提交")
    problems = audit(page, "states")
    shots(page, "checkup-states", full_page=True)
    late_card.get_by_role("link", name="补交问卷").click()
    expect(page.locator(".alert-warn")).to_contain_text("已过截止时间")
    page.goto(f"/#/checkups/{closed}")
    expect(page.get_by_role("alert")).to_contain_text("本次体检已截止")
    expect(page.locator(".ck-choice")).to_have_count(0)

    admin = phone().new_page()
    sign_in(admin, "admin")
    admin.goto(f"/#/checkups/campaigns/{late}")
    admin.get_by_role("button", name="提醒未完成的人").click()
    expect(admin.locator("#toast")).to_have_text("已提醒 10 人")
    admin.goto(f"/#/checkups/campaigns/{closed}")
    expect(admin.get_by_role("button", name="提醒未完成的人")).to_have_count(0)
    admin.get_by_text("为某人重新开放").click()
    admin.get_by_label("姓名或工号").fill("E0005")
    admin.get_by_role("button", name="查找").click()
    admin.locator(".ck-people label.choice").filter(has_text="E0005").click()
    admin.get_by_label(re.compile("^原因")).fill("出差未能按时填写")
    problems += audit(admin, "reopen")
    shots(admin, "admin-reopen", full_page=True)
    admin.get_by_role("button", name="重新开放", exact=True).click()
    expect(admin.locator("#toast")).to_contain_text("重新开放至")

    page.goto("/#/checkups")
    closed_card = page.locator("li.ck-mine").filter(has_text="已截止的体检")
    expect(closed_card).to_contain_text("管理员已为你重新开放")
    closed_card.get_by_role("link", name="修改并重新提交").click()
    expect(page.locator(".alert-ok")).to_contain_text("管理员已为你重新开放")
    answer(page, 1, LABELS[0])
    expect(page.locator(".ck-save")).to_have_text("已保存")
    assert saved_count(live, closed) == 1
    assert problems == []
