"""A customer manager reads the inbox and a warning on a phone in Chinese: urgent work first, every
warning saying what it is about and what to check, no database words on the screen."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from backend.kernel.timeutil import utcnow
from tests.pwa.conftest import sign_in
from tests.pwa.shell import api_codes, missing_from_catalogs
from tests.warnings.conftest import Seeder
from tests.warnings.test_explained import TABLE, TOPIC

#: what must never be read on a zh-CN screen
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
TOPIC_CODE = re.compile(r"\b[A-Z]{2}-\d{3}\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
HASH_ID = re.compile(r"#\d+")
#: an English word or a username (scheduler, manager …)
LATIN_WORD = re.compile(r"\b[a-z]{3,}\b")


def visible_faults(text: str) -> list[str]:
    faults = [
        p.pattern + ": " + m.group(0)
        for p in (SNAKE, TOPIC_CODE, ISO_DATE, HASH_ID, LATIN_WORD)
        for m in p.finditer(text)
    ]
    if TOPIC["code"] in text:
        faults.append("topic code " + TOPIC["code"])
    return faults


def seed(live: Any) -> dict[str, int]:
    topic = live.api("POST", "/api/topics", "admin", json=TOPIC)
    assert topic.status_code == 201, topic.text
    table = live.api("POST", "/api/data/tables", "admin", json=TABLE)
    assert table.status_code == 201, table.text
    labels = {"columns": {"swap_date": {"label": "换表日期", "label_en": "Meter changed on", "unit": "date"}}}
    assert (
        live.api("PATCH", f"/api/data/tables/{TABLE['name']}/labels", "admin", json=labels).status_code == 200
    )
    topic_id, code = topic.json()["id"], TOPIC["code"]

    def evidence(ratio: float) -> dict[str, Any]:
        return {
            "measure": "billed_ratio",
            "value": ratio,
            "direction": "below",
            "bound": 0.5 if ratio <= 0.5 else 0.7,
            "rule_version": 1,
            "employee_no": "E0005",
            "values": {"billed_ratio": ratio, "basic_fee_due": 12500, "basic_fee_billed": 12500 * ratio},
        }

    async def go(db: Any) -> dict[str, int]:
        s = Seeder(db)
        made = {}
        # ten fresh ones, newest last, then the overdue red one raised long ago
        for n in range(10):
            level = ("low", "medium", "high")[n % 3]
            made[f"fresh{n}"] = await s.warning(
                "E0005",
                level=level,
                topic_id=topic_id,
                topic_code=code,
                object_key=f"A{n:07d}",
                evidence=evidence(0.85 if level == "low" else 0.65 if level == "medium" else 0.45),
            )
        made["overdue"] = await s.warning(
            "E0005",
            level="high",
            topic_id=topic_id,
            topic_code=code,
            object_key="A0000040",
            raised_at=utcnow() - timedelta(days=40),
            evidence=evidence(0.4),
        )
        return made

    made: dict[str, int] = live.run(go)
    done = {"client_id": "explained-0001", "result": "not_true", "cause": "已核实，容量变更手续齐全"}
    wid = made["fresh0"]
    assert live.api("POST", f"/api/warnings/{wid}/verifications", "manager", json=done).status_code == 201
    return made


def test_the_manager_reads_urgent_work_first_in_plain_chinese(live, phone, shots):
    made = seed(live)
    page = phone().new_page()
    sign_in(page, "manager")
    page.goto("/#/warnings")
    cards = page.locator("a.wcard")
    expect(cards.first).to_be_visible()
    # 待办: the overdue red one first; the answered one is under 已办, and the tiles count open only
    expect(cards).to_have_count(10)
    first = cards.first
    expect(first).to_have_attribute("href", f"#/warnings/{made['overdue']}")
    expect(first).to_contain_text(TOPIC["name"])
    expect(first).to_contain_text(TOPIC["instruction"])
    expect(first).to_contain_text("已逾期")
    expect(cards.nth(1)).to_contain_text("剩")
    expect(page.locator(".box-tabs")).to_contain_text("待办10")
    expect(page.locator(".box-tabs")).to_contain_text("已办1")
    expect(page.locator(".level-tabs button").first).to_contain_text("10")
    shots(page, "inbox-todo", full_page=True)
    faults = visible_faults(page.locator("main").inner_text())
    assert faults == [], faults

    page.get_by_role("button", name=re.compile("已办")).click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("href", f"#/warnings/{made['fresh0']}")
    shots(page, "inbox-done")
    assert visible_faults(page.locator("main").inner_text()) == []

    page.get_by_role("button", name=re.compile("待办")).click()
    cards.first.click()
    expect(page.get_by_role("heading", name=TOPIC["name"])).to_be_visible()
    expect(page.locator(".instruction")).to_have_text(TOPIC["instruction"])
    evidence = page.locator("dl.evidence")
    expect(evidence).to_contain_text("实收占应收比例")
    expect(evidence).to_contain_text("40%")
    expect(evidence).to_contain_text("¥12,500.00")
    expect(evidence).to_contain_text("低于 50%")
    shots(page, "warning-detail", full_page=True)
    faults = visible_faults(page.locator("main").inner_text())
    assert faults == [], faults


#: (user, screens) walked by the test below
WALK = {
    "manager": [
        "#/warnings",
        "#/warnings?box=done",
        "#/warnings/{overdue}",
        "#/warnings/{overdue}/reply",
        "#/notifications",
        "#/me",
        "#/ladder",
        "#/ladder/{case}",
        "#/checkups",
        "#/evaluation",
        "#/dossier/{manager}",
    ],
    "head": [
        "#/queue",
        "#/warnings/{answered}",
        "#/warnings?view=unit",
        "#/supervision",
        "#/notifications",
        "#/me",
        "#/dashboard",
        "#/registers",
        "#/problems",
        "#/forms",
        "#/archive",
        "#/evaluation",
    ],
    "inspector": [
        "#/warnings?view=unit",
        "#/warnings/{overdue}",
        "#/supervision",
        "#/queue",
        "#/me",
        "#/dashboard",
        "#/reports",
        "#/portrait",
        "#/registers?view=four",
        "#/archive",
        "#/ladder",
        "#/forms",
        "#/clues",
        "#/problems",
        "#/opinions",
        "#/intake",
        "#/evaluation",
    ],
    "admin": [
        "#/admin",
        "#/admin/calendar",
        "#/admin/broadcasts/new",
        "#/admin/import",
        "#/registers",
        "#/me",
    ],
}


def test_every_screen_of_every_role_speaks_plain_chinese(live, phone, shots):
    made = seed(live)
    manager = live.api("GET", "/api/auth/me", "manager").json()["person_id"]
    order = {"kind": "supervise", "note": "限期整改", "due_on": "2099-01-04"}
    assert (
        live.api("POST", f"/api/warnings/{made['overdue']}/urge", "inspector", json=order).status_code == 200
    )
    case = {
        "person_id": manager,
        "tier": "notice",
        "subject": "关于零电量用户的廉情预警告知",
        "problem": "请说明",
    }
    case_id = live.api("POST", "/api/ladder", "inspector", json=case).json()["id"]
    ids = {"overdue": made["overdue"], "answered": made["fresh0"], "case": case_id, "manager": manager}
    faults: list[str] = []
    for user, screens in WALK.items():
        page = phone().new_page()
        sign_in(page, user)
        for screen in screens:
            page.goto("/" + screen.format(**ids))
            page.wait_for_selector("main .page-title")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(200)
            faults += [f"{user} {screen}: {f}" for f in visible_faults(page.locator("main").inner_text())]
        page.close()
    assert faults == [], faults


def test_every_error_code_of_warnings_ladder_and_notifications_is_in_both_catalogues():
    codes = api_codes("warnings") | api_codes("ladder") | api_codes("events") | api_codes("delivery")
    assert {"note_required", "order_due_required", "urge_not_allowed", "appeal_pending"} <= codes
    assert missing_from_catalogs(codes) == {"zh-CN.js": [], "en.js": []}
