"""Linked warnings (联动预警, 9.1.4, 9.2.3.1): patterns across true warnings raise a risk notice
letter (B.13) to the department, which answers with a risk report (B.14) within 15 working days.

Evaluated after each verification (hooked on :data:`backend.warnings.service.VERIFIED` in
``backend/warnings/hooks.py``) and after each rule run (:func:`evaluate_run`, called by the
engine), over the warnings of the warning's department (unit). "True" = the latest reply says
true and it is not returned (submitted, confirmed or closed). Each pattern has a stable key, so
the same pattern raises one letter, however often it is evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from backend.audit.service import AuditTrail
from backend.calendar.service import WorkingCalendar, load_calendar
from backend.events.service import emit
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.errors import Conflict, Forbidden, NotFound
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow
from backend.org.service import OrgService
from backend.warnings.models import (
    ChaseStage,
    Finding,
    Level,
    LinkedRule,
    LinkedState,
    LinkedWarning,
    Warning,
    WarningState,
    WarningStep,
)

REPORT_WORKING_DAYS = 15
TRUE_STATES = [WarningState.submitted.value, WarningState.confirmed.value, WarningState.closed.value]
HANDLED_STATES = {WarningState.confirmed.value, WarningState.closed.value}


class LinkedPublic(SQLModel):
    id: int
    rule: LinkedRule
    unit_id: int
    person_id: int | None
    object_key: str | None
    topic_code: str | None
    level: Level
    warning_ids: list[int]
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


def _true_of_unit(unit_id: int, *more: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    return [
        col(Warning.unit_id) == unit_id,
        col(Warning.finding) == Finding.true.value,
        col(Warning.state).in_(TRUE_STATES),
        col(Warning.trial).is_(False),
        *more,
    ]


async def _ids(session: AsyncSession, where: list[ColumnElement[bool]], last: int | None = None) -> list[int]:
    """Ids of the matching warnings in raising order (``last``: only the latest so many)."""
    stmt = select(col(Warning.id)).where(*where)
    if last is None:
        stmt = stmt.order_by(col(Warning.raised_at), col(Warning.id))
        return [i for i in (await session.execute(stmt)).scalars() if i is not None]
    stmt = stmt.order_by(col(Warning.raised_at).desc(), col(Warning.id).desc()).limit(last)
    return [i for i in reversed(list((await session.execute(stmt)).scalars())) if i is not None]


async def evaluate(
    session: AsyncSession, trail: AuditTrail, warning: Warning, actor: Actor
) -> list[LinkedWarning]:
    """Raise the letters the department's true warnings now call for. No commit.

    The patterns are counted by the database, and the warnings a letter names are read only for
    a letter not raised yet: a unit's history of true warnings grows for years and each
    verification looks at it (measured on a year of history: reading it row by row was most of a
    reply's CPU)."""
    await session.refresh(warning)
    if warning.finding != Finding.true.value:
        return []
    unit = warning.unit_id
    same_topic = _true_of_unit(unit, col(Warning.topic_id) == warning.topic_id)
    counted = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(col(Warning.level) == Level.high.value),
            ).where(*same_topic)
        )
    ).one()
    #: (rule, key suffix, where the members are, how many of the latest, what it is about)
    wanted: list[tuple[LinkedRule, str, list[ColumnElement[bool]], int | None, dict[str, Any]]] = []
    about_topic = {"topic_code": warning.topic_code}
    if counted[0] >= 3:
        wanted.append(
            (LinkedRule.repeat, f"{warning.topic_code}:{counted[0] // 3}", same_topic, 3, about_topic)
        )
    if counted[1] >= 2:
        reds = [*same_topic, col(Warning.level) == Level.high.value]
        wanted.append(
            (LinkedRule.double_red, f"{warning.topic_code}:{counted[1] // 2}", reds, 2, about_topic)
        )
    for attr in ("person_id", "object_key"):
        value = getattr(warning, attr)
        if value is None:
            continue  # nobody's (or no object's) warnings are not one person's (object's)
        mine = _true_of_unit(unit, getattr(Warning, attr) == value)
        topics = (
            await session.execute(select(func.count(func.distinct(col(Warning.topic_id)))).where(*mine))
        ).scalar_one()
        if topics >= 2:
            wanted.append((LinkedRule.concentrated, f"{attr}:{value}:{topics}", mine, None, {attr: value}))
    raised: list[LinkedWarning] = []
    for rule, suffix, where, last_n, about in wanted:
        if await _exists(session, _key(rule, unit, suffix)):
            continue
        members = await _ids(session, where, last_n)
        raised.append(await _raise(session, trail, unit, rule, suffix, members, about, actor))
    if warning.level == Level.high.value and not await _exists(
        session, _key(LinkedRule.relapse, unit, f"w{warning.id}")
    ):
        earlier = _true_of_unit(
            unit,
            col(Warning.id) != warning.id,
            col(Warning.person_id) == warning.person_id,
            col(Warning.state).in_(sorted(HANDLED_STATES)),
            func.coalesce(col(Warning.confirmed_at), col(Warning.raised_at))
            <= (warning.submitted_at or utcnow()),
        )
        last = await _ids(session, earlier, 1)
        if last:
            about = {"person_id": warning.person_id}
            members = [last[0], warning.id or 0]
            raised.append(
                await _raise(
                    session, trail, unit, LinkedRule.relapse, f"w{warning.id}", members, about, actor
                )
            )
    return raised


