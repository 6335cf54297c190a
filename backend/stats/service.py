"""Statistics of supervision results (7.5, 9.2.3.4), computed by the database.

Every figure is a ``GROUP BY`` over the operational store, narrowed to the caller's scope
(``backend/kernel/access.py``): warnings of the people in the caller's units (heads and inspectors:
their unit's subtree, not other stations; the committee: everything), never trial hits. One
statement groups the period's warnings by (topic code, unit, specialty, level) with every count as a
``SUM(CASE …)``; the totals and the tallies per level, topic, specialty and unit are sums of those
few grouped rows. The figures by post, the series, the previous period, linked warnings, the ladder
and the check-up participation are statements of their own.

A warning counts in the period in which it was raised; where it stands (open, overdue, closed …)
is its state now, so a figure's list is the warnings list filtered by the same period and status.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from backend.checkups.crypto import Sealer
from backend.checkups.models import CheckupCampaign, CheckupResponse, ResponseStatus
from backend.checkups.scoring import MIN_CELL
from backend.checkups.service import CheckupService
from backend.interviews.schemas import OTHER_GOAL, RED_GOAL
from backend.interviews.service import ratio_cell
from backend.kernel.access import Principal, Role
from backend.kernel.errors import NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.ladder.models import TIERS, LadderCase, LadderStep
from backend.stats.periods import Period
from backend.stats.schemas import (
    CheckupFigures,
    Figures,
    Group,
    InterviewFigures,
    LadderFigures,
    LinkedFigures,
    PeriodPublic,
    SeriesPoint,
    Stats,
    TierFigures,
)
from backend.warnings.inbox import WARNING
from backend.warnings.linked import TRUE_STATES
from backend.warnings.models import OPEN_STATES, LinkedState, LinkedWarning, WarningState

W = WARNING.c
UNIT = table("unit", column("id"), column("name"), column("path"))
POST = table("post", column("id"), column("name"))
PERSON = table("person", column("id"), column("post_id"))
TOPIC = table("topic", column("id"), column("code"), column("name"), column("name_en"), column("specialty"))
INTERVIEW_WARNING = table("interview_warning", column("interview_id"), column("warning_id"))
LINKED: Any = LinkedWarning.__table__  # type: ignore[attr-defined]
CASE: Any = LadderCase.__table__  # type: ignore[attr-defined]
STEP: Any = LadderStep.__table__  # type: ignore[attr-defined]
RESPONSE: Any = CheckupResponse.__table__  # type: ignore[attr-defined]
CAMPAIGN: Any = CheckupCampaign.__table__  # type: ignore[attr-defined]

#: how many periods the series shows (this one and those before it)
SERIES_LENGTH = 6
DIMENSIONS = ("level", "topic", "specialty", "unit", "post", "previous")
OPEN_VALUES = sorted(s.value for s in OPEN_STATES)
CLOSED_VALUES = [WarningState.confirmed.value, WarningState.closed.value]


#: the additive counts of :class:`Figures` (its rates are worked out at the end)
COUNTS = [name for name in Figures.model_fields if not name.endswith("_rate")]


class Tally:
    """Counts summed over grouped rows."""

    def __init__(self) -> None:
        self.n = dict.fromkeys(COUNTS, 0)

    def add(self, row: Any) -> None:
        for name in COUNTS:
            self.n[name] += int(getattr(row, name) or 0)

    def figures(self) -> dict[str, Any]:
        n = self.n
        due = n["answered"] + n["late_open"]
        rates = {
            "true_rate": round(n["true"] / n["decided"], 4) if n["decided"] else None,
            "on_time_rate": round(n["on_time"] / due, 4) if due else None,
        }
        return {**n, **rates}


def _n(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def conditions(now: datetime) -> dict[str, ColumnElement[bool]]:
    """The condition of each count of :class:`Tally` but ``raised`` (every row), on a warning row."""
    is_open = W.state.in_(OPEN_VALUES)
    decided = and_(W.finding.is_not(None), W.state.in_(TRUE_STATES))
    true_ = and_(W.finding == "true", W.state.in_(TRUE_STATES))
    red = W.level == "high"
    interviewed = exists().where(INTERVIEW_WARNING.c.warning_id == W.id)
    answered = W.first_submitted_at.is_not(None)
    return {
        "high": red,
        "medium": W.level == "medium",
        "low": W.level == "low",
        "open": is_open,
        "overdue": and_(is_open, W.due_at < now),
        "waiting": W.state == WarningState.submitted.value,
        "closed": W.state.in_(CLOSED_VALUES),
        "decided": decided,
        "true": true_,
        "true_red": and_(true_, red),
        "interviewed_red": and_(true_, red, interviewed),
        "true_other": and_(true_, ~red),
        "interviewed_other": and_(true_, ~red, interviewed),
        "answered": answered,
        "on_time": and_(answered, W.due_at.is_not(None), W.first_submitted_at <= W.due_at),
        "late_open": and_(~answered, W.due_at < now),
    }


FLAGS = [name for name in COUNTS if name != "raised"]


def flag_columns(now: datetime) -> list[Any]:
    """Each count's condition as a 0/1 column ``f_<count>`` of a warning row."""
    return [case((cond, 1), else_=0).label(f"f_{name}") for name, cond in conditions(now).items()]


