"""Periodic reports (9.2.3.4): monthly and quarterly per company or county, made by the schedule,
and for any period on demand; kept with their PDF and XLSX, listed and downloaded within scope.

A report's figures are the statistics (``backend/stats``) of its unit and everything below it, as
the caller may see them (a scheduled report: the whole unit). Its findings are addressed to the
departments they concern (overdue items, interviews short of their goal); a department answers
(7.5.2) and the next report of the same unit shows the previous findings with their answers.

Every report made and every file downloaded is in the trail (``report.export``), and each account
may export at most ``EXPORTS_PER_MINUTE`` files a minute, counted from the trail itself: the count
is taken after the export's own trail record, whose chain update orders concurrent exports, so two
exports cannot both see room for one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden, Invalid, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import SHANGHAI, local, utcnow
from backend.reports.content import FindingLine, OverdueItem, ReportContent
from backend.reports.exports import export_allowed
from backend.reports.labels import KIND_ZH, percent
from backend.reports.models import (
    FindingPublic,
    Report,
    ReportCreate,
    ReportFinding,
    ReportPublic,
)
from backend.reports.pdf import report_pdf
from backend.reports.xlsx import report_xlsx
from backend.stats.periods import Period, PeriodKind, custom_period, period_of
from backend.stats.schemas import Stats
from backend.stats.service import OPEN_VALUES, StatsService, W
from backend.warnings.inbox import WARNING

TOPIC = table("topic", column("code"), column("name"))
UNIT_KIND = table("unit", column("id"), column("name"), column("kind"), column("active"))
#: exports (reports made, files downloaded) an account may make in a minute
#: what a list of reports reads (not the files)
LISTED = ("id", "key", "kind", "unit_id", "period_start", "period_last_day", "title", "created_at")
#: overdue items listed in a report
OVERDUE_LISTED = 50
#: the share of true red warnings that must be interviewed (9.2.2.2)
RED_GOAL = 0.8


def report_public(row: Report, unit_name: str, findings: int) -> ReportPublic:
    assert row.id is not None
    return ReportPublic(
        id=row.id,
        kind=row.kind,
        unit_id=row.unit_id,
        unit_name=unit_name,
        period_start=row.period_start,
        period_last_day=row.period_last_day,
        title=row.title,
        created_at=row.created_at,
        scheduled=row.key is not None,
        findings=findings,
    )


def findings_of(stats: Stats) -> list[tuple[int, str, str]]:
    """(unit, rule, text) for each department that stands out: overdue items, interviews short."""
    out = []
    for g in stats.by_unit:
        if g.overdue:
            out.append(
                (int(g.key), "overdue", f"本期预警中有 {g.overdue} 条逾期未办结，请说明原因并提出整改措施。")
            )
        if g.true_red and g.interviewed_red / g.true_red < RED_GOAL:
            ratio = percent(g.interviewed_red / g.true_red)
            out.append(
                (int(g.key), "interviews", f"属实红色预警约谈率 {ratio}，低于 80% 的要求，请补充约谈。")
            )
    return out


def system_principal(unit_id: int) -> Principal:
    """Who a scheduled report is made as: the whole unit (the report narrows to it)."""
    return Principal(
        account_id=0,
        session_id="schedule",
        person_id=0,
        unit_id=unit_id,
        roles=frozenset({Role.committee}),
        subtree_unit_ids=frozenset(),
        username="schedule",
    )


class ReportService:
    def __init__(self, session: AsyncSession, settings: Settings, trail: AuditTrail) -> None:
        self.session = session
        self.settings = settings
        self.trail = trail
        self.stats = StatsService(session, settings, trail)

    # --- scope --------------------------------------------------------------------
    @staticmethod
    def _may_see(principal: Principal, unit_id: int) -> bool:
        units = principal.case_unit_ids()
        return units is None or unit_id in units

    async def _unit_names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(UNIT_KIND.c.id, UNIT_KIND.c.name).where(UNIT_KIND.c.id.in_(sorted(ids)))
        )
        return {int(i): str(n) for i, n in rows.all()}

    async def _limit(self, principal: Principal, what: str, object_id: int | None, fmt: str) -> None:
        await export_allowed(self.session, self.trail, principal, what, object_id, fmt)

    # --- making a report ------------------------------------------------------------
    async def create(self, principal: Principal, data: ReportCreate) -> ReportPublic:
        if not self._may_see(principal, data.unit_id):
            raise NotFound(f"unit {data.unit_id} is not in your scope", code="unit_not_found")
        if data.kind == "custom":
            if data.first is None or data.last is None:
                raise Invalid("a custom period needs first and last", code="invalid_period")
            period = custom_period(data.first, data.last)
        else:
            period = period_of(PeriodKind(data.kind), data.at or local(utcnow()).date())
        await self._limit(principal, "report.create", None, "pdf+xlsx")
        row = await self.generate(principal, data.unit_id, period, key=None, created_by=principal.person_id)
        await self.session.commit()
        names = await self._unit_names([row.unit_id])
        return report_public(row, names.get(row.unit_id, ""), await self._count_findings(row))

    async def generate(
        self, who: Principal, unit_id: int, period: Period, *, key: str | None, created_by: int | None
    ) -> Report:
        """Work the report out, render it and keep it with its findings (no commit)."""
        stats = await self.stats.stats(who, period, unit_id=unit_id)
        names = await self._unit_names([unit_id])
        if unit_id not in names:
            raise NotFound(f"unit {unit_id} does not exist", code="unit_not_found")
        label = period.label_zh()
        title = f"{names[unit_id]}{label}廉洁风险预警监督分析报告（{KIND_ZH[period.kind.value]}）"
        previous = await self._previous(unit_id, period)
        found = findings_of(stats)
        content = ReportContent(
            title=title,
            unit=names[unit_id],
            period=label,
            stats=stats,
            overdue=await self._overdue(who, unit_id, period),
            findings=[],
            previous_title=previous.title if previous else None,
            previous_findings=await self._finding_lines(previous.id) if previous and previous.id else [],
        )
        unit_names = await self._unit_names([u for u, _, _ in found])
        content.findings = [FindingLine(unit_names.get(u, ""), text) for u, _, text in found]
        pdf, xlsx = await asyncio.gather(
            asyncio.to_thread(report_pdf, content), asyncio.to_thread(report_xlsx, content)
        )
        row = Report(
            key=key,
            kind=period.kind.value,
            unit_id=unit_id,
            period_start=period.start,
            period_last_day=period.last_day,
            title=title,
            created_by=created_by,
            pdf=pdf,
            xlsx=xlsx,
        )
        self.session.add(row)
        await self.session.flush()
        assert row.id is not None
        for u, rule, text in found:
            self.session.add(ReportFinding(report_id=row.id, unit_id=u, rule=rule, text=text))
        await self.trail.record(
            self.session,
            who.actor,
            action="report.made",
            object_type="report",
            object_id=row.id,
            new={
                "unit_id": unit_id,
                "kind": row.kind,
                "start": period.start.isoformat(),
                "findings": len(found),
            },
            power="report.make",
        )
        return row

    async def _previous(self, unit_id: int, period: Period) -> Report | None:
        stmt = (
            select(Report)
            .where(col(Report.unit_id) == unit_id, col(Report.period_last_day) < period.start)
            .order_by(col(Report.period_last_day).desc(), col(Report.id).desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def _finding_lines(self, report_id: int) -> list[FindingLine]:
        rows = list(
            (
                await self.session.execute(
                    select(ReportFinding)
                    .where(col(ReportFinding.report_id) == report_id)
                    .order_by(col(ReportFinding.id))
                )
            ).scalars()
        )
        names = await self._unit_names([r.unit_id for r in rows])
        return [
            FindingLine(
                names.get(r.unit_id, ""),
                r.text,
                r.answer,
                local(r.answered_at).date() if r.answered_at else None,
            )
            for r in rows
        ]

    async def _overdue(self, who: Principal, unit_id: int, period: Period) -> list[OverdueItem]:
        now = utcnow()
        where = [self.stats.scope(who), await self.stats.unit_clause(who, unit_id, W.unit_id)]
        stmt = (
            select(TOPIC.c.name, W.topic_code, UNIT_KIND.c.name.label("unit"), W.level, W.raised_at, W.due_at)
            .select_from(
                WARNING.outerjoin(TOPIC, TOPIC.c.code == W.topic_code).join(
                    UNIT_KIND, UNIT_KIND.c.id == W.unit_id
                )
            )
            .where(
                *where,
                W.raised_at >= period.start_at,
                W.raised_at < period.end_at,
                W.state.in_(OPEN_VALUES),
                W.due_at < now,
            )
            .order_by(W.due_at, W.id)
            .limit(OVERDUE_LISTED)
        )
        today = local(now).date()
        return [
            OverdueItem(
                topic=r.name or "未命名主题",
                unit=r.unit,
                level=r.level,
                raised_on=local(r.raised_at).date(),
                days_overdue=(today - local(r.due_at).date()).days,
            )
            for r in (await self.session.execute(stmt)).all()
        ]

    async def _count_findings(self, row: Report) -> int:
        stmt = select(func.count()).where(col(ReportFinding.report_id) == row.id)
        return int((await self.session.execute(stmt)).scalar_one())

    # --- reading ------------------------------------------------------------------
    async def reports(self, principal: Principal, limit: int = 50, offset: int = 0) -> list[ReportPublic]:
        stmt = select(*(col(getattr(Report, name)) for name in LISTED))
        units = principal.case_unit_ids()
        if units is not None:
            stmt = stmt.where(col(Report.unit_id).in_(sorted(units)))
        stmt = (
            stmt.order_by(col(Report.period_start).desc(), col(Report.id).desc()).limit(limit).offset(offset)
        )
        rows = (await self.session.execute(stmt)).all()
        names = await self._unit_names([r.unit_id for r in rows])
        counts: dict[int, int] = dict(
            (
                await self.session.execute(
                    select(col(ReportFinding.report_id), func.count())
                    .where(col(ReportFinding.report_id).in_([r.id for r in rows]))
                    .group_by(col(ReportFinding.report_id))
                )
            ).all()
        )
        return [
            ReportPublic(
                id=r.id,
                kind=r.kind,
                unit_id=r.unit_id,
                unit_name=names.get(r.unit_id, ""),
                period_start=r.period_start,
                period_last_day=r.period_last_day,
                title=r.title,
                created_at=r.created_at,
                scheduled=r.key is not None,
                findings=int(counts.get(r.id, 0)),
            )
            for r in rows
        ]

    async def file(self, principal: Principal, report_id: int, fmt: str) -> tuple[Report, bytes]:
        row = await self.session.get(Report, report_id)
        if row is None or not self._may_see(principal, row.unit_id):
            raise NotFound(
                f"report {report_id} does not exist or is not in your scope", code="report_not_found"
            )
        await self._limit(principal, "report.file", report_id, fmt)
        await self.session.commit()
        return row, row.pdf if fmt == "pdf" else row.xlsx

    # --- findings and answers ---------------------------------------------------------
    def _answerable(self, principal: Principal, unit_id: int) -> bool:
        return principal.has(Role.head, Role.inspector) and unit_id in principal.subtree_unit_ids

    async def findings(self, principal: Principal, *, unanswered: bool = False) -> list[FindingPublic]:
        stmt = select(ReportFinding, col(Report.title)).join(
            Report, col(Report.id) == col(ReportFinding.report_id)
        )
        units = principal.case_unit_ids()
        if units is not None:
            stmt = stmt.where(col(ReportFinding.unit_id).in_(sorted(units)))
        if unanswered:
            stmt = stmt.where(col(ReportFinding.answer).is_(None))
        rows = (await self.session.execute(stmt.order_by(col(ReportFinding.id).desc()).limit(200))).all()
        names = await self._unit_names([f.unit_id for f, _ in rows])
        return [self._finding_public(f, title, names) for f, title in rows]

    @staticmethod
    def _finding_public(f: ReportFinding, title: str, names: dict[int, str]) -> FindingPublic:
        assert f.id is not None
        return FindingPublic(
            id=f.id,
            report_id=f.report_id,
            report_title=title,
            unit_id=f.unit_id,
            unit_name=names.get(f.unit_id, ""),
            text=f.text,
            answer=f.answer,
            answered_at=f.answered_at,
        )

    async def answer(self, principal: Principal, finding_id: int, text: str) -> FindingPublic:
        finding = await self.session.get(ReportFinding, finding_id, with_for_update=True)
        if finding is None or not self._may_see(principal, finding.unit_id):
            raise NotFound(
                f"finding {finding_id} does not exist or is not in your scope", code="finding_not_found"
            )
        if not self._answerable(principal, finding.unit_id):
            raise Forbidden("the department's head or an inspector over it answers", code="not_unit_head")
        old = finding.answer
        finding.answer = text.strip()
        finding.answered_at = utcnow()
        finding.answered_by = principal.person_id
        await self.trail.record(
            self.session,
            principal.actor,
            action="report.finding.answered",
            object_type="report_finding",
            object_id=finding_id,
            old={"answer": old} if old else None,
            new={"answer": finding.answer},
            power="report.answer",
        )
        await self.session.commit()
        report = await self.session.get(Report, finding.report_id)
        names = await self._unit_names([finding.unit_id])
        return self._finding_public(finding, report.title if report else "", names)


# --- the schedule ---------------------------------------------------------------------------
def due_periods(today: date) -> list[Period]:
    """The last complete month and quarter before ``today``."""
    month = period_of(PeriodKind.month, today).previous
    quarter = period_of(PeriodKind.quarter, today).previous
    return [month, quarter]


async def scheduled_reports(
    session: AsyncSession, settings: Settings, trail: AuditTrail, now: datetime
) -> int:
    """Make the monthly and quarterly reports of every company and county that are not made yet
    (keyed by kind, unit and first day: a second run, or another process, makes none again)."""
    units = (
        await session.execute(
            select(UNIT_KIND.c.id).where(
                and_(UNIT_KIND.c.kind.in_(["company", "county"]), UNIT_KIND.c.active.is_(True))
            )
        )
    ).scalars()
    made = 0
    service = ReportService(session, settings, trail)
    today = now.astimezone(SHANGHAI).date()
    for unit_id in list(units):
        for period in due_periods(today):
            key = f"{period.kind.value}:{unit_id}:{period.start.isoformat()}"
            exists = await session.execute(select(col(Report.id)).where(col(Report.key) == key))
            if exists.first() is not None:
                continue
            await service.generate(system_principal(unit_id), unit_id, period, key=key, created_by=None)
            await session.commit()
            made += 1
    return made
