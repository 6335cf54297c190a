"""Working days on the Chinese statutory calendar, with admin overrides and a provisional fallback.

Which days are working days, in order of precedence:

1. the override table (an admin's holiday or make-up working day);
2. ``chinese-calendar`` for the years it knows (2004–2026 in 1.11; it raises for others);
3. otherwise Monday–Friday. Such a guess is *provisional* unless the year already has
   overrides (then the admins have entered that year's notice and the rest are plain weekdays).

Deadlines computed over any provisional day are flagged provisional; when overrides for a year
are added or removed, the hooks on :data:`CALENDAR_CHANGED` (the warning lifecycle, the ladder;
registered at start-up by ``backend.kernel.hooks.compose``) recompute what depends on it, in the
same transaction. Nothing here ever raises for
a date: beyond ``date.max`` the deadline stops there, flagged provisional.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.calendar.models import (
    CalendarDay,
    CalendarOverride,
    CalendarOverrideCreate,
    OverrideKind,
)
from backend.kernel.access import Actor
from backend.kernel.errors import Conflict, NotFound
from backend.kernel.hooks import REGISTRY, HookPoint
from backend.kernel.timeutil import SHANGHAI, as_utc

#: working days to handle a warning, by level (standard 7.4.1)
LEVEL_WORKING_DAYS: dict[str, int] = {"high": 10, "medium": 20, "low": 30}
#: a search for N working days gives up after this many calendar days (a year of holidays …)
MAX_SPAN_DAYS = 3 * 366
END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=8192)
def _statutory(day: date) -> bool | None:
    """``chinese-calendar``'s answer, or ``None`` where it has no data."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, ValueError, KeyError, OverflowError):
        return None


@dataclass(frozen=True)
class Deadline:
    raised_on: date
    working_days: int
    due_on: date
    #: end of ``due_on`` in the calendar's zone, as an aware datetime (UTC)
    due_at: datetime
    provisional: bool


