"""The personal escalation ladder (seed 001, DOMAIN 3.7).

Inspectors issue a notice (告知: a written explanation within 7 working days), an inquiry (质询:
answer and measures within 7 working days) or a supervision recommendation (监察建议: corrected
within one month, one extension of at most a month). The person answers from the phone. Not
answering by the deadline moves the case up a tier (:func:`sweep`, or an inspector at once); at the
top tier a missed deadline is reported to the inspectors. A follow-up visit (回访) lifts it; the
person may appeal (申诉) and gets an answer. Every step is a row of the case's file and an event.

Transitions are conditional UPDATEs on the state (and tier) read: of two simultaneous ones exactly
one wins, the other answers 409 ``state_changed``.
"""

from __future__ import annotations

import calendar as months
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.calendar.service import WorkingCalendar, load_calendar
from backend.events.service import emit
from backend.kernel.access import Actor, Channel, Principal, Role
from backend.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.ladder.models import (
    CLOSED_STATES,
    TIER_COLOUR,
    TIERS,
    CaseState,
    LadderAppeal,
    LadderCase,
    LadderStep,
    Tier,
)
from backend.ladder.schemas import (
    AnswerCreate,
    AppealAnswer,
    AppealCreate,
    AppealOutcome,
    AppealPublic,
    CaseCreate,
    CaseFile,
    CasePublic,
    ExtensionCreate,
    Reason,
    StepPublic,
    VisitCreate,
)
from backend.org.service import OrgService
from backend.warnings.inbox import person_names
from backend.warnings.routing import Routing
from backend.warnings.service import WarningService, record_read

#: seed 001: a written explanation (notice) and an answer with measures (inquiry) in 7 working days
ANSWER_WORKING_DAYS = {Tier.notice: 7, Tier.inquiry: 7}
SYSTEM = Actor.system(Channel.system, "ladder")


