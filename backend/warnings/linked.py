"""Linked warnings (联动预警, 9.1.4, 9.2.3.1): patterns across true warnings raise a risk notice
letter (B.13) to the department, which answers with a risk report (B.14) within 15 working days.

Evaluated after each confirmation of a reply (hooked on :data:`backend.warnings.service.CONFIRMED`
in ``backend/warnings/hooks.py``) and after each rule run (:func:`evaluate_run`, called by the
engine), over the warnings of the warning's department (unit). "True" = a head or an inspector
confirmed the reply that says true (confirmed or closed). One moment raises at most one letter per
department, naming every pattern that holds; a warning counted for a pattern (``linked_member``) is
never counted again for that pattern.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from backend.audit.service import AuditTrail
from backend.calendar.service import WorkingCalendar, load_calendar
from backend.events.service import emit
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.errors import Conflict, Forbidden, NotFound
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow
from backend.org.models import Unit
from backend.org.service import OrgService
from backend.warnings.models import (
    ChaseStage,
    Finding,
    Level,
    LinkedMember,
    LinkedRule,
    LinkedState,
    LinkedWarning,
    Warning,
    WarningState,
    WarningStep,
)

REPORT_WORKING_DAYS = 15
#: a reply that stands (submitted, not returned): what statistics and interviews count
TRUE_STATES = [WarningState.submitted.value, WarningState.confirmed.value, WarningState.closed.value]
#: a finding a letter counts: a head or an inspector confirmed it (the employee's own "true" is a
#: claim until then)
CONFIRMED_STATES = [WarningState.confirmed.value, WarningState.closed.value]
HANDLED_STATES = {WarningState.confirmed.value, WarningState.closed.value}
#: the order a letter lists its patterns in (and its ``rule``: the first)
RULE_ORDER = [LinkedRule.double_red, LinkedRule.relapse, LinkedRule.repeat, LinkedRule.concentrated]


class LinkedPublic(SQLModel):
    id: int
    rule: LinkedRule
    unit_id: int
    person_id: int | None
    object_key: str | None
    topic_code: str | None
    level: Level
    warning_ids: list[int]
    #: every pattern the letter names: {rule, warning_ids, topic_code?, person_id?, object_key?}
    patterns: list[dict[str, Any]]
    state: LinkedState
    raised_at: LocalDateTime
    report_due_at: LocalDateTime
    report_provisional: bool
    report_text: str | None
    report_measures: str | None
    answered_at: LocalDateTime | None
    answered_by: int | None
    #: 0 none, 1 reminded, 2 chased (催办), 3 supervision order (督办) — as for warnings
    chase_stage: int
    overdue: bool


class RiskReportCreate(SQLModel):
    """The department's risk report (风险报告单, B.14)."""

    model_config = STRICT

    report: str = Field(min_length=1, max_length=8000)
    measures: str = Field(min_length=1, max_length=8000)


def linked_public(row: LinkedWarning) -> LinkedPublic:
    overdue = row.state == LinkedState.raised.value and row.report_due_at < utcnow()
    return LinkedPublic.model_validate({**row.model_dump(), "overdue": overdue})


@dataclass
class Pattern:
    """One pattern that holds: the warnings it counts, and what it is about."""

    rule: LinkedRule
    warning_ids: list[int]
    about: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.value, "warning_ids": self.warning_ids, **self.about}