def count_columns(now: datetime) -> list[Any]:
    """Every count of :class:`Tally` as one aggregate of the warning table."""
    return [func.count().label("raised"), *(_n(cond).label(name) for name, cond in conditions(now).items())]


def period_public(period: Period) -> PeriodPublic:
    return PeriodPublic(kind=period.kind.value, start=period.start, last_day=period.last_day)


def groups(
    tallies: dict[Any, Tally], labels: dict[Any, str], specialties: dict[Any, str | None]
) -> list[Group]:
    """Groups, most warnings first."""
    out = [
        Group(key=str(k), label=labels.get(k, ""), specialty=specialties.get(k), **t.figures())
        for k, t in tallies.items()
    ]
    return sorted(out, key=lambda g: (-g.raised, -g.open, g.key))


def level_order(rows: list[Group]) -> list[Group]:
    rank = {"high": 0, "medium": 1, "low": 2}
    return sorted(rows, key=lambda g: rank.get(g.key, 3))


class Shared:
    """Figures kept for a while per key, and one computation per key at a time: callers that ask
    while it runs wait for it instead of running their own (on the same event loop)."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self.kept: dict[Hashable, tuple[float, Stats]] = {}
        self.running: dict[Hashable, asyncio.Future[Stats]] = {}

    async def get(self, key: Hashable, ttl: float, compute: Callable[[], Awaitable[Stats]]) -> Stats:
        if ttl <= 0:
            return await compute()
        kept = self.kept.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        running = self.running.get(key)
        if running is not None and running.get_loop() is asyncio.get_running_loop():
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this caller was cancelled, not the computation
            except Exception:  # noqa: S110 - the computation failed: this caller tries on its own
                pass
        future: asyncio.Future[Stats] = asyncio.get_running_loop().create_future()
        self.running[key] = future
        try:
            value = await compute()
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters compute on their own
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            if self.running.get(key) is future:
                del self.running[key]
        future.set_result(value)
        if len(self.kept) >= self.max_entries:
            self.kept.clear()
        self.kept[key] = (time.monotonic() + ttl, value)
        return value


#: the figures shared by callers of one scope and period (per process)
SHARED = Shared()


class StatsService:
    def __init__(self, session: AsyncSession, settings: Settings, trail: Any) -> None:
        self.session = session
        self.settings = settings
        self.trail = trail

    # --- scope --------------------------------------------------------------------
    @staticmethod
    def scope(principal: Principal) -> ColumnElement[bool]:
        """Warnings the caller's statistics count: never trial hits; of people in the caller's units
        (heads and inspectors: their unit's subtree; the committee: all). That is the warnings they
        may see (``WarningService.visible``) less a head's reach into other stations by specialty,
        written as one ``unit_id IN (…)`` so that the index on (unit, raised) serves it."""
        units = principal.case_unit_ids()
        if units is None:
            return W.trial == false()
        return and_(W.unit_id.in_(sorted(units)), W.trial == false())

    async def unit_clause(
        self, principal: Principal, unit_id: int | None, unit_col: Any
    ) -> ColumnElement[bool]:
        """Narrowed to one unit and everything below it (a unit outside the caller's: not found)."""
        if unit_id is None:
            return true()
        units = principal.case_unit_ids()
        path = (await self.session.execute(select(UNIT.c.path).where(UNIT.c.id == unit_id))).scalar()
        if path is None or (units is not None and unit_id not in units):
            raise NotFound(f"unit {unit_id} does not exist or is not in your scope", code="unit_not_found")
        below = select(UNIT.c.id).where(
            or_(UNIT.c.id == unit_id, UNIT.c.path.startswith(f"{path}{unit_id}/", autoescape=True))
        )
        clause: ColumnElement[bool] = unit_col.in_(below)
        return clause

    # --- the whole answer ---------------------------------------------------------
    async def stats(self, principal: Principal, period: Period, *, unit_id: int | None = None) -> Stats:
        """The figures of ``period`` in the caller's scope (and below ``unit_id``). The figures but the
        check-ups' are shared by callers of the same scope for ``settings.stats_cache_seconds``
        (``SHARED``); the check-ups' are read for each caller (their read is in the trail)."""
        where = [self.scope(principal), await self.unit_clause(principal, unit_id, W.unit_id)]
        inspects = principal.has(Role.inspector, Role.committee)
        key = (self.settings.database_url, principal.case_unit_ids(), inspects, period, unit_id)
        body = await SHARED.get(
            key,
            self.settings.stats_cache_seconds,
            lambda: self._figures(principal, where, period, unit_id, inspects=inspects),
        )
        return body.model_copy(update={"checkups": await self._checkups(principal, period, unit_id)})

    async def _figures(
        self,
        principal: Principal,
        where: list[ColumnElement[bool]],
        period: Period,
        unit_id: int | None,
        *,
        inspects: bool,
    ) -> Stats:
        now = utcnow()
        by = await self._grouped(where, period, now)
        totals = self._sum(by["level"].values())
        previous = self._sum(by["previous"].values())
        topics = await self._topics(by["topic"])
        units = await self._names(UNIT, (int(k) for k in by["unit"]))
        posts = await self._names(POST, (int(k) for k in by["post"] if k))
        return Stats(
            period=period_public(period),
            previous=period_public(period.previous),
            computed_at=now,
            totals=Figures(**totals.figures()),
            previous_totals=Figures(**previous.figures()),
            by_level=level_order(groups(by["level"], {}, {})),
            by_topic=groups(
                by["topic"],
                {k: name for k, (name, _) in topics.items()},
                {k: specialty for k, (_, specialty) in topics.items()},
            ),
            by_specialty=groups(by["specialty"], {}, {}),
            by_unit=groups(by["unit"], {str(k): v for k, v in units.items()}, {}),
            by_post=groups(by["post"], {str(k): v for k, v in posts.items()}, {}),
            series=await self._series(where, period),
            interviews=InterviewFigures(
                red=ratio_cell(totals.n["true_red"], totals.n["interviewed_red"], RED_GOAL),
                orange_yellow=ratio_cell(totals.n["true_other"], totals.n["interviewed_other"], OTHER_GOAL),
            ),
            linked=await self._linked(principal, period, now, unit_id),
            ladder=await self._ladder(principal, period, unit_id) if inspects else None,
            checkups=None,
        )

    # --- warnings -----------------------------------------------------------------
    @staticmethod
    def _in(period: Period) -> list[ColumnElement[bool]]:
        return [W.raised_at >= period.start_at, W.raised_at < period.end_at]

    @staticmethod
    def _sum(tallies: Iterable[Tally]) -> Tally:
        total = Tally()
        for tally in tallies:
            for name, value in tally.n.items():
                total.n[name] += value
        return total

    async def _grouped(
        self, where: list[ColumnElement[bool]], period: Period, now: datetime
    ) -> dict[str, dict[str, Tally]]:
        """One statement: the period's counts grouped by level, topic, specialty, unit and post, and
        the previous period's by level ({dimension: {key: counts}}; keys as text, "" for none).

        The warnings of both periods are read once into a materialised CTE with every count's
        condition worked out as a 0/1 column; the groupings then only add those columns up."""
        flags = flag_columns(now)
        current = W.raised_at >= period.start_at
        scoped = (
            select(
                W.level,
                W.topic_code,
                W.specialty,
                W.unit_id,
                PERSON.c.post_id,
                case((current, 1), else_=0).label("cur"),
                *flags,
            )
            .select_from(WARNING.outerjoin(PERSON, PERSON.c.id == W.person_id))
            .where(*where, W.raised_at >= period.previous.start_at, W.raised_at < period.end_at)
            .cte("scoped")
            .prefix_with("MATERIALIZED")
        )
        c = scoped.c
        sums = [func.count().label("raised"), *(func.sum(c[f"f_{name}"]).label(name) for name in FLAGS)]

        def by(name: str, key: Any, cur: int = 1) -> Any:
            text = func.coalesce(cast(key, String), "")
            return (
                select(literal_column(f"'{name}'").label("dim"), text.label("key"), *sums)
                .where(c.cur == cur)
                .group_by(key)
            )

        stmt = union_all(
            by("level", c.level),
            by("topic", c.topic_code),
            by("specialty", c.specialty),
            by("unit", c.unit_id),
            by("post", c.post_id),
            by("previous", c.level, 0),
        )
        out: dict[str, dict[str, Tally]] = {d: {} for d in DIMENSIONS}
        for row in (await self.session.execute(stmt)).all():
            out[row.dim].setdefault(row.key, Tally()).add(row)
        return out

    async def _topics(self, codes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """{code: (name, specialty)} of the topics named."""
        wanted = sorted(codes)
        if not wanted:
            return {}
        stmt = select(TOPIC.c.code, TOPIC.c.name, TOPIC.c.specialty).where(TOPIC.c.code.in_(wanted))
        return {r.code: (r.name, r.specialty) for r in (await self.session.execute(stmt)).all()}

    async def _names(self, named: Any, ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(ids)
        if not wanted:
            return {}
        stmt = select(named.c.id, named.c.name).where(named.c.id.in_(wanted))
        return {r.id: r.name for r in (await self.session.execute(stmt)).all()}

    async def _series(self, where: list[ColumnElement[bool]], period: Period) -> list[SeriesPoint]:
        periods = [period.shifted(-n) for n in range(SERIES_LENGTH - 1, -1, -1)]
        bucket = case(*((W.raised_at < p.end_at, i) for i, p in enumerate(periods)), else_=SERIES_LENGTH)
        stmt = (
            select(bucket.label("bucket"), W.level, func.count().label("n"))
            .where(*where, W.raised_at >= periods[0].start_at, W.raised_at < period.end_at)
            .group_by(bucket, W.level)
        )
        counts: dict[tuple[int, str], int] = {}
        for row in (await self.session.execute(stmt)).all():
            counts[(int(row.bucket), str(row.level))] = int(row.n)
        out = []
        for i, p in enumerate(periods):
            levels = {lv: counts.get((i, lv), 0) for lv in ("high", "medium", "low")}
            out.append(SeriesPoint(start=p.start, last_day=p.last_day, raised=sum(levels.values()), **levels))
        return out

    # --- linked warnings, the ladder, check-ups -------------------------------------------------
    async def _linked(
        self, principal: Principal, period: Period, now: datetime, unit_id: int | None
    ) -> LinkedFigures:
        c = LINKED.c
        units = principal.case_unit_ids()
        where = [c.raised_at >= period.start_at, c.raised_at < period.end_at]
        where.append(await self.unit_clause(principal, unit_id, c.unit_id))
        if units is not None:
            where.append(c.unit_id.in_(sorted(units)))
        late = and_(c.state == LinkedState.raised.value, c.report_due_at < now)
        stmt = (
            select(c.rule, c.state, func.count().label("n"), _n(late).label("late"))
            .where(*where)
            .group_by(c.rule, c.state)
        )
        out = LinkedFigures()
        for row in (await self.session.execute(stmt)).all():
            n = int(row.n)
            out.letters += n
            out.by_rule[row.rule] = out.by_rule.get(row.rule, 0) + n
            out.answered += n if row.state == LinkedState.answered.value else 0
            out.closed += n if row.state == LinkedState.closed.value else 0
            out.overdue += int(row.late or 0)
        return out

    async def _ladder(self, principal: Principal, period: Period, unit_id: int | None) -> LadderFigures:
        c = CASE.c
        scope: list[ColumnElement[bool]] = [await self.unit_clause(principal, unit_id, c.unit_id)]
        units = principal.case_unit_ids()
        if units is not None:
            scope.append(c.unit_id.in_(sorted(units)))
        opened = (
            select(c.tier, c.state, func.count().label("n"))
            .where(*scope, c.opened_at >= period.start_at, c.opened_at < period.end_at)
            .group_by(c.tier, c.state)
        )
        tiers = {t.value: TierFigures(tier=t.value) for t in TIERS}
        for row in (await self.session.execute(opened)).all():
            tier = tiers.setdefault(row.tier, TierFigures(tier=row.tier))
            tier.opened += int(row.n)
            setattr(tier, row.state, getattr(tier, row.state, 0) + int(row.n))
        s = STEP.c
        steps = (
            select(s.kind, func.count().label("n"))
            .select_from(STEP.join(CASE, c.id == s.case_id))
            .where(*scope, s.at >= period.start_at, s.at < period.end_at)
            .group_by(s.kind)
        )
        counted = {row.kind: int(row.n) for row in (await self.session.execute(steps)).all()}
        return LadderFigures(tiers=list(tiers.values()), steps=counted)

    async def _checkups(
        self, principal: Principal, period: Period, unit_id: int | None
    ) -> CheckupFigures | None:
        """Participation counted here; grade counts from the check-ups' own aggregates (the grades are
        sealed; cells under five people are hidden there, and the read is in the trail)."""
        campaign = (
            await self.session.execute(
                select(CAMPAIGN.c.id, CAMPAIGN.c.year, CAMPAIGN.c.title)
                .where(CAMPAIGN.c.opens_at < period.end_at)
                .order_by(CAMPAIGN.c.opens_at.desc(), CAMPAIGN.c.id.desc())
                .limit(1)
            )
        ).one_or_none()
        if campaign is None:
            return None
        r = RESPONSE.c
        where = [r.campaign_id == campaign.id, await self.unit_clause(principal, unit_id, r.unit_id)]
        units = principal.case_unit_ids()
        if units is not None:
            where.append(r.unit_id.in_(sorted(units)))
        row = (
            await self.session.execute(
                select(
                    func.count().label("n"), _n(r.status == ResponseStatus.submitted.value).label("done")
                ).where(*where)
            )
        ).one()
        participants, submitted = int(row.n), int(row.done or 0)
        grades: dict[str, int | None] | None = None
        if unit_id is None:
            checkups = CheckupService(self.session, self.trail, Sealer.from_settings(self.settings))
            total = (await checkups.aggregates(campaign.id, principal, "unit")).total
            grades = None if total.suppressed else total.grades
        return CheckupFigures(
            campaign_id=campaign.id,
            year=campaign.year,
            title=campaign.title,
            participants=participants,
            submitted=submitted,
            rate=round(submitted / participants, 4) if participants else None,
            min_cell=MIN_CELL,
            grades=grades,
        )