def add_month(day: date) -> date:
    """The same day next month (the month's last day where it is shorter)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, months.monthrange(year, month)[1]))


def tier_deadline(calendar: WorkingCalendar, tier: Tier, start: datetime) -> tuple[datetime, bool]:
    """When the answer (notice, inquiry) or the correction (recommendation) is due."""
    if tier is Tier.recommendation:
        return calendar.end_of(add_month(calendar.raised_on(start))), False
    d = calendar.deadline(start, ANSWER_WORKING_DAYS[tier])
    return d.due_at, d.provisional


async def recompute_case_deadlines(
    session: AsyncSession, trail: AuditTrail, calendar: WorkingCalendar, years: frozenset[int], actor: Actor
) -> int:
    """Open notices and inquiries whose 7 working days were counted over guessed days: recomputed
    from the moment their tier began (opened, or escalated to it) when a year's overrides change."""
    if not years:
        return 0
    rows = (
        await session.execute(
            select(LadderCase).where(
                col(LadderCase.state) == CaseState.open.value,
                col(LadderCase.due_provisional).is_(True),
                col(LadderCase.tier).in_([t.value for t in ANSWER_WORKING_DAYS]),
            )
        )
    ).scalars()
    changed = 0
    for row in list(rows):
        began = (
            await session.execute(
                select(func.max(col(LadderStep.at))).where(
                    col(LadderStep.case_id) == row.id,
                    col(LadderStep.kind) == "escalated",
                    col(LadderStep.tier) == row.tier,
                )
            )
        ).scalar_one_or_none() or row.opened_at
        due_at, provisional = tier_deadline(calendar, Tier(row.tier), began)
        if due_at == row.due_at and provisional == row.due_provisional:
            continue
        moved = await session.execute(
            update(LadderCase)
            .where(
                col(LadderCase.id) == row.id,
                col(LadderCase.due_at) == row.due_at,
                col(LadderCase.state) == row.state,
                col(LadderCase.tier) == row.tier,
            )
            .values(due_at=due_at, due_provisional=provisional)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            continue  # the case moved on meanwhile (escalated, answered, closed): nothing to note
        data = {
            "old_due_at": row.due_at.isoformat(),
            "due_at": due_at.isoformat(),
            "provisional": provisional,
        }
        session.add(
            LadderStep(
                case_id=row.id or 0,
                kind="deadline_recomputed",
                tier=row.tier,
                actor_person_id=actor.person_id,
                actor_label="calendar",
                channel=actor.channel.value,
                data=data,
            )
        )
        await trail.record(
            session,
            actor,
            action="ladder.deadline_recomputed",
            object_type="ladder_case",
            object_id=row.id,
            old={"due_at": data["old_due_at"]},
            new=data,
            power="calendar.write",
        )
        changed += 1
    return changed


def next_tier(tier: Tier) -> Tier | None:
    i = TIERS.index(tier)
    return TIERS[i + 1] if i + 1 < len(TIERS) else None


def case_public(row: LadderCase, now: datetime | None = None) -> CasePublic:
    now = now or utcnow()
    tier = Tier(row.tier)
    return CasePublic(
        **row.model_dump(exclude={"tier", "state", "overdue_reported"}),
        tier=tier,
        colour=TIER_COLOUR[tier],
        state=CaseState(row.state),
        overdue=row.state == CaseState.open.value and row.due_at < now,
    )


def answer_hash(case_id: int, data: AnswerCreate) -> str:
    body = {**data.model_dump(mode="json"), "case_id": case_id}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Told:
    """Who hears of a step: the person, the inspectors over their unit, or both."""

    person: bool = True
    inspectors: bool = True


class LadderService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.org = OrgService(session, trail)
        self.routing = Routing(self.org)

    # --- scope --------------------------------------------------------------------
    @staticmethod
    def visible(principal: Principal) -> ColumnElement[bool]:
        """The person's own cases; inspectors over the unit; the committee. Not heads: a personal file."""
        if principal.sees_all_cases():
            return true()
        clauses = [col(LadderCase.person_id) == principal.person_id]
        if principal.has(Role.inspector):
            clauses.append(col(LadderCase.unit_id).in_(sorted(principal.subtree_unit_ids)))
        return or_(*clauses)

    @staticmethod
    def may_act(principal: Principal, unit_id: int, person_id: int) -> bool:
        return (
            principal.has(Role.inspector)
            and unit_id in principal.subtree_unit_ids
            and person_id != principal.person_id
        )

    async def get(self, principal: Principal, case_id: int) -> LadderCase:
        row = (
            await self.session.execute(
                select(LadderCase)
                .where(col(LadderCase.id) == case_id, self.visible(principal))
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"case {case_id} does not exist or is not in your scope", code="case_not_found")
        return row

    def _inspector(self, principal: Principal, row: LadderCase) -> None:
        if not self.may_act(principal, row.unit_id, row.person_id):
            raise Forbidden("an inspector over the person's unit does this", code="not_inspector")

    @staticmethod
    def _open(row: LadderCase, action: str) -> None:
        if row.state in CLOSED_STATES:
            raise Conflict(
                f"cannot {action}: the case is {row.state}",
                code="case_closed",
                extra={"state": row.state, "action": action},
            )

    # --- steps, events and the trail ------------------------------------------------
    async def _step(
        self,
        row: LadderCase,
        actor: Actor,
        kind: str,
        *,
        text: str | None = None,
        data: dict[str, Any] | None = None,
        told: Told | None = None,
        event: str = "ladder.step",
        client_id: str | None = None,
        body_hash: str | None = None,
    ) -> None:
        assert row.id is not None
        payload = {
            "case_id": row.id,
            "step": kind,
            "tier": row.tier,
            "due_at": row.due_at.isoformat(),
            **(data or {}),
        }
        self.session.add(
            LadderStep(
                case_id=row.id,
                kind=kind,
                tier=row.tier,
                actor_person_id=actor.person_id,
                actor_label=actor.label,
                channel=actor.channel.value,
                text=text,
                client_id=client_id,
                body_hash=body_hash,
                data=payload,
            )
        )
        await self.session.flush()
        told = told or Told()
        recipients: list[tuple[int, str]] = []
        if told.person:
            recipients.append((row.person_id, "subject"))
        if told.inspectors:
            recipients += [
                (p, "inspector") for p in await self.routing.inspectors(row.unit_id) if p != row.person_id
            ]
        recipients = [(p, r) for p, r in recipients if p != actor.person_id]
        if recipients:
            await emit(
                self.session,
                event,
                subject_type="ladder_case",
                subject_id=row.id,
                recipients=recipients,
                level=TIER_COLOUR[Tier(row.tier)],
                data=payload,
            )
        await self.trail.record(
            self.session,
            actor,
            action=f"ladder.{kind}",
            object_type="ladder_case",
            object_id=row.id,
            new={k: v for k, v in payload.items() if k != "case_id"},
            power="ladder",
        )

    async def _move(self, row: LadderCase, values: dict[str, Any]) -> None:
        """Conditional UPDATE from the state and tier read; a lost race is 409 ``state_changed``."""
        result = await self.session.execute(
            update(LadderCase)
            .where(
                col(LadderCase.id) == row.id,
                col(LadderCase.state) == row.state,
                col(LadderCase.tier) == row.tier,
                col(LadderCase.due_at) == row.due_at,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"case {row.id} changed meanwhile; reload it", code="state_changed")
        await self.session.refresh(row)

    # --- issuing ------------------------------------------------------------------
    async def open_case(self, principal: Principal, data: CaseCreate) -> LadderCase:
        person = await self.org.get_person(principal, data.person_id)
        assert person.id is not None
        if not self.may_act(principal, person.unit_id, person.id):
            raise Forbidden("an inspector over the person's unit issues ladder steps", code="not_inspector")
        warnings = WarningService(self.session, self.trail, self.settings)
        for warning_id in dict.fromkeys(data.warning_ids):
            warning = await warnings.get_visible(principal, warning_id)
            if warning.person_id != person.id:
                raise Invalid(
                    f"warning {warning_id} is not a warning of this person",
                    code="warning_not_of_person",
                    extra={"field": "warning_ids", "warning_id": warning_id},
                )
        now = utcnow()
        due_at, provisional = tier_deadline(await load_calendar(self.session), data.tier, now)
        row = LadderCase(
            person_id=person.id,
            unit_id=person.unit_id,
            tier=data.tier.value,
            subject=data.subject,
            problem=data.problem,
            requirements=data.requirements,
            warning_ids=list(dict.fromkeys(data.warning_ids)),
            opened_by=principal.person_id,
            opened_at=now,
            due_at=due_at,
            due_provisional=provisional,
        )
        self.session.add(row)
        await self.session.flush()
        await self._step(row, principal.actor, "issued", text=data.problem, told=Told(inspectors=False))
        await self.session.commit()
        return row

    # --- the person ---------------------------------------------------------------
    async def answer(self, principal: Principal, case_id: int, data: AnswerCreate) -> tuple[LadderCase, bool]:
        digest = answer_hash(case_id, data)
        first = (
            await self.session.execute(select(LadderStep).where(col(LadderStep.client_id) == data.client_id))
        ).scalar_one_or_none()
        if first is not None:
            if (
                first.case_id != case_id
                or first.body_hash != digest
                or first.actor_person_id != principal.person_id
            ):
                raise Conflict(
                    "this client_id was already used for another answer; make a new id for a new answer",
                    code="client_id_reused",
                    extra={"field": "client_id"},
                )
            return await self.get(principal, case_id), False
        row = await self.get(principal, case_id)
        if row.person_id != principal.person_id:
            raise Forbidden("only the person answers their case", code="not_your_case")
        self._open(row, "answer")
        if row.state != CaseState.open.value:
            raise Conflict(
                "the answer at this tier was given", code="invalid_transition", extra={"state": row.state}
            )
        if row.tier != Tier.notice.value and not data.measures.strip():
            raise Invalid(
                "an inquiry or a recommendation is answered with measures", code="measures_required",
                extra={"field": "measures"},
            )  # fmt: skip
        late = utcnow() > row.due_at
        await self._move(row, {"state": CaseState.answered.value})
        try:
            await self._step(
                row,
                principal.actor,
                "answered",
                text=data.text,
                data={"measures": data.measures, "late": late},
                told=Told(person=False),
                client_id=data.client_id,
                body_hash=digest,
            )
        except IntegrityError:  # the same answer raced in twice: the first stands
            await self.session.rollback()
            return await self.answer(principal, case_id, data)
        await self.session.commit()
        return row, True

    async def appeal(self, principal: Principal, case_id: int, data: AppealCreate) -> LadderAppeal:
        row = await self.get(principal, case_id)
        if row.person_id != principal.person_id:
            raise Forbidden("only the person appeals their case", code="not_your_case")
        self._open(row, "appeal")
        pending = (
            await self.session.execute(
                select(col(LadderAppeal.id)).where(
                    col(LadderAppeal.case_id) == case_id, col(LadderAppeal.answered_at).is_(None)
                )
            )
        ).first()
        if pending is not None:
            raise Conflict("an appeal of this case awaits its answer", code="appeal_pending")
        appeal = LadderAppeal(case_id=case_id, person_id=principal.person_id, text=data.text)
        self.session.add(appeal)
        await self.session.flush()
        await self._step(
            row,
            principal.actor,
            "appealed",
            text=data.text,
            data={"appeal_id": appeal.id},
            told=Told(person=False),
            event="ladder.appeal",
        )
        await self.session.commit()
        return appeal

    # --- the inspectors -----------------------------------------------------------
    async def escalate(self, principal: Principal, case_id: int, data: Reason) -> LadderCase:
        row = await self.get(principal, case_id)
        self._inspector(principal, row)
        self._open(row, "escalate")
        await self._escalate(row, principal.actor, data.reason)
        await self.session.commit()
        return row

    async def _escalate(self, row: LadderCase, actor: Actor, reason: str) -> None:
        up = next_tier(Tier(row.tier))
        if up is None:
            raise Conflict("a supervision recommendation is the top tier", code="top_tier")
        before = row.tier
        due_at, provisional = tier_deadline(await load_calendar(self.session), up, utcnow())
        await self._move(
            row,
            {
                "tier": up.value,
                "state": CaseState.open.value,
                "due_at": due_at,
                "due_provisional": provisional,
                "extended": False,
                "overdue_reported": False,
            },
        )
        await self._step(row, actor, "escalated", text=reason, data={"from_tier": before})

    async def extend(self, principal: Principal, case_id: int, data: ExtensionCreate) -> LadderCase:
        row = await self.get(principal, case_id)
        self._inspector(principal, row)
        self._open(row, "extend")
        if row.tier != Tier.recommendation.value:
            raise Conflict(
                "only a recommendation's correction deadline is extended", code="not_recommendation"
            )
        if row.extended:
            raise Conflict("the one extension was granted already", code="already_extended")
        try:
            until = date.fromisoformat(data.until)
        except ValueError as exc:
            raise Invalid(
                f"until must be a date as YYYY-MM-DD, not {data.until[:40]!r}", code="invalid_date",
                extra={"field": "until"},
            ) from exc  # fmt: skip
        calendar = await load_calendar(self.session)
        due_on = calendar.raised_on(row.due_at)
        if until <= due_on:
            raise Invalid("the extension must end after the current deadline", code="extension_not_later",
                          extra={"field": "until", "due_on": due_on.isoformat()})  # fmt: skip
        if until > add_month(due_on):
            raise Invalid(
                "an extension is at most one month (seed 001)", code="extension_too_long",
                extra={"field": "until", "latest": add_month(due_on).isoformat()},
            )  # fmt: skip
        before = row.due_at
        await self._move(
            row,
            {
                "due_at": calendar.end_of(until),
                "due_provisional": False,
                "extended": True,
                "overdue_reported": False,
            },
        )
        await self._step(
            row, principal.actor, "extended", text=data.reason, data={"old_due_at": before.isoformat()},
            told=Told(inspectors=False),
        )  # fmt: skip
        await self.session.commit()
        return row

    async def visit(self, principal: Principal, case_id: int, data: VisitCreate) -> LadderCase:
        row = await self.get(principal, case_id)
        self._inspector(principal, row)
        self._open(row, "visit")
        if data.lifted:
            await self._move(row, {"state": CaseState.lifted.value, "closed_at": utcnow()})
        await self._step(row, principal.actor, "lifted" if data.lifted else "visited", text=data.note,
                         data={"lifted": data.lifted}, told=Told(inspectors=False))  # fmt: skip
        await self.session.commit()
        return row

    async def answer_appeal(
        self, principal: Principal, case_id: int, appeal_id: int, data: AppealAnswer
    ) -> tuple[LadderCase, LadderAppeal]:
        row = await self.get(principal, case_id)
        self._inspector(principal, row)
        appeal = await self.session.get(LadderAppeal, appeal_id)
        if appeal is None or appeal.case_id != case_id:
            raise NotFound(f"appeal {appeal_id} is not on case {case_id}", code="appeal_not_found")
        now = utcnow()
        result = await self.session.execute(
            update(LadderAppeal)
            .where(col(LadderAppeal.id) == appeal_id, col(LadderAppeal.answered_at).is_(None))
            .values(
                answer=data.answer,
                outcome=data.outcome.value,
                answered_by=principal.person_id,
                answered_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("this appeal was answered already", code="appeal_answered")
        if data.outcome is AppealOutcome.upheld and row.state not in CLOSED_STATES:
            await self._move(row, {"state": CaseState.withdrawn.value, "closed_at": now})
        await self._step(
            row,
            principal.actor,
            "appeal_answered",
            text=data.answer,
            data={"appeal_id": appeal_id, "outcome": data.outcome.value},
            told=Told(inspectors=False),
            event="ladder.appeal_answered",
        )
        await self.session.commit()
        await self.session.refresh(appeal)
        return row, appeal

    # --- reading ------------------------------------------------------------------
    async def cases(
        self, principal: Principal, *, state: CaseState | None, person_id: int | None, limit: int, offset: int
    ) -> list[LadderCase]:
        stmt = select(LadderCase).where(self.visible(principal))
        if state is not None:
            stmt = stmt.where(col(LadderCase.state) == state.value)
        if person_id is not None:
            stmt = stmt.where(col(LadderCase.person_id) == person_id)
        stmt = (
            stmt.order_by(col(LadderCase.opened_at).desc(), col(LadderCase.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def named(self, rows: list[LadderCase]) -> list[CasePublic]:
        """The cases as a list shows them: each with whose it is."""
        names = await person_names(self.session, [r.person_id for r in rows])
        return [case_public(r).model_copy(update={"person_name": names.get(r.person_id)}) for r in rows]

    def actions(
        self, principal: Principal, row: LadderCase, pending_appeal: LadderAppeal | None
    ) -> list[str]:
        if row.state in CLOSED_STATES:
            return (
                ["answer_appeal"]
                if pending_appeal and self.may_act(principal, row.unit_id, row.person_id)
                else []
            )
        out: list[str] = []
        if principal.person_id == row.person_id:
            if row.state == CaseState.open.value:
                out.append("answer")
            if pending_appeal is None:
                out.append("appeal")
        if self.may_act(principal, row.unit_id, row.person_id):
            if row.tier != Tier.recommendation.value:
                out.append("escalate")
            elif not row.extended:
                out.append("extend")
            out.append("visit")
            if pending_appeal is not None:
                out.append("answer_appeal")
        return out

    async def file(self, principal: Principal, case_id: int) -> CaseFile:
        row = await self.get(principal, case_id)
        steps = (
            await self.session.execute(
                select(LadderStep).where(col(LadderStep.case_id) == case_id).order_by(col(LadderStep.id))
            )
        ).scalars()
        appeals = list(
            (
                await self.session.execute(
                    select(LadderAppeal)
                    .where(col(LadderAppeal.case_id) == case_id)
                    .order_by(col(LadderAppeal.id))
                )
            ).scalars()
        )
        await record_read(self.session, self.trail, principal.actor, "ladder.view", "ladder_case", case_id)
        pending = next((a for a in appeals if a.answered_at is None), None)
        return CaseFile(
            case=case_public(row),
            steps=[StepPublic.model_validate(s, from_attributes=True) for s in steps],
            appeals=[AppealPublic.model_validate(a, from_attributes=True) for a in appeals],
            actions=self.actions(principal, row, pending),
        )


@dataclass
class SweepReport:
    escalated: int = 0
    overdue: int = 0

    def line(self) -> str:
        return f"ladder: escalated {self.escalated}, overdue recommendations reported {self.overdue}"


async def sweep(
    session: AsyncSession, trail: AuditTrail, settings: Settings, *, now: datetime | None = None
) -> SweepReport:
    """Open cases past their deadline: up a tier (notice, inquiry) or reported once (recommendation)."""
    now = now or utcnow()
    report = SweepReport()
    svc = LadderService(session, trail, settings)
    late = list(
        (
            await session.execute(
                select(LadderCase).where(
                    col(LadderCase.state) == CaseState.open.value,
                    col(LadderCase.due_at) < now,
                    col(LadderCase.overdue_reported).is_(False),
                )
            )
        ).scalars()
    )
    for row in late:
        try:
            if row.tier == Tier.recommendation.value:
                await svc._move(row, {"overdue_reported": True})
                await svc._step(
                    row, SYSTEM, "overdue", text="not corrected by the deadline", event="ladder.overdue"
                )
                report.overdue += 1
            else:
                await svc._escalate(row, SYSTEM, "no answer by the deadline (seed 001: moves up a tier)")
                report.escalated += 1
        except Conflict:  # another worker moved it first (nothing of this row was written)
            continue
        await session.commit()
    return report