def _key(rule: LinkedRule, unit_id: int, suffix: str) -> str:
    return f"{rule.value}:{unit_id}:{suffix}"[:200]


async def _exists(session: AsyncSession, key: str) -> bool:
    found = await session.execute(select(col(LinkedWarning.id)).where(col(LinkedWarning.key) == key))
    return found.first() is not None


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
    session: AsyncSession,
    trail: AuditTrail,
    unit_id: int,
    rule: LinkedRule,
    suffix: str,
    members: Sequence[int],
    about: dict[str, Any],
    actor: Actor,
) -> LinkedWarning:
    """A new letter (the caller checked that its key is not raised yet)."""
    key = _key(rule, unit_id, suffix)
    now = utcnow()
    deadline = (await load_calendar(session)).deadline(now, REPORT_WORKING_DAYS)
    level = Level.high if rule in {LinkedRule.double_red, LinkedRule.relapse} else Level.medium
    row = LinkedWarning(
        key=key,
        rule=rule.value,
        unit_id=unit_id,
        person_id=about.get("person_id"),
        object_key=about.get("object_key"),
        topic_code=about.get("topic_code"),
        level=level.value,
        warning_ids=list(members),
        raised_at=now,
        report_due_at=deadline.due_at,
        report_provisional=deadline.provisional,
    )
    session.add(row)
    await session.flush()
    recipients = await department_and_inspectors(session, trail, unit_id)
    data = {"linked_id": row.id, "rule": rule.value, "report_due_at": deadline.due_at.isoformat()}
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
        new={"rule": rule.value, "unit_id": unit_id, "warning_ids": row.warning_ids, "key": key},
        power="warning.linked",
    )
    return row


async def evaluate_run(
    session: AsyncSession, trail: AuditTrail, run_id: int, actor: Actor
) -> list[LinkedWarning]:
    """After a rule run (the engine calls it once the run is recorded): a later hit updates the
    level of a warning already verified true (a second true red, a relapse), so each true warning
    the run touched is evaluated again. Letters already raised are not raised twice. No commit."""
    touched = (
        await session.execute(
            select(Warning)
            .where(
                col(Warning.last_run_id) == run_id,
                col(Warning.finding) == Finding.true.value,
                col(Warning.state).in_(TRUE_STATES),
                col(Warning.trial).is_(False),
            )
            .order_by(col(Warning.raised_at), col(Warning.id))
        )
    ).scalars()
    raised: list[LinkedWarning] = []
    for warning in list(touched):
        raised += await evaluate(session, trail, warning, actor)
    return raised


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

    async def report(self, principal: Principal, linked_id: int, data: RiskReportCreate) -> LinkedWarning:
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
