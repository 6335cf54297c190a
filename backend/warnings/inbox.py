"""Inbox lists: 待办 (open) and 已办 (finished), urgent work first, each row saying what it is.

A row carries its topic's name and instruction (in the language asked for), whose warning it is
(unit and scope views), and how its deadline stands: working days left (剩 N 个工作日) or days
overdue (已逾期 N 天). The 待办 list is ordered overdue first, then by level (red, orange, yellow),
then by deadline; its tiles (counts per level) count open items only.

Working days come from the calendar (statutory days, then the admins' overrides): the days of the
next ``HORIZON`` calendar days are handed to SQL as one JSON array (``Workdays.json``) and the
overrides are read in the same statement, so the phone's one-statement inbox (``inbox_json``)
counts them as this module does in Python.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backend.calendar.service import WorkingCalendar
from backend.kernel.access import Principal, Role
from backend.kernel.db import read_rows
from backend.kernel.timeutil import SHANGHAI, as_utc, utcnow
from backend.warnings.evidence import TOPIC, pick_lang
from backend.warnings.models import OPEN_STATES, Finding, Level, Warning, WarningState
from backend.warnings.schemas import (
    InboxBox,
    InboxPage,
    LevelCounts,
    WarningStatus,
    WarningSummary,
    overdue,
)

WARNING: Any = Warning.__table__  # type: ignore[attr-defined]
W = WARNING.c
PERSON = table("person", column("id"), column("name"), column("post_id"))
OVERRIDE = table("calendar_override", column("day"), column("kind"))
#: what an inbox row shows (summary()): no lifecycle timestamps beyond the deadline
INBOX_COLUMNS = [
    W.id, W.topic_id, W.topic_code, W.specialty, W.level, W.state, W.person_id, W.unit_id, W.object_key,
    W.period_key, W.evidence, W.raised_at, W.due_at, W.deadline_provisional, W.finding, W.submissions,
    W.hit_count,
]  # fmt: skip
OPEN_VALUES = sorted(s.value for s in OPEN_STATES)
LEVELS = tuple(v.value for v in Level)
#: level order of the 待办 list: red, orange, yellow
LEVEL_RANK = {"high": 0, "medium": 1, "low": 2}
#: roles that hold cases of their own (an admin or topic expert alone has none)
CASE_ROLES = (Role.employee, Role.head, Role.inspector, Role.committee)
#: calendar days ahead whose working days are counted (deadlines are at most 30 working days)
HORIZON = 120


@dataclass(frozen=True)
class InboxFilters:
    level: Level | None = None
    topic: str | None = None
    state: WarningState | None = None
    overdue: bool | None = None
    raised_from: date | None = None
    raised_to: date | None = None
    period: str | None = None
    person_id: int | None = None
    box: InboxBox | None = None
    #: the statistics' drill-down: a figure's list (unit, specialty, post, where it stands, finding)
    unit_id: int | None = None
    specialty: str | None = None
    #: a post's id; 0 for people without a post
    post_id: int | None = None
    status: WarningStatus | None = None
    finding: Finding | None = None


# --- working days ------------------------------------------------------------------------------
def today_local(now: datetime) -> date:
    return as_utc(now).astimezone(SHANGHAI).date()


def next_midnight(now: datetime) -> datetime:
    """The next local midnight (Asia/Shanghai) as an aware UTC datetime: days left change then."""
    tomorrow = today_local(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, SHANGHAI).astimezone(as_utc(now).tzinfo)


@lru_cache(maxsize=4)
def base_days(today: date) -> str:
    """The days after ``today`` within the horizon as JSON ``[["YYYY-MM-DD", 0|1], …]``: working
    or not by the statutory calendar alone (SQL applies the overrides it reads)."""
    plain = WorkingCalendar()
    days = (today + timedelta(days=n) for n in range(1, HORIZON + 1))
    return json.dumps([[d.isoformat(), int(plain.is_working(d))] for d in days], separators=(",", ":"))


@dataclass(frozen=True)
class Workdays:
    """Working days after ``today`` within the horizon (overrides applied)."""

    today: date
    working: frozenset[date]

    def days_left(self, due_on: date) -> int:
        return sum(1 for d in self.working if d <= due_on)

    def deadline(self, due_at: datetime | None, state: str, now: datetime) -> tuple[int | None, int | None]:
        """(working days left, days overdue) of an open item with a deadline; (None, None) else."""
        if due_at is None or state not in OPEN_STATES:
            return None, None
        due_on = as_utc(due_at).astimezone(SHANGHAI).date()
        if overdue(due_at, state, now):
            return None, (self.today - due_on).days
        return self.days_left(due_on), None


def _overrides_between(today: date) -> Select[Any]:
    end = today + timedelta(days=HORIZON)
    return select(OVERRIDE.c.day, OVERRIDE.c.kind).where(OVERRIDE.c.day > today, OVERRIDE.c.day <= end)


def _workdays(today: date, rows: Sequence[Any]) -> Workdays:
    overrides = {(d if isinstance(d, date) else date.fromisoformat(str(d))): str(k) for d, k in rows}
    return _workdays_with(today, tuple(sorted(overrides.items())))


@lru_cache(maxsize=64)
def _workdays_with(today: date, overrides: tuple[tuple[date, str], ...]) -> Workdays:
    """Worked out once per day and set of overrides (each detail and list asks; asking the holiday
    calendar about 120 days was a sixth of the CPU of a warning's detail)."""
    calendar = WorkingCalendar(dict(overrides))
    ahead = (today + timedelta(days=n) for n in range(1, HORIZON + 1))
    return Workdays(today, frozenset(d for d in ahead if calendar.is_working(d)))


async def workdays(engine: AsyncEngine, now: datetime) -> Workdays:
    """The working days ahead (``read_rows``: no session)."""
    today = today_local(now)
    return _workdays(today, await read_rows(engine, _overrides_between(today), {}))


async def session_workdays(session: AsyncSession, now: datetime) -> Workdays:
    """The working days ahead, read in ``session``."""
    today = today_local(now)
    return _workdays(today, (await session.execute(_overrides_between(today))).all())


# --- rows --------------------------------------------------------------------------------------
def summary_values(row: Any, now: datetime) -> dict[str, Any]:
    """The fields of an inbox row (WarningSummary) from a Warning or a Core row of the warning table;
    level, state and finding as the stored strings (StrEnum members compare equal to them)."""
    due_at = row.due_at
    state = row.state
    return {
        "id": row.id,
        "topic_id": row.topic_id,
        "topic_code": row.topic_code,
        "specialty": row.specialty,
        "level": row.level,
        "state": state,
        "person_id": row.person_id,
        "unit_id": row.unit_id,
        "object_key": row.object_key,
        "period_key": row.period_key,
        "evidence": row.evidence or {},
        "raised_at": row.raised_at,
        "due_at": due_at,
        "due_on": due_at.astimezone(SHANGHAI).date() if due_at else None,
        "deadline_provisional": bool(row.deadline_provisional),
        "overdue": overdue(due_at, state, now),
        "open": state in OPEN_STATES,
        "finding": row.finding or None,
        "submissions": row.submissions or 0,
        "hit_count": int(row.hit_count),
    }


def shown_values(row: Any, now: datetime, days: Workdays) -> dict[str, Any]:
    """An inbox row with what people read: topic name and instruction, whose, days left."""
    values = summary_values(row, now)
    days_left, overdue_days = days.deadline(row.due_at, row.state, now)
    values.update(
        topic_name=row.topic_name or None,
        instruction=row.instruction or None,
        person_name=getattr(row, "person_name", None),
        days_left=days_left,
        overdue_days=overdue_days,
    )
    return values


def summary_model(values: dict[str, Any]) -> WarningSummary:
    """The API model of summary values (already of the model's types: no validation)."""
    finding = values["finding"]
    return WarningSummary.model_construct(
        **{
            **values,
            "level": Level(values["level"]),
            "state": WarningState(values["state"]),
            "finding": Finding(finding) if finding else None,
        }
    )


def summary(row: Any, now: datetime | None = None) -> WarningSummary:
    """An inbox row as its API model."""
    return summary_model(summary_values(row, now or utcnow()))


# --- statements --------------------------------------------------------------------------------
def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def is_open(states: Any = W.state) -> ColumnElement[bool]:
    clause: ColumnElement[bool] = states.in_(OPEN_VALUES)
    return clause


def box_clause(box: InboxBox | None) -> list[ColumnElement[bool]]:
    if box is InboxBox.todo:
        return [is_open()]
    if box is InboxBox.done:
        return [~is_open()]
    return []


def filter_clauses(filters: InboxFilters, now: datetime) -> list[ColumnElement[bool]]:
    """The inbox filters but the level and the box (the counts are taken over every other filter)."""
    where: list[ColumnElement[bool]] = []
    if filters.topic:
        where.append(W.topic_code == filters.topic)
    if filters.state:
        where.append(W.state == filters.state.value)
    if filters.person_id is not None:
        where.append(W.person_id == filters.person_id)
    if filters.period:
        where.append(W.period_key == filters.period)
    if filters.raised_from:
        where.append(W.raised_at >= _day_start(filters.raised_from))
    if filters.raised_to:
        where.append(W.raised_at < _day_start(filters.raised_to + timedelta(days=1)))
    if filters.overdue is not None:
        is_overdue = and_(W.due_at < now, is_open())
        where.append(is_overdue if filters.overdue else or_(W.due_at.is_(None), ~is_overdue))
    return where + drill_clauses(filters)


#: where a warning stands, as the statistics count it
STATUS_STATES: dict[WarningStatus, list[str]] = {
    WarningStatus.open: OPEN_VALUES,
    WarningStatus.waiting: [WarningState.submitted.value],
    WarningStatus.closed: [WarningState.confirmed.value, WarningState.closed.value],
}
#: a finding stands while its verification is submitted, confirmed or closed (not returned)
STANDING = [WarningState.submitted.value, WarningState.confirmed.value, WarningState.closed.value]


def drill_clauses(filters: InboxFilters) -> list[ColumnElement[bool]]:
    """The filters a statistics figure hands to the list behind it."""
    where: list[ColumnElement[bool]] = []
    if filters.unit_id is not None:
        where.append(W.unit_id == filters.unit_id)
    if filters.specialty is not None:
        where.append(W.specialty == filters.specialty if filters.specialty else W.specialty.is_(None))
    if filters.post_id is not None:
        post = PERSON.c.post_id == filters.post_id if filters.post_id else PERSON.c.post_id.is_(None)
        where.append(W.person_id.in_(select(PERSON.c.id).where(post)))
    if filters.status is not None:
        where.append(W.state.in_(STATUS_STATES[filters.status]))
    if filters.finding is not None:
        where += [W.finding == filters.finding.value, W.state.in_(STANDING)]
    return where


def order_by(box: InboxBox | None, now: Any, cols: Any = W) -> list[Any]:
    """待办: overdue first, then red, orange, yellow, then the nearest deadline; else newest first."""
    newest = [cols.raised_at.desc(), cols.id.desc()]
    if box is not InboxBox.todo:
        return newest
    late = case((and_(cols.due_at.is_not(None), cols.due_at < now), 0), else_=1)
    rank = case(LEVEL_RANK, value=cols.level, else_=3)
    return [late, rank, case((cols.due_at.is_(None), 1), else_=0), cols.due_at, *newest]


def shown_columns(lang: str, cols: Any = W) -> list[Any]:
    """The topic's name and instruction in ``lang`` (zh-CN where no English is given)."""
    name: Any = TOPIC.c.name
    instruction: Any = TOPIC.c.instruction
    if pick_lang(lang) == "en":
        name = func.coalesce(func.nullif(TOPIC.c.name_en, ""), name)
        instruction = func.coalesce(func.nullif(TOPIC.c.instruction_en, ""), instruction)
    return [name.label("topic_name"), instruction.label("instruction")]


def tally(where: list[ColumnElement[bool]], box: InboxBox | None) -> Select[Any]:
    """One row: counts per level within the box, and the open and finished items."""
    inside = and_(true(), *box_clause(box))
    counts = [
        func.coalesce(func.sum(case((and_(W.level == v.value, inside), 1), else_=0)), 0).label(f"n_{v.value}")
        for v in Level
    ]
    todo = func.coalesce(func.sum(case((is_open(), 1), else_=0)), 0)
    return select(*counts, todo.label("n_todo"), (func.count() - todo).label("n_done")).where(*where)


async def person_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    """{person id: name} of those of ``ids`` that exist (one statement; none for no ids)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    found = await session.execute(_NAMES, {"ids": wanted})
    return {int(i): str(n) for i, n in found.all()}


_NAMES = select(PERSON.c.id, PERSON.c.name).where(PERSON.c.id.in_(bindparam("ids", expanding=True)))


def named_from() -> Any:
    """The warning table with its topic (names) and its person (name) joined."""
    return WARNING.outerjoin(TOPIC, TOPIC.c.id == W.topic_id).outerjoin(PERSON, PERSON.c.id == W.person_id)


def page_statement(
    where: list[ColumnElement[bool]], filters: InboxFilters, lang: str, now: datetime, limit: int, offset: int
) -> Select[Any]:
    level = [W.level == filters.level.value] if filters.level else []
    return (
        select(*INBOX_COLUMNS, *shown_columns(lang), PERSON.c.name.label("person_name"))
        .select_from(named_from())
        .where(*where, *box_clause(filters.box), *level)
        .order_by(*order_by(filters.box, now))
        .limit(limit)
        .offset(offset)
    )


def page_values(
    rows: Sequence[Any], counts_row: Any, filters: InboxFilters, now: datetime, days: Workdays, *, whose: bool
) -> dict[str, Any]:
    counts = {name: int(getattr(counts_row, f"n_{name}") or 0) for name in LEVELS}
    items = []
    for row in rows:
        values = shown_values(row, now, days)
        if not whose:
            values["person_name"] = None
        items.append(values)
    return {
        "items": items,
        "total": counts[filters.level.value] if filters.level else sum(counts.values()),
        "counts": counts,
        "todo": int(counts_row.n_todo or 0),
        "done": int(counts_row.n_done or 0),
    }


def page_model(values: dict[str, Any], limit: int, offset: int) -> InboxPage:
    return InboxPage.model_construct(
        items=[summary_model(item) for item in values["items"]],
        total=values["total"],
        counts=LevelCounts.model_construct(**values["counts"]),
        limit=limit,
        offset=offset,
        todo=values["todo"],
        done=values["done"],
    )


async def listed(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    filters: InboxFilters,
    lang: str,
    *,
    limit: int,
    offset: int,
) -> InboxPage:
    """A unit or scope view: each row names whose warning it is."""
    now = utcnow()
    days = await session_workdays(session, now)
    counts_row = (await session.execute(tally(where, filters.box))).one()
    rows = (await session.execute(page_statement(where, filters, lang, now, limit, offset))).all()
    return page_model(page_values(rows, counts_row, filters, now, days, whose=True), limit, offset)


async def own_inbox_values(
    engine: AsyncEngine,
    principal: Principal,
    filters: InboxFilters,
    *,
    limit: int = 20,
    offset: int = 0,
    lang: str = "zh-CN",
) -> dict[str, Any]:
    """The caller's own warnings as InboxPage values (Core rows, no ORM session: ``read_rows``,
    inline on SQLite)."""
    now = utcnow()
    page: dict[str, Any] = {"items": [], "total": 0, "counts": dict.fromkeys(LEVELS, 0)}
    page.update(limit=limit, offset=offset, todo=0, done=0)
    if not principal.has(*CASE_ROLES):
        return page
    where = [W.person_id == principal.person_id, W.trial == false(), *filter_clauses(filters, now)]
    days = await workdays(engine, now)
    counts_row = (await read_rows(engine, tally(where, filters.box), {}))[0]
    rows = await read_rows(engine, page_statement(where, filters, lang, now, limit, offset), {})
    page.update(page_values(rows, counts_row, filters, now, days, whose=False))
    return page


async def own_inbox(
    engine: AsyncEngine,
    principal: Principal,
    filters: InboxFilters,
    *,
    limit: int = 20,
    offset: int = 0,
    lang: str = "zh-CN",
) -> InboxPage:
    page = await own_inbox_values(engine, principal, filters, limit=limit, offset=offset, lang=lang)
    return page_model(page, limit, offset)


async def shown_summary(
    session: AsyncSession,
    warning: Any,
    topic_name: str | None,
    instruction: str | None,
    person_name: str | None,
) -> WarningSummary:
    """One warning as the detail shows it: its topic's name and instruction and its person's name
    (read by the caller with the rest of the page), the days left."""
    now = utcnow()
    values = summary_values(warning, now)
    values["days_left"], values["overdue_days"] = (await session_workdays(session, now)).deadline(
        warning.due_at, warning.state, now
    )
    values.update(topic_name=topic_name or None, instruction=instruction or None, person_name=person_name)
    return summary_model(values)
