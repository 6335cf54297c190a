"""Reports: the PDF's Chinese text and the XLSX read back against the hand-counted set (tests/stats),
scope, a department's answer carried into the next report, the schedule, and the export limit."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from backend.audit.models import AuditRecord
from backend.audit.service import AuditTrail
from backend.reports.exports import EXPORTS_PER_MINUTE
from backend.reports.service import scheduled_reports
from tests.conftest import TEST_SECRET
from tests.stats.conftest import Known

#: set to a directory to keep the reports the tests make (to look at them)
SAMPLES = os.environ.get("PROBITY_REPORT_SAMPLES")


def keep(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def pdf_text(content: bytes) -> str:
    """The PDF's text with line breaks and spaces taken out (a paragraph wraps where it wraps)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


async def make(client: Any, sessions: Any, user: str, unit_id: int, **body: Any) -> Any:
    return await client.post(
        "/api/reports", json={"unit_id": unit_id, **body}, headers=await sessions.headers(user)
    )


async def files(client: Any, sessions: Any, user: str, report_id: int) -> tuple[str, Any]:
    h = await sessions.headers(user)
    pdf = await client.get(f"/api/reports/{report_id}/pdf", headers=h)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    if SAMPLES:
        keep(Path(SAMPLES) / f"report-{report_id}-{user}.pdf", pdf.content)
    xlsx = await client.get(f"/api/reports/{report_id}/xlsx", headers=h)
    assert xlsx.status_code == 200, xlsx.text
    return pdf_text(pdf.content), load_workbook(io.BytesIO(xlsx.content))


async def test_county_monthly_report_pdf_and_xlsx(client: Any, sessions: Any, known: Known) -> None:
    r = await make(client, sessions, "inspector", known.units["C01"], kind="month", at="2026-11-15")
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["title"] == "东湖县供电公司2026年11月廉洁风险预警监督分析报告（月度）"
    assert report["findings"] == 2  # 城关供电所: two overdue; true red interviewed 1 of 2 (50 % < 80 %)
    text, book = await files(client, sessions, "inspector", report["id"])
    assert "东湖县供电公司2026年11月廉洁风险预警监督分析报告" in text
    assert "本期（2026年11月）新增预警7条，其中红色3条、橙色2条、黄色2条，较上期增加5条。" in text
    assert "截至统计时，在办3条，其中逾期2条；待确认1条；已办结3条。" in text
    assert "已核查4条，属实3条，属实率75.0%" in text
    assert "属实红色预警3条，已约谈2条，约谈率66.7%（要求不低于80%）" in text
    assert "城关供电所" in text and "青山供电所" in text and "河口供电所" not in text
    assert "本期预警中有2条逾期未办结，请说明原因并提出整改措施。" in text
    assert "属实红色预警约谈率50.0%，低于80%的要求，请补充约谈。" in text
    assert "表计装拆后电量为零" in text
    assert "各单位新增预警（按等级）" in text  # the chart's title, drawn on the server

    units = [row for row in book["各单位"].iter_rows(values_only=True)]
    assert units[0] == ("单位", "新增", "红色", "橙色", "黄色", "在办", "逾期", "属实率", "按时反馈率")
    assert units[1:] == [
        ("城关供电所", 6, 2, 2, 2, 3, 2, "66.7%", "60.0%"),
        ("青山供电所", 1, 1, 0, 0, 0, 0, "100.0%", "100.0%"),
    ]
    overdue = list(book["逾期预警"].iter_rows(values_only=True))[1:]
    assert sorted((o[1], o[2]) for o in overdue) == [("城关供电所", "黄色"), ("城关供电所", "黄色")]
    overview = {row[0]: row[1:] for row in book["概况"].iter_rows(values_only=True) if row and row[0]}
    assert overview["新增预警"][:2] == (7, 2)
    listed = (await client.get("/api/reports", headers=await sessions.headers("inspector"))).json()
    assert [x["id"] for x in listed] == [report["id"]]