def _true_of_unit(unit_id: int, *more: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    return [
        col(Warning.unit_id) == unit_id,
        col(Warning.finding) == Finding.true.value,
        col(Warning.state).in_(CONFIRMED_STATES),
        col(Warning.trial).is_(False),
        *more,
    ]


def _not_counted(rule: LinkedRule, taken: set[int]) -> list[ColumnElement[bool]]:
    """Warnings no letter counted for ``rule`` yet (nor this moment's letter, ``taken``)."""
    where: list[ColumnElement[bool]] = [
        ~exists().where(col(LinkedMember.rule) == rule.value, col(LinkedMember.warning_id) == col(Warning.id))
    ]
    if taken:
        where.append(col(Warning.id).not_in(sorted(taken)))
    return where


async def _ids(session: AsyncSession, where: list[ColumnElement[bool]], last: int | None = None) -> list[int]:
    """Ids of the matching warnings in raising order (``last``: only the latest so many)."""
    stmt = select(col(Warning.id)).where(*where)
    if last is None:
        stmt = stmt.order_by(col(Warning.raised_at), col(Warning.id))
        return [i for i in (await session.execute(stmt)).scalars() if i is not None]
    stmt = stmt.order_by(col(Warning.raised_at).desc(), col(Warning.id).desc()).limit(last)
    return [i for i in reversed(list((await session.execute(stmt)).scalars())) if i is not None]


def _whole(ids: list[int], group: int) -> list[int]:
    """The first whole groups of ``group``: three true warnings make one repeat, six make two."""
    return ids[: len(ids) - len(ids) % group]


async def patterns_of(
    session: AsyncSession, warning: Warning, taken: dict[LinkedRule, set[int]]
) -> list[Pattern]:
    """The patterns the department's confirmed true warnings show around ``warning``, counting only
    warnings not counted for the same pattern before (by a letter, or in ``taken``: this moment)."""
    unit = warning.unit_id
    found: list[Pattern] = []

    def add(rule: LinkedRule, ids: list[int], about: dict[str, Any]) -> None:
        found.append(Pattern(rule, ids, about))
        taken.setdefault(rule, set()).update(ids)

    topic = [col(Warning.topic_id) == warning.topic_id]
    about_topic = {"topic_code": warning.topic_code}
    repeat = _whole(
        await _ids(
            session,
            _true_of_unit(
                unit, *topic, *_not_counted(LinkedRule.repeat, taken.get(LinkedRule.repeat, set()))
            ),
        ),
        3,
    )
    if repeat:
        add(LinkedRule.repeat, repeat, about_topic)
    red = [*topic, col(Warning.level) == Level.high.value]
    reds = _whole(
        await _ids(
            session,
            _true_of_unit(
                unit, *red, *_not_counted(LinkedRule.double_red, taken.get(LinkedRule.double_red, set()))
            ),
        ),
        2,
    )
    if reds:
        add(LinkedRule.double_red, reds, about_topic)
    for attr in ("person_id", "object_key"):
        value = getattr(warning, attr)
        if value is None:
            continue  # nobody's (or no object's) warnings are not one person's (object's)
        free = _not_counted(LinkedRule.concentrated, taken.get(LinkedRule.concentrated, set()))
        rows = (
            await session.execute(
                select(col(Warning.id), col(Warning.topic_id))
                .where(*_true_of_unit(unit, getattr(Warning, attr) == value, *free))
                .order_by(col(Warning.raised_at), col(Warning.id))
            )
        ).all()
        if len({t for _, t in rows}) >= 2:
            add(LinkedRule.concentrated, [i for i, _ in rows if i is not None], {attr: value})
    relapse_taken = taken.get(LinkedRule.relapse, set())
    if warning.level == Level.high.value and warning.id not in relapse_taken:
        mine = await _ids(
            session,
            [
                col(Warning.id) == warning.id,
                *_true_of_unit(unit),
                *_not_counted(LinkedRule.relapse, relapse_taken),
            ],
        )
        earlier = _true_of_unit(
            unit,
            col(Warning.id) != warning.id,
            col(Warning.person_id) == warning.person_id,
            col(Warning.state).in_(sorted(HANDLED_STATES)),
            func.coalesce(col(Warning.confirmed_at), col(Warning.raised_at))
            <= (warning.submitted_at or utcnow()),
            *_not_counted(LinkedRule.relapse, relapse_taken),
        )
        last = await _ids(session, earlier, 1) if mine else []
        if last:
            add(LinkedRule.relapse, [last[0], warning.id or 0], {"person_id": warning.person_id})
    return found


async def evaluate(
    session: AsyncSession, trail: AuditTrail, warning: Warning, actor: Actor
) -> list[LinkedWarning]:
    """After a head or an inspector confirmed a finding: the one letter (if any) the department's
    confirmed true warnings now call for. No commit."""
    return await evaluate_many(session, trail, [warning], actor)


async def evaluate_many(
    session: AsyncSession, trail: AuditTrail, warnings: Sequence[Warning], actor: Actor
) -> list[LinkedWarning]:
    """One moment (a confirmation, a rule run): per department, one letter naming every pattern
    that holds, each counting only warnings no letter counted for that pattern. No commit."""
    by_unit: dict[int, list[Pattern]] = {}
    taken: dict[int, dict[LinkedRule, set[int]]] = {}
    counted = []
    for warning in warnings:
        await session.refresh(warning)
        if warning.finding != Finding.true.value or warning.state not in CONFIRMED_STATES or warning.trial:
            continue
        counted.append(warning)
    # one evaluation per department at a time: the department's row is locked (PostgreSQL; on
    # SQLite the caller's earlier write holds the write turn) before its warnings are counted, so a
    # second evaluation waits and then sees the first's letter and members
    units = sorted({w.unit_id for w in counted})
    if units:
        await session.execute(
            select(col(Unit.id)).where(col(Unit.id).in_(units)).order_by(col(Unit.id)).with_for_update()
        )
    for warning in counted:
        unit = warning.unit_id
        by_unit.setdefault(unit, []).extend(await patterns_of(session, warning, taken.setdefault(unit, {})))
    raised: list[LinkedWarning] = []
    for unit, found in by_unit.items():
        if found:
            found.sort(key=lambda p: RULE_ORDER.index(p.rule))
            raised.append(await _raise(session, trail, unit, found, actor))
    return raised


def _key(rule: LinkedRule, unit_id: int, suffix: str) -> str:
    return f"{rule.value}:{unit_id}:{suffix}"[:200]


async def department_and_inspectors(
    session: AsyncSession, trail: AuditTrail, unit_id: int, *, inspectors: bool = True
) -> list[tuple[int, str]]:
    """The department's head(s), and (optionally) the inspectors up the unit's chain."""
    org = OrgService(session, trail)
    chain = await org.unit_chain(unit_id)
    heads = await org.holders("head", chain[:1])
    out = [(p, "department") for p in heads.get(unit_id, [])]
    if inspectors:
        found = await org.holders("inspector", chain)
        out += [(p, "inspector") for u in chain for p in found.get(u, [])]
    return out


async def _raise(
    session: AsyncSession, trail: AuditTrail, unit_id: int, patterns: list[Pattern], actor: Actor
) -> LinkedWarning:
    """A new letter naming ``patterns``; its members are counted (``linked_member``) in the same
    flush, so a racing evaluation that counted one of them fails instead of reusing it."""
    first = patterns[0]
    key = _key(first.rule, unit_id, ";".join(f"{p.rule.value}:{min(p.warning_ids)}" for p in patterns))
    now = utcnow()
    deadline = (await load_calendar(session)).deadline(now, REPORT_WORKING_DAYS)
    severe = {LinkedRule.double_red, LinkedRule.relapse}
    level = Level.high if any(p.rule in severe for p in patterns) else Level.medium
    members = list(dict.fromkeys(w for p in patterns for w in p.warning_ids))
    about: dict[str, Any] = {}
    for p in patterns:
        for k, v in p.about.items():
            about.setdefault(k, v)
    row = LinkedWarning(
        key=key,
        rule=first.rule.value,
        unit_id=unit_id,
        person_id=about.get("person_id"),
        object_key=about.get("object_key"),
        topic_code=about.get("topic_code"),
        level=level.value,
        warning_ids=members,
        patterns=[p.as_dict() for p in patterns],
        raised_at=now,
        report_due_at=deadline.due_at,
        report_provisional=deadline.provisional,
    )
    session.add(row)
    await session.flush()
    await session.execute(
        insert(LinkedMember),
        [
            {"linked_id": row.id, "rule": p.rule.value, "warning_id": w}
            for p in patterns
            for w in p.warning_ids
        ],
    )
    recipients = await department_and_inspectors(session, trail, unit_id)
    rules = [p.rule.value for p in patterns]
    data = {
        "linked_id": row.id,
        "rule": first.rule.value,
        "rules": rules,
        "report_due_at": deadline.due_at.isoformat(),
    }
    await emit(
        session,
        "linked.raised",
        subject_type="linked_warning",
        subject_id=row.id or 0,
        recipients=recipients,
        level=level.value,
        data=data,
    )
    if row.warning_ids:  # one statement for every warning the letter names (they can be hundreds)
        step = {"at": now, "kind": "linked", "channel": "system", "actor_label": "linked", "data": data}
        await session.execute(insert(WarningStep), [{"warning_id": w, **step} for w in row.warning_ids])
    await trail.record(
        session,
        actor,
        action="linked.raise",
        object_type="linked_warning",
        object_id=row.id,
        new={"rules": rules, "unit_id": unit_id, "patterns": row.patterns, "key": key},
        power="warning.linked",
    )
    return row


async def evaluate_run(
    session: AsyncSession, trail: AuditTrail, run_id: int, actor: Actor
) -> list[LinkedWarning]:
    """After a rule run (the engine calls it once the run is recorded): a later hit updates the
    level of a warning already confirmed true (a second true red, a relapse), so the true warnings
    the run touched are evaluated again, as one moment: one letter per department. No commit."""
    touched = (
        await session.execute(
            select(Warning)
            .where(
                col(Warning.last_run_id) == run_id,
                col(Warning.finding) == Finding.true.value,
                col(Warning.state).in_(CONFIRMED_STATES),
                col(Warning.trial).is_(False),
            )
            .order_by(col(Warning.raised_at), col(Warning.id))
        )
    ).scalars()
    return await evaluate_many(session, trail, list(touched), actor)


async def recompute_report_deadlines(
    session: AsyncSession, trail: AuditTrail, calendar: WorkingCalendar, years: frozenset[int], actor: Actor
) -> int:
    """Risk reports still due whose 15 working days touch a year whose overrides changed: their
    deadline (and whether it is still a guess) recomputed, in the calendar change's transaction."""
    if not years:
        return 0
    rows = (
        await session.execute(
            select(LinkedWarning).where(col(LinkedWarning.state) == LinkedState.raised.value)
        )
    ).scalars()
    changed = 0
    for row in list(rows):
        first, last = calendar.raised_on(row.raised_at).year, calendar.raised_on(row.report_due_at).year
        if not any(first <= y <= last for y in years) and not row.report_provisional:
            continue
        d = calendar.deadline(row.raised_at, REPORT_WORKING_DAYS)
        if d.due_at == row.report_due_at and d.provisional == row.report_provisional:
            continue
        old = {"report_due_at": row.report_due_at.isoformat(), "provisional": row.report_provisional}
        row.report_due_at, row.report_provisional = d.due_at, d.provisional
        await trail.record(
            session,
            actor,
            action="linked.deadline_recomputed",
            object_type="linked_warning",
            object_id=row.id,
            old=old,
            new={"report_due_at": d.due_at.isoformat(), "provisional": d.provisional},
            power="calendar.write",
        )
        changed += 1
    await session.flush()
    return changed


class LinkedService:
    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        self.session = session
        self.trail = trail

    @staticmethod
    def _scope(principal: Principal) -> ColumnElement[bool]:
        units = principal.case_unit_ids()
        if units is None:
            return true()
        return col(LinkedWarning.unit_id).in_(sorted(units))

    async def list(
        self, principal: Principal, state: LinkedState | None, limit: int, offset: int
    ) -> list[LinkedWarning]:
        stmt = select(LinkedWarning).where(self._scope(principal))
        if state is not None:
            stmt = stmt.where(col(LinkedWarning.state) == state.value)
        stmt = (
            stmt.order_by(col(LinkedWarning.raised_at).desc(), col(LinkedWarning.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def get(self, principal: Principal, linked_id: int) -> LinkedWarning:
        row = (
            await self.session.execute(
                select(LinkedWarning).where(col(LinkedWarning.id) == linked_id, self._scope(principal))
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"linked warning {linked_id} does not exist or is not in your scope", code="linked_not_found"
            )
        return row

    async def close(self, linked_id: int, actor: Actor) -> bool:
        """The risk report's sign-offs are complete (B.14: the head's opinion, discipline's
        instruction): the letter is closed. A conditional UPDATE from answered. No commit."""
        moved = await self.session.execute(
            update(LinkedWarning)
            .where(col(LinkedWarning.id) == linked_id, col(LinkedWarning.state) == LinkedState.answered.value)
            .values(state=LinkedState.closed.value)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self.trail.record(
            self.session,
            actor,
            action="linked.close",
            object_type="linked_warning",
            object_id=linked_id,
            old={"state": LinkedState.answered.value},
            new={"state": LinkedState.closed.value},
            power="warning.linked",
        )
        return True

    async def members(self, row: LinkedWarning) -> Sequence[dict[str, Any]]:
        """What the letter's forms print of the warnings it names (the caller got ``row`` in scope)."""
        stmt = (
            select(
                col(Warning.id),
                col(Warning.level),
                col(Warning.topic_code),
                col(Warning.person_id),
                col(Warning.raised_at),
            )
            .where(col(Warning.id).in_(row.warning_ids))
            .order_by(col(Warning.raised_at), col(Warning.id))
        )
        return [dict(r._mapping) for r in (await self.session.execute(stmt)).all()]

    async def report(
        self, principal: Principal, linked_id: int, data: RiskReportCreate, *, commit: bool = True
    ) -> LinkedWarning:
        row = await self.get(principal, linked_id)
        if not principal.has(Role.head) or row.unit_id not in principal.subtree_unit_ids:
            raise Forbidden("the risk report comes from the head of the department", code="not_unit_head")
        if row.state != LinkedState.raised.value:
            raise Conflict(f"the risk report was already given ({row.state})", code="invalid_transition")
        now = utcnow()
        result = await self.session.execute(
            update(LinkedWarning)
            .where(col(LinkedWarning.id) == linked_id, col(LinkedWarning.state) == LinkedState.raised.value)
            .values(
                state=LinkedState.answered.value,
                report_text=data.report,
                report_measures=data.measures,
                answered_at=now,
                answered_by=principal.person_id,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("the letter changed meanwhile; reload it", code="state_changed")
        await self.trail.record(
            self.session,
            principal.actor,
            action="linked.report",
            object_type="linked_warning",
            object_id=linked_id,
            old={"state": LinkedState.raised.value},
            new={"state": LinkedState.answered.value, "on_time": now <= row.report_due_at},
            power="warning.linked",
        )
        if commit:
            await self.session.commit()
        await self.session.refresh(row)
        return row


LINKED_EVENT = {
    ChaseStage.reminded: "linked.due_soon",
    ChaseStage.chased: "linked.overdue",
    ChaseStage.supervised: "linked.supervision_order",
}


async def chase_linked(
    session: AsyncSession,
    trail: AuditTrail,
    calendar: WorkingCalendar,
    *,
    now: datetime,
    remind_days: int,
    supervise_after: int,
    actor: Actor,
) -> dict[ChaseStage, int]:
    """Risk reports not given, like warnings: a reminder before the deadline, a chase (催办) to the
    department on it, a supervision order (督办) to inspectors ``supervise_after`` working days after.
    Each step is a conditional UPDATE of ``chase_stage``: two workers never send one twice. No commit."""
    done = dict.fromkeys(LINKED_EVENT, 0)
    today = calendar.raised_on(now)
    rows = (
        await session.execute(
            select(LinkedWarning).where(
                col(LinkedWarning.state) == LinkedState.raised.value,
                col(LinkedWarning.chase_stage) < int(ChaseStage.supervised),
            )
        )
    ).scalars()
    for row in list(rows):
        due_day = calendar.raised_on(row.report_due_at)
        late = calendar.working_days_between(due_day, today) if now > row.report_due_at else 0
        if now > row.report_due_at and late >= supervise_after:
            stage = ChaseStage.supervised
        elif now > row.report_due_at:
            stage = ChaseStage.chased
        elif calendar.working_days_between(today, due_day) <= remind_days:
            stage = ChaseStage.reminded
        else:
            continue
        if stage <= row.chase_stage:
            continue
        moved = await session.execute(
            update(LinkedWarning)
            .where(col(LinkedWarning.id) == row.id, col(LinkedWarning.chase_stage) == row.chase_stage)
            .values(chase_stage=int(stage))
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue
        recipients = await department_and_inspectors(
            session, trail, row.unit_id, inspectors=stage is ChaseStage.supervised
        )
        data = {
            "linked_id": row.id,
            "rule": row.rule,
            "report_due_at": row.report_due_at.isoformat(),
            "due_at": row.report_due_at.isoformat(),
            "working_days_late": late,
        }
        await emit(
            session,
            LINKED_EVENT[stage],
            subject_type="linked_warning",
            subject_id=row.id or 0,
            recipients=recipients,
            level=row.level,
            data=data,
        )
        await trail.record(
            session,
            actor,
            action=f"linked.{stage.name}",
            object_type="linked_warning",
            object_id=row.id,
            old={"chase_stage": row.chase_stage},
            new={"chase_stage": int(stage), "working_days_late": late},
            power="warning.linked",
        )
        done[stage] += 1
    return done


async def topic_levels_since(session: AsyncSession, topic_id: int, since: datetime) -> dict[str, int]:
    """Warnings a topic raised since ``since`` by level (trial runs left out): the exit form (B.8)
    prints the last six months'."""
    rows = await session.execute(
        select(col(Warning.level), func.count())
        .where(
            col(Warning.topic_id) == topic_id,
            col(Warning.raised_at) >= since,
            col(Warning.trial).is_(False),
        )
        .group_by(col(Warning.level))
    )
    return {str(level): int(n) for level, n in rows.all()}
