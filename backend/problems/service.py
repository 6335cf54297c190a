"""The problem list (Shenyang §5.10): register → classify → assign → rectify (measures, due date) →
report done → check → close (销号) → re-check later.

Inspectors over the problem's unit register (or a head reports a problem of their own unit:
自查上报), classify, assign, check, close and re-check; the assignee or a head over the unit plans
the rectification and reports it done. A check that fails sends the problem back to rectifying; a
re-check that finds it back assigns it again. Each step is allowed only from the state before it
(409 ``out_of_order`` otherwise), is a row of the timeline and a record of the trail of acts.
The effect of closed problems (money recovered, problems avoided) is summed over the caller's scope.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden, Invalid
from backend.kernel.flow import CaseFlow, advance, require
from backend.kernel.timeutil import local, utcnow
from backend.org.service import OrgService
from backend.problems.models import Problem, ProblemOrigin, ProblemState, ProblemStep
from backend.problems.schemas import (
    ProblemAssign,
    ProblemCheck,
    ProblemClassify,
    ProblemClose,
    ProblemCreate,
    ProblemDone,
    ProblemEffect,
    ProblemFile,
    ProblemPlan,
    ProblemPublic,
    ProblemRecheck,
)
from backend.warnings.inbox import person_names

S = ProblemState


def problem_number(row: Problem) -> str:
    return f"WT-{local(row.registered_at).year}-{row.id or 0:04d}"


class ProblemService(CaseFlow):
    record, step, key, kind = Problem, ProblemStep, "problem_id", "problem"

    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        super().__init__(session, trail, person_names)
        self.org = OrgService(session, trail)

    # --- scope and roles ------------------------------------------------------------
    @staticmethod
    def visible(principal: Principal) -> ColumnElement[bool]:
        if principal.sees_all_cases():
            return true()
        clauses = [col(Problem.assignee_person_id) == principal.person_id]
        if principal.has(Role.inspector, Role.head):
            clauses.append(col(Problem.unit_id).in_(sorted(principal.subtree_unit_ids)))
        return or_(*clauses)

    @staticmethod
    def inspector(principal: Principal, row: Problem) -> bool:
        return principal.has(Role.inspector) and row.unit_id in principal.subtree_unit_ids

    @staticmethod
    def rectifier(principal: Principal, row: Problem) -> bool:
        """The assignee, or a head over the problem's unit."""
        return row.assignee_person_id == principal.person_id or (
            principal.has(Role.head) and row.unit_id in principal.subtree_unit_ids
        )

    def _need(self, allowed: bool, who: str) -> None:
        if not allowed:
            raise Forbidden(f"{who} takes this step", code="not_your_step")

    # --- the steps ------------------------------------------------------------------
    async def create(self, principal: Principal, data: ProblemCreate) -> Problem:
        if data.unit_id not in principal.subtree_unit_ids:
            raise Forbidden("the unit is outside your scope", code="out_of_scope", extra={"field": "unit_id"})
        if not principal.has(Role.inspector, Role.head):
            raise Forbidden(
                "inspectors register problems; heads report their unit's own", code="not_your_step"
            )
        if not principal.has(Role.inspector) and data.origin is not ProblemOrigin.self_report:
            raise Invalid(
                "a unit reports its own problems (自查上报)",
                code="self_report_only",
                extra={"field": "origin"},
            )
        row = Problem(**data.model_dump(mode="json"), registered_by=principal.person_id)
        self.session.add(row)
        await self.session.flush()
        await self.add_step(principal, row, "registered", note=data.title, origin=data.origin.value)
        return row

    async def classify(self, principal: Principal, problem_id: int, data: ProblemClassify) -> Problem:
        row = await self.get(principal, problem_id)
        self._need(self.inspector(principal, row), "an inspector over the unit")
        require(row.state, {S.registered}, "classify")
        await advance(self.session, row, S.classified, {"category": data.category.value})
        await self.add_step(principal, row, "classified", category=data.category.value)
        return row

    async def assign(self, principal: Principal, problem_id: int, data: ProblemAssign) -> Problem:
        row = await self.get(principal, problem_id)
        self._need(self.inspector(principal, row), "an inspector over the unit")
        require(row.state, {S.classified}, "assign")
        person = await self.org.get_person(principal, data.assignee_person_id)
        if row.unit_id not in await self.org.unit_chain(person.unit_id):
            raise Invalid(
                "the assignee works in the problem's unit",
                code="assignee_not_in_unit",
                extra={"field": "assignee_person_id"},
            )
        await advance(self.session, row, S.assigned, {"assignee_person_id": person.id})
        await self.add_step(principal, row, "assigned", assignee=person.id)
        return row

    async def plan(self, principal: Principal, problem_id: int, data: ProblemPlan) -> Problem:
        row = await self.get(principal, problem_id)
        self._need(self.rectifier(principal, row), "the assignee or a head over the unit")
        require(row.state, {S.assigned}, "plan the rectification")
        if data.due_on < local(utcnow()).date():
            raise Invalid("the due date is in the past", code="due_in_past", extra={"field": "due_on"})
        await advance(self.session, row, S.rectifying, {"measures": data.measures, "due_on": data.due_on})
        await self.add_step(principal, row, "planned", note=data.measures, due_on=data.due_on.isoformat())
        return row

    async def done(self, principal: Principal, problem_id: int, data: ProblemDone) -> Problem:
        row = await self.get(principal, problem_id)
        self._need(self.rectifier(principal, row), "the assignee or a head over the unit")
        require(row.state, {S.rectifying}, "report the rectification done")
        await advance(self.session, row, S.rectified, {"rectified_text": data.text, "rectified_at": utcnow()})
        await self.add_step(principal, row, "rectified", note=data.text)
        return row

    async def check(self, principal: Principal, problem_id: int, data: ProblemCheck) -> Problem:
        row = await self.get(principal, problem_id)
        self._need(
            self.inspector(principal, row) and row.assignee_person_id != principal.person_id,
            "an inspector over the unit (not the assignee)",
        )
        require(row.state, {S.rectified}, "check")
        await advance(
            self.session, row, S.checked if data.passed else S.rectifying, {"checked_by": principal.person_id}
        )
        await self.add_step(principal, row, "checked" if data.passed else "check_failed", note=data.note)
        return row

    async def close(self, principal: Principal, problem_id: int, data: ProblemClose) -> Problem:
        row = await self.get(principal, problem_id)
        self._need(self.inspector(principal, row), "an inspector over the unit")
        require(row.state, {S.checked}, "close")
        effect = data.model_dump(exclude={"recheck_on"})
        await advance(
            self.session, row, S.closed, {**effect, "recheck_on": data.recheck_on, "closed_at": utcnow()}
        )
        await self.add_step(
            principal,
            row,
            "closed",
            note=data.effect_note or None,
            recheck_on=data.recheck_on.isoformat() if data.recheck_on else None,
            money_recovered=data.money_recovered,
            problems_avoided=data.problems_avoided,
        )
        return row

    async def recheck(self, principal: Principal, problem_id: int, data: ProblemRecheck) -> Problem:
        row = await self.get(principal, problem_id)
        self._need(self.inspector(principal, row), "an inspector over the unit")
        require(row.state, {S.closed}, "re-check")
        values: dict[str, Any] = {"rechecks": row.rechecks + 1, "recheck_on": None}
        await advance(self.session, row, S.assigned if data.relapsed else S.closed, values)
        await self.add_step(principal, row, "relapsed" if data.relapsed else "rechecked", note=data.note)
        return row

    # --- reading --------------------------------------------------------------------
    async def public(self, rows: list[Problem]) -> list[ProblemPublic]:
        units = {u.id: u.name for u in await self.org.list_units()}
        names = await person_names(
            self.session, [p for r in rows for p in (r.registered_by, r.assignee_person_id)]
        )
        today = local(utcnow()).date()
        return [
            ProblemPublic.model_validate(
                {
                    **r.model_dump(),
                    "number": problem_number(r),
                    "unit_name": units.get(r.unit_id, ""),
                    "registered_by_name": names.get(r.registered_by),
                    "assignee_name": names.get(r.assignee_person_id or 0),
                    "overdue": r.state == S.rectifying and r.due_on is not None and r.due_on < today,
                }
            )
            for r in rows
        ]

    async def listed(
        self, principal: Principal, state: ProblemState | None, limit: int, offset: int
    ) -> list[ProblemPublic]:
        stmt = select(Problem).where(self.visible(principal))
        if state is not None:
            stmt = stmt.where(col(Problem.state) == state.value)
        rows = list(
            (
                await self.session.execute(
                    stmt.order_by(col(Problem.registered_at).desc(), col(Problem.id).desc())
                    .limit(limit)
                    .offset(offset)
                )
            ).scalars()
        )
        return await self.public(rows)

    def actions(self, principal: Principal, row: Problem) -> list[str]:
        inspector = self.inspector(principal, row)
        rectifier = self.rectifier(principal, row)
        table = {
            S.registered: ("classify", inspector),
            S.classified: ("assign", inspector),
            S.assigned: ("plan", rectifier),
            S.rectifying: ("done", rectifier),
            S.rectified: ("check", inspector and row.assignee_person_id != principal.person_id),
            S.checked: ("close", inspector),
            S.closed: ("recheck", inspector),
        }
        action, allowed = table[S(row.state)]
        return [action] if allowed else []

    async def file(self, principal: Principal, problem_id: int) -> ProblemFile:
        row = await self.get(principal, problem_id)
        steps = await self.timeline(principal, problem_id)
        return ProblemFile(
            problem=(await self.public([row]))[0], steps=steps, actions=self.actions(principal, row)
        )

    async def effect(self, principal: Principal, since: date | None = None) -> ProblemEffect:
        where = [self.visible(principal)]
        if since is not None:
            where.append(col(Problem.registered_at) >= since)
        by_state = {
            str(state): int(n)
            for state, n in (
                await self.session.execute(
                    select(col(Problem.state), func.count()).where(*where).group_by(col(Problem.state))
                )
            ).all()
        }
        money, avoided = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(col(Problem.money_recovered)), 0),
                    func.coalesce(func.sum(col(Problem.problems_avoided)), 0),
                ).where(*where, col(Problem.state) == S.closed.value)
            )
        ).one()
        return ProblemEffect(
            total=sum(by_state.values()),
            by_state=by_state,
            closed=by_state.get(S.closed.value, 0),
            money_recovered=round(float(money), 2),
            problems_avoided=int(avoided),
        )
