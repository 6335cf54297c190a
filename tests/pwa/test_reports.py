"""Reports on the phone at 390×844 zh-CN: a head answers a finding addressed to the station, and the
inspector downloads the next month's report, which carries the answer."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.pwa.conftest import sign_in
from tests.pwa.test_a11y import audit
from tests.stats.conftest import seed_known

ANSWER = "逾期两条已于12月5日前办结，建立每周通报制度"


def county_report(live, unit_id: int, at: str) -> None:
    """The inspector makes the county's monthly report holding the day ``at``."""
    made = live.api("POST", "/api/reports", "inspector", json={"unit_id": unit_id, "kind": "month", "at": at})
    assert made.status_code == 201, made.text


def test_head_answers_a_finding_and_the_next_report_carries_it(live, phone, shots):
    known = live.run(seed_known)
    county_report(live, known.units["C01"], "2026-11-15")

    page = phone().new_page()
    sign_in(page, "head")
    page.goto("/#/dashboard?period=month&at=2026-11-15")
    page.get_by_role("link", name=re.compile("^分析报告")).click()
    expect(page.get_by_role("heading", name="分析报告")).to_be_visible()
    finding = page.locator("li.finding").filter(has_text="逾期未办结")
    expect(finding).to_contain_text("城关供电所")
    finding.get_by_label("答复（原因分析和整改措施）").fill(ANSWER)
    shots(page, "reports-head-answer", full_page=True)
    assert audit(page, "reports") == []
    finding.get_by_role("button", name="提交答复").click()
    # answered: off the list
    expect(page.locator("li.finding").filter(has_text="逾期未办结")).to_have_count(0)
    stored = live.api("GET", "/api/reports/findings", "head").json()
    assert [f["answer"] for f in stored if "逾期未办结" in f["text"]] == [ANSWER]

    county_report(live, known.units["C01"], "2026-12-06")
    boss = phone().new_page()
    sign_in(boss, "inspector")
    boss.goto("/#/reports")
    card = boss.locator("li.report").filter(has_text="2026年12月")
    expect(card).to_contain_text("东湖县供电公司2026年12月廉洁风险预警监督分析报告")
    shots(boss, "reports-inspector", full_page=True)
    with boss.expect_download() as got:
        card.get_by_role("button", name="下载 PDF").click()
    content = open(got.value.path(), "rb").read()  # noqa: SIM115 - a downloaded file
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages))
    assert re.sub(r"\s+", "", ANSWER) in text
    assert got.value.suggested_filename.endswith(".pdf")
