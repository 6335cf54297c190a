"""Statistics periods: a week, month, quarter or year in local time (Asia/Shanghai), or any span.

A period is a half-open range of local days ``[start, end)``; its previous period is the one of
the same kind just before it (a custom span: the same number of days before it). Periods are
compared with ``raised_at`` as aware datetimes at local midnight, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from backend.kernel.errors import Invalid
from backend.kernel.timeutil import SHANGHAI


class PeriodKind(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"
    custom = "custom"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date
    #: the first day after the period
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, SHANGHAI)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, SHANGHAI)

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods later (negative: earlier)."""
        if self.kind is PeriodKind.week:
            return Period(self.kind, self.start + timedelta(weeks=steps), self.end + timedelta(weeks=steps))
        if self.kind is PeriodKind.custom:
            span = (self.end - self.start).days
            return Period(
                self.kind, self.start + timedelta(days=span * steps), self.end + timedelta(days=span * steps)
            )
        months = {PeriodKind.month: 1, PeriodKind.quarter: 3, PeriodKind.year: 12}[self.kind]
        return Period(
            self.kind, _add_months(self.start, months * steps), _add_months(self.end, months * steps)
        )

    @property
    def previous(self) -> Period:
        return self.shifted(-1)

    def label_zh(self) -> str:
        """The period as a zh-CN reader names it (2026年11月, 2026年第4季度 …)."""
        s = self.start
        if self.kind is PeriodKind.month:
            return f"{s.year}年{s.month}月"
        if self.kind is PeriodKind.quarter:
            return f"{s.year}年第{(s.month - 1) // 3 + 1}季度"
        if self.kind is PeriodKind.year:
            return f"{s.year}年"
        e = self.last_day
        return f"{s.year}年{s.month}月{s.day}日至{e.year}年{e.month}月{e.day}日"


def period_of(kind: PeriodKind, at: date) -> Period:
    """The period of ``kind`` that holds the day ``at`` (weeks start on Monday)."""
    if kind is PeriodKind.week:
        start = at - timedelta(days=at.weekday())
        return Period(kind, start, start + timedelta(weeks=1))
    if kind is PeriodKind.month:
        start = at.replace(day=1)
        return Period(kind, start, _add_months(start, 1))
    if kind is PeriodKind.quarter:
        start = date(at.year, (at.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, start, _add_months(start, 3))
    if kind is PeriodKind.year:
        return Period(kind, date(at.year, 1, 1), date(at.year + 1, 1, 1))
    raise Invalid("a custom period needs its first and last day", code="invalid_period")


#: the longest custom span (a statistics call over more is refused)
MAX_SPAN_DAYS = 3 * 366 + 1


def custom_period(first: date, last: date) -> Period:
    if last < first:
        raise Invalid("the last day is before the first", code="invalid_range", extra={"field": "to"})
    if (last - first).days >= MAX_SPAN_DAYS:
        raise Invalid("a period is at most three years", code="invalid_range", extra={"field": "to"})
    return Period(PeriodKind.custom, first, last + timedelta(days=1))