class WorkingCalendar:
    """Answers for one set of overrides (load it once per transaction or batch)."""

    def __init__(self, overrides: Mapping[date, OverrideKind | str] | None = None, zone: ZoneInfo = SHANGHAI):
        self.overrides = {d: OverrideKind(k) for d, k in (overrides or {}).items()}
        self.override_years = frozenset(d.year for d in self.overrides)
        self.zone = zone

    def day(self, day: date) -> CalendarDay:
        kind = self.overrides.get(day)
        if kind is not None:
            return CalendarDay(
                day=day, working=kind is OverrideKind.workday, provisional=False, source="override"
            )
        known = _statutory(day)
        if known is not None:
            return CalendarDay(day=day, working=known, provisional=False, source="statutory")
        provisional = day.year not in self.override_years
        return CalendarDay(
            day=day,
            working=day.weekday() < 5,
            provisional=provisional,
            source="weekdays" if provisional else "year",
        )

    def is_working(self, day: date) -> bool:
        return self.day(day).working

    def add_working_days(self, start: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day after ``start`` and whether any day counted was a guess."""
        day, counted, provisional = start, 0, False
        for _ in range(MAX_SPAN_DAYS):
            if counted >= n:
                return day, provisional
            if day == date.max:
                return day, True
            day += timedelta(days=1)
            info = self.day(day)
            provisional = provisional or info.provisional
            counted += info.working
        # no N working days within the span: a calendar of nothing but holidays; do not loop on
        return day, True

    def raised_on(self, raised_at: datetime) -> date:
        try:
            return as_utc(raised_at).astimezone(self.zone).date()
        except OverflowError:
            return as_utc(raised_at).date()

    def end_of(self, day: date) -> datetime:
        try:
            return datetime.combine(day, END_OF_DAY, self.zone).astimezone(ZoneInfo("UTC"))
        except OverflowError:
            return datetime.combine(day, END_OF_DAY, ZoneInfo("UTC"))

    def deadline(self, raised_at: datetime, working_days: int) -> Deadline:
        start = self.raised_on(raised_at)
        due_on, provisional = self.add_working_days(start, max(0, working_days))
        return Deadline(start, working_days, due_on, self.end_of(due_on), provisional)

    def deadline_for_level(self, raised_at: datetime, level: str) -> Deadline:
        return self.deadline(raised_at, LEVEL_WORKING_DAYS.get(str(level), LEVEL_WORKING_DAYS["low"]))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]`` (0 if ``end <= start``), capped at the span limit."""
        count, day = 0, start
        for _ in range(MAX_SPAN_DAYS):
            if day >= end or day == date.max:
                break
            day += timedelta(days=1)
            count += self.is_working(day)
        return count


#: called as ``listener(session, trail, calendar, years, actor)`` after overrides change (in that
#: transaction); returns how many deadlines it recomputed
CalendarListener = Callable[
    [AsyncSession, AuditTrail, WorkingCalendar, frozenset[int], Actor], Awaitable[int]
]
#: the moment overrides changed; features above the calendar hook their deadlines on it
#: (``backend/<feature>/hooks.py``)
CALENDAR_CHANGED: HookPoint[CalendarListener] = HookPoint("calendar.changed")


async def load_calendar(session: AsyncSession, zone: ZoneInfo = SHANGHAI) -> WorkingCalendar:
    rows = await session.execute(select(col(CalendarOverride.day), col(CalendarOverride.kind)))
    return WorkingCalendar({d: k for d, k in rows.all()}, zone)


def _values(o: CalendarOverride) -> dict[str, object]:
    return {"day": o.day.isoformat(), "kind": str(o.kind), "note": o.note}


class CalendarService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, zone: ZoneInfo = SHANGHAI) -> None:
        self.session = session
        self.trail = trail
        self.zone = zone

    async def calendar(self) -> WorkingCalendar:
        return await load_calendar(self.session, self.zone)

    async def list_overrides(self, year: int | None = None) -> list[CalendarOverride]:
        stmt = select(CalendarOverride).order_by(col(CalendarOverride.day))
        if year is not None:
            stmt = stmt.where(col(CalendarOverride.day).between(date(year, 1, 1), date(year, 12, 31)))
        return list((await self.session.execute(stmt)).scalars())

    async def _by_day(self, day: date) -> CalendarOverride | None:
        stmt = select(CalendarOverride).where(col(CalendarOverride.day) == day)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add_overrides(
        self, items: Iterable[CalendarOverrideCreate], actor: Actor
    ) -> tuple[list[CalendarOverride], int]:
        """Add overrides (all or none), recompute dependent deadlines, commit."""
        added: list[CalendarOverride] = []
        for data in items:
            if await self._by_day(data.day) is not None or any(a.day == data.day for a in added):
                raise Conflict(
                    f"{data.day.isoformat()} already has an override; remove it first",
                    code="duplicate_override",
                    extra={"day": data.day.isoformat()},
                )
            row = CalendarOverride.model_validate(data.model_dump())
            self.session.add(row)
            added.append(row)
        await self.session.flush()
        for row in added:
            await self.trail.record(
                self.session,
                actor,
                action="calendar.override_add",
                object_type="calendar_override",
                object_id=row.day.isoformat(),
                new=_values(row),
                power="calendar.write",
            )
        recomputed = await self._changed(frozenset(r.day.year for r in added), actor)
        await self.session.commit()
        return added, recomputed

    async def remove_override(self, day: date, actor: Actor) -> tuple[CalendarOverride, int]:
        row = await self._by_day(day)
        if row is None:
            raise NotFound(f"{day.isoformat()} has no override", code="override_not_found")
        await self.trail.record(
            self.session,
            actor,
            action="calendar.override_remove",
            object_type="calendar_override",
            object_id=day.isoformat(),
            old=_values(row),
            power="calendar.write",
        )
        await self.session.delete(row)
        await self.session.flush()
        recomputed = await self._changed(frozenset({day.year}), actor)
        await self.session.commit()
        return row, recomputed

    async def _changed(self, years: frozenset[int], actor: Actor) -> int:
        calendar = await self.calendar()
        total = 0
        for listener in REGISTRY(CALENDAR_CHANGED):
            total += await listener(self.session, self.trail, calendar, years, actor)
        return total

    async def days(self, start: date, end: date) -> list[CalendarDay]:
        calendar = await self.calendar()
        out, day = [], start
        while day <= end:
            out.append(calendar.day(day))
            if day == date.max:
                break
            day += timedelta(days=1)
        return out
