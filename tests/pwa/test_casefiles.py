"""One walk at 390×844 in zh-CN over the case-file screens: an inspector raises a warning by hand,
registers a problem clue, triages and hands it over; the committee signs for it and records the
outcome; a problem is registered, classified, assigned and planned by the station's head; a
supervision opinion is drafted, approved, sent and answered; clues are registered from a true warning
and from a public report. No code, snake_case or ISO date shows."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlalchemy import select
from sqlmodel import col

from backend.topics.models import Topic, TopicState
from backend.warnings.models import Warning
from tests.intake.test_intake import solve
from tests.pwa.conftest import sign_in
from tests.pwa.helpers import png
from tests.pwa.test_a11y import audit

CODE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b[a-z]+_[a-z_]+\b|#\d+")


def clean(page: Any) -> None:
    text = page.locator("#main").inner_text()
    assert not CODE.search(text), CODE.search(text)


def open_from_me(page: Any, link: str, title: str) -> None:
    page.goto("/#/me")
    page.get_by_role("link", name=re.compile(link)).first.click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


def test_case_files_on_the_phone(live, phone, shots, tmp_path):
    async def topic(db: Any) -> None:
        async with db.session() as s:
            s.add(
                Topic(
                    code="EN-001",
                    name="竣工验收受人情干扰",
                    specialty="engineering",
                    state=TopicState.online,
                    offline=True,
                )
            )
            await s.commit()

    live.run(topic)
    photo = tmp_path / "site.png"
    photo.write_bytes(png(64, 48))
    manager = live.api("GET", "/api/auth/me", "manager").json()

    # --- a warning raised by hand ---------------------------------------------------------------
    ins = phone().new_page()
    sign_in(ins, "inspector")
    open_from_me(ins, "人工预警", "人工预警")
    problems = audit(ins, "manual warning form")
    ins.get_by_label("监督主题").select_option(label="竣工验收受人情干扰（线下）")
    ins.get_by_label("责任人").select_option(label=f"{manager['name']} · 城关供电所")
    ins.get_by_role("button", name="高·红").click()
    ins.get_by_label("检查对象").fill("幸福小区配电工程竣工验收")
    ins.get_by_label("检查发现").fill("验收记录写明电缆已穿管，现场未穿管。")
    ins.get_by_label("现场照片").set_input_files(str(photo))
    shots(ins, "manual-warning-form", full_page=True)
    ins.get_by_role("button", name="发出预警").click()
    expect(ins.get_by_role("heading", name="竣工验收受人情干扰")).to_be_visible(timeout=20_000)
    expect(ins.locator("dl.evidence, section.card").first).to_contain_text("检查发现")
    expect(ins.locator(".thumbs img")).to_have_count(1)
    shots(ins, "manual-warning-detail", full_page=True)
    clean(ins)

    # --- a problem clue ---------------------------------------------------------------------------
    open_from_me(ins, "问题线索", "问题线索")
    ins.get_by_role("link", name="登记线索").click()
    ins.get_by_label("被反映人（本单位人员）").select_option(label=f"{manager['name']} · 城关供电所")
    ins.get_by_label("问题性质").fill("违规收取费用")
    ins.get_by_label("内容摘要").fill("群众反映该客户经理办理增容时索要好处费。")
    problems += audit(ins, "clue form")
    shots(ins, "clue-new", full_page=True)
    ins.get_by_role("button", name="登记", exact=True).click()
    expect(ins.get_by_role("heading", name=manager["name"])).to_be_visible()
    ins.get_by_role("button", name="一级（严重）").click()
    ins.locator("#clue-triage textarea").fill("移交纪委立案核查")
    ins.locator("#clue-triage").get_by_role("button", name="分级拟办").click()
    expect(ins.locator("#clue-hand-over")).to_be_visible()
    committee = live.api("GET", "/api/auth/me", "committee").json()
    ins.locator("#clue-hand-over select").select_option(label=f"{committee['name']} · {committee_unit(live)}")
    ins.locator("#clue-hand-over").get_by_role("button", name="移交纪检").click()
    expect(ins.locator("p .chip").first).to_have_text("已移交待签收")
    problems += audit(ins, "clue file")
    shots(ins, "clue-handed-over", full_page=True)
    clean(ins)
    clue_url = ins.url

    boss = phone().new_page()
    sign_in(boss, "committee")
    boss.goto(clue_url)
    boss.locator("#clue-receive").get_by_role("button", name="签收").click()
    expect(boss.locator("#clue-conclude")).to_be_visible()
    boss.get_by_role("button", name="立案审查").click()
    boss.locator("#clue-conclude textarea").fill("已立案审查")
    boss.locator("#clue-conclude").get_by_role("button", name="填写办理结果").click()
    expect(boss.locator("p .chip").first).to_have_text("已办结")
    expect(boss.locator("dl.facts")).to_contain_text("立案审查：已立案审查")
    shots(boss, "clue-concluded", full_page=True)
    clean(boss)

    # --- the problem list -------------------------------------------------------------------------
    open_from_me(ins, "问题清单", "问题清单")
    ins.get_by_role("link", name="登记问题").click()
    ins.get_by_label("整改单位").select_option(label="城关供电所")
    ins.get_by_label("问题概述").fill("抄表数据人工修改未留痕")
    ins.get_by_label("问题描述").fill("11 月有 23 条抄表示数被人工修改，无审批记录。")
    ins.get_by_role("button", name="提交").click()
    expect(ins.get_by_role("heading", name="抄表数据人工修改未留痕")).to_be_visible()
    ins.get_by_role("button", name="流程缺陷").click()
    ins.locator("#pb-step").get_by_role("button", name="分类").click()
    expect(ins.locator("#pb-step summary")).to_have_text("交办")
    ins.locator("#pb-step select").select_option(label=f"{manager['name']} · 客户经理")
    ins.locator("#pb-step").get_by_role("button", name="交办").click()
    expect(ins.locator("p .chip").first).to_have_text("已交办")
    problems += audit(ins, "problem file")
    clean(ins)

    head = phone().new_page()
    sign_in(head, "head")
    open_from_me(head, "问题清单", "问题清单")
    head.locator("a.wcard", has_text="抄表数据人工修改未留痕").click()
    head.locator("#pb-step textarea").fill("建立修改审批流程")
    head.locator("#pb-step input[type=date]").fill((date.today() + timedelta(days=30)).isoformat())
    head.locator("#pb-step").get_by_role("button", name="制定整改措施").click()
    expect(head.locator("p .chip").first).to_have_text("整改中")
    shots(head, "problem-rectifying", full_page=True)
    clean(head)
    head.get_by_role("link", name="返回").click()
    expect(head.locator("a.wcard", has_text="抄表数据人工修改未留痕")).to_contain_text("前完成整改")
    shots(head, "problem-list", full_page=True)
    clean(head)

    # --- a supervision opinion --------------------------------------------------------------------
    open_from_me(ins, "协同监督意见书", "协同监督意见书")
    ins.get_by_role("link", name="拟定意见书").click()
    ins.get_by_label("整改部门/单位").select_option(label="城关供电所")
    ins.get_by_label("发现问题").fill("换表工单与抄表示数无交叉复核。")
    ins.get_by_label("整改意见").fill("建立装拆表后七日电量复核制度。")
    ins.get_by_role("button", name="保存草稿").click()
    ins.locator("#op-submit textarea").fill("情况属实，建议下发")
    ins.locator("#op-submit").get_by_role("button", name="提交审议").click()
    expect(ins.locator("p .chip").first).to_have_text("待审议")
    opinion_url = ins.url
    boss.goto(opinion_url)
    boss.locator("#op-approve textarea").fill("同意下发")
    boss.locator("#op-approve").get_by_role("button", name="审议通过").click()
    expect(boss.locator("p .chip").first).to_have_text("已通过待下发")
    ins.reload()
    ins.locator("#op-send").get_by_role("button", name="下发业务部门").click()
    expect(ins.locator("p .chip").first).to_have_text("已下发待反馈")
    head.goto(opinion_url)
    head.locator("#op-answer textarea").fill("已建立复核制度")
    head.locator("#op-answer").get_by_role("button", name="部门整改反馈").click()
    expect(head.locator("p .chip").first).to_have_text("已反馈待跟踪")
    problems += audit(head, "opinion file")
    shots(head, "opinion-answered", full_page=True)
    clean(head)

    # --- a clue from a true warning, and from a public report --------------------------------------
    async def confirmed(db: Any) -> int:
        async with db.session() as s:
            topic = (await s.execute(select(Topic).where(col(Topic.code) == "EN-001"))).scalar_one()
            w = Warning(
                topic_id=topic.id,
                topic_code="EN-001",
                rule_version_id=0,
                specialty="engineering",
                level="high",
                person_id=manager["person_id"],
                unit_id=manager["unit_id"],
                object_key="城东小区竣工验收",
                period_key="2026-11",
                evidence={"observed": "验收记录不实"},
                state="confirmed",
                finding="true",
            )
            s.add(w)
            await s.commit()
            return int(w.id or 0)

    ins.goto(f"/#/warnings/{live.run(confirmed)}")
    ins.get_by_role("link", name="登记为问题线索").click()
    expect(ins.get_by_text("线索来源：属实预警")).to_be_visible()
    expect(ins.get_by_label("内容摘要")).to_have_value("竣工验收受人情干扰：城东小区竣工验收")
    ins.get_by_role("button", name="登记", exact=True).click()
    expect(ins.locator("dl.facts")).to_contain_text("属实预警")

    challenge = httpx.get(f"{live.url}/api/public/reports/challenge").json()
    form = {
        "category": "integrity",
        "subject": "抄表员索要好处费",
        "body": "抄表员上门索要烟酒。",
        "challenge": challenge["challenge"],
        "nonce": solve(challenge["challenge"], challenge["bits"]),
    }
    assert (
        httpx.post(
            f"{live.url}/api/public/reports", files={k: (None, v) for k, v in form.items()}
        ).status_code
        == 201
    )
    report = live.api("GET", "/api/intake", "inspector").json()[0]
    ins.goto(f"/#/intake/{report['id']}")
    ins.get_by_role("link", name="转为问题线索").click()
    expect(ins.get_by_label("反映人姓名", exact=True)).to_have_value("匿名")
    expect(ins.get_by_label("内容摘要")).to_have_value("抄表员上门索要烟酒。")
    ins.get_by_label("所涉单位").select_option(label="城关供电所")
    shots(ins, "clue-from-report", full_page=True)
    ins.get_by_role("button", name="登记", exact=True).click()
    expect(ins.locator("dl.facts")).to_contain_text("群众举报")
    clean(ins)
    assert live.api("GET", f"/api/intake/{report['id']}", "inspector").json()["state"] == "referred"
    assert not problems, problems


def committee_unit(live: Any) -> str:
    me = live.api("GET", "/api/auth/me", "committee").json()
    units = live.api("GET", "/api/units", "committee").json()
    return next(u["name"] for u in units if u["id"] == me["unit_id"])
