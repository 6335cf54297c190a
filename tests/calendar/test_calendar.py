from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from backend.calendar.models import OverrideKind
from backend.calendar.service import WorkingCalendar
from backend.kernel.timeutil import SHANGHAI


def shanghai(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SHANGHAI)


def test_statutory_holidays_and_makeup_days_count():
    cal = WorkingCalendar()
    # National Day 2025: 1–8 Oct off, Sun 28 Sep and Sat 11 Oct worked
    assert not cal.is_working(date(2025, 10, 1))
    assert cal.is_working(date(2025, 9, 28))
    assert cal.is_working(date(2025, 10, 11))
    # raised Tue 30 Sep 2025: working days 9 Oct(1), 10(2), 11 Sat make-up(3), 13..17(4-8), 20(9), 21(10)
    d = cal.deadline(shanghai(2025, 9, 30), 10)
    assert d.due_on == date(2025, 10, 21)
    assert not d.provisional


def test_deadline_is_end_of_day_in_shanghai():
    cal = WorkingCalendar()
    d = cal.deadline_for_level(shanghai(2026, 3, 2), "high")  # Mon
    assert d.due_on == date(2026, 3, 16)
    assert d.due_at == datetime(2026, 3, 16, 15, 59, 59, tzinfo=UTC)
    assert d.due_at.astimezone(SHANGHAI).hour == 23


def test_raise_day_is_the_shanghai_day():
    cal = WorkingCalendar()
    # 2026-03-01 17:00 UTC is Mon 2 Mar 01:00 in Shanghai
    late = cal.deadline(datetime(2026, 3, 1, 17, 0, tzinfo=UTC), 1)
    assert late.raised_on == date(2026, 3, 2)
    assert late.due_on == date(2026, 3, 3)


@pytest.mark.parametrize(("level", "days"), [("high", 10), ("medium", 20), ("low", 30)])
def test_levels(level, days):
    cal = WorkingCalendar()
    d = cal.deadline_for_level(shanghai(2026, 5, 11), level)
    assert d.working_days == days
    assert cal.working_days_between(d.raised_on, d.due_on) == days


def test_december_2026_reaches_2027_without_crashing_and_is_provisional():
    cal = WorkingCalendar()
    for day in range(1, 32):
        for level in ("high", "medium", "low"):
            d = cal.deadline_for_level(shanghai(2026, 12, day), level)
            assert d.due_on > date(2026, 12, day)
    d = cal.deadline_for_level(shanghai(2026, 12, 28), "high")
    assert d.due_on.year == 2027
    assert d.provisional
    # weekdays only beyond the data: Mon 28 Dec + 10 weekdays; 2027-01-01 (Fri) counted as a weekday
    assert d.due_on == date(2027, 1, 11)
    early = cal.deadline_for_level(shanghai(2026, 12, 1), "high")
    assert early.due_on.year == 2026 and not early.provisional


def test_overrides_for_a_year_make_it_known_and_move_deadlines():
    cal = WorkingCalendar({date(2027, 1, 1): OverrideKind.holiday})
    d = cal.deadline_for_level(shanghai(2026, 12, 28), "high")
    assert not d.provisional
    assert d.due_on == date(2027, 1, 12)
    assert cal.day(date(2027, 1, 1)).source == "override"
    # a make-up Saturday counts
    cal2 = WorkingCalendar({date(2027, 1, 9): OverrideKind.workday, date(2027, 1, 1): OverrideKind.holiday})
    assert cal2.deadline_for_level(shanghai(2026, 12, 28), "high").due_on == date(2027, 1, 11)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(9999, 12, 31, 20, tzinfo=UTC),
        datetime(9999, 12, 20, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2003, 5, 1, tzinfo=UTC),
        datetime(2100, 2, 27, tzinfo=UTC),
    ],
)
def test_far_dates_never_crash(moment):
    cal = WorkingCalendar()
    for level in ("high", "medium", "low"):
        d = cal.deadline_for_level(moment, level)
        assert d.due_on >= d.raised_on
        assert d.due_at.tzinfo is not None


def test_far_future_is_provisional_and_capped_at_date_max():
    d = WorkingCalendar().deadline_for_level(datetime(9999, 12, 28, tzinfo=UTC), "low")
    assert d.due_on == date.max
    assert d.provisional


def test_a_year_of_holidays_does_not_hang():
    start = date(2030, 1, 1)
    overrides = {start + timedelta(days=i): OverrideKind.holiday for i in range(4 * 366)}
    d = WorkingCalendar(overrides).deadline(datetime(2030, 1, 1, tzinfo=UTC), 10)
    assert d.provisional