async def test_scope_of_reports(client: Any, sessions: Any, known: Known) -> None:
    county = (
        await make(client, sessions, "inspector", known.units["C01"], kind="month", at="2026-11-15")
    ).json()
    r = await make(client, sessions, "head", known.units["C01"], kind="month", at="2026-11-15")
    assert r.status_code == 404  # the county is not the head's
    r = await client.get(f"/api/reports/{county['id']}/pdf", headers=await sessions.headers("head"))
    assert r.status_code == 404
    r = await client.get(f"/api/reports/{county['id']}/pdf", headers=await sessions.headers("inspector2"))
    assert r.status_code == 404
    own = await make(client, sessions, "head", known.units["C01-S1"], kind="quarter", at="2026-11-15")
    assert own.status_code == 201, own.text
    text, book = await files(client, sessions, "head", own.json()["id"])
    assert "城关供电所2026年第4季度" in text
    assert "青山供电所" not in text and "河口供电所" not in text
    assert [row[0] for row in book["各单位"].iter_rows(values_only=True)][1:] == ["城关供电所"]
    listed = (await client.get("/api/reports", headers=await sessions.headers("head"))).json()
    assert [x["id"] for x in listed] == [own.json()["id"]]


async def test_an_answer_appears_in_the_next_report(client: Any, sessions: Any, known: Known) -> None:
    november = await make(client, sessions, "inspector", known.units["C01"], kind="month", at="2026-11-15")
    assert november.status_code == 201
    head = await sessions.headers("head")
    open_ = (await client.get("/api/reports/findings?unanswered=true", headers=head)).json()
    overdue = next(f for f in open_ if "逾期未办结" in f["text"])
    assert overdue["unit_name"] == "城关供电所"
    answer = "已督促两条逾期预警于12月5日前办结，并建立每周通报制度"
    r = await client.post(
        f"/api/reports/findings/{overdue['id']}/answer", json={"text": answer}, headers=head
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/reports/findings/{overdue['id']}/answer",
        json={"text": "越权"},
        headers=await sessions.headers("head2"),
    )
    assert r.status_code == 404  # another county's head
    december = await make(client, sessions, "inspector", known.units["C01"], kind="month", at="2026-12-06")
    assert december.status_code == 201, december.text
    text, book = await files(client, sessions, "inspector", december.json()["id"])
    assert "上期报告：东湖县供电公司2026年11月廉洁风险预警监督分析报告（月度）" in text
    assert re.sub(r"\s+", "", answer) in text
    assert "尚未答复" in text  # the interview finding, not answered
    answered = list(book["上期问题答复"].iter_rows(values_only=True))[1:]
    assert ("城关供电所", overdue["text"], answer) in [row[:3] for row in answered]


async def test_schedule_makes_each_report_once(db: Any, settings: Any, known: Known) -> None:
    trail = AuditTrail(TEST_SECRET)
    now = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    async with db.session() as s:
        made = await scheduled_reports(s, settings, trail, now)
    # November and the third quarter for the company and the two counties
    assert made == 6
    async with db.session() as s:
        assert await scheduled_reports(s, settings, trail, now) == 0


async def test_exports_are_in_the_trail_and_limited(
    client: Any, sessions: Any, db: Any, known: Known
) -> None:
    report = (
        await make(client, sessions, "inspector", known.units["C01"], kind="month", at="2026-11-15")
    ).json()
    h = await sessions.headers("inspector")
    codes = [
        (await client.get(f"/api/reports/{report['id']}/xlsx", headers=h)).status_code for _ in range(10)
    ]
    # the report made counts as one export: nine downloads pass, the tenth is refused
    assert codes == [200] * (EXPORTS_PER_MINUTE - 1) + [429]
    r = await client.get(f"/api/reports/{report['id']}/pdf", headers=await sessions.headers("committee"))
    assert r.status_code == 200  # another account has its own share
    async with db.session() as s:
        n = (await s.execute(select(func.count()).where(AuditRecord.action == "report.export"))).scalar_one()
    assert n == EXPORTS_PER_MINUTE + 1  # the refused one is not kept
