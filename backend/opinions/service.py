"""Collaborative supervision opinions (B.15, standard 9.2.3.2): drafted → submitted (with the project
group leader's opinion) → approved by the supervision committee (or returned to the draft) → sent to
the department → answered by its head → followed up until closed (or sent back for another answer).

An inspector over the department drafts, submits, sends and follows up; only the committee approves
or returns; only a head over the department answers. Heads see an opinion once it is sent. A step
by the wrong role is 403, out of order 409 ``out_of_order``; each is in the timeline and the trail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.events.service import emit
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden
from backend.kernel.flow import CaseFlow, advance, require
from backend.kernel.timeutil import local, utcnow
from backend.opinions.models import Opinion, OpinionState, OpinionStep
from backend.opinions.schemas import OpinionCreate, OpinionFile, OpinionFollow, OpinionPublic, OpinionText
from backend.org.service import OrgService
from backend.warnings.inbox import person_names

S = OpinionState
#: what a head of the department sees: the opinion once it is sent
SENT = (S.sent.value, S.answered.value, S.closed.value)


def opinion_number(row: Opinion) -> str:
    return f"YJ-{local(row.drafted_at).year}-{row.id or 0:04d}"


class OpinionService(CaseFlow):
    record, step, key, kind = Opinion, OpinionStep, "opinion_id", "opinion"

    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        super().__init__(session, trail, person_names)
        self.org = OrgService(session, trail)

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        if principal.sees_all_cases():
            return true()
        units = col(Opinion.unit_id).in_(sorted(principal.subtree_unit_ids))
        clauses: list[ColumnElement[bool]] = []
        if principal.has(Role.inspector):
            clauses.append(units)
        if principal.has(Role.head):
            clauses.append(and_(units, col(Opinion.state).in_(SENT)))
        return or_(*clauses) if clauses else col(Opinion.id).is_(None)

    @staticmethod
    def inspector(principal: Principal, row: Opinion) -> bool:
        return principal.has(Role.inspector) and row.unit_id in principal.subtree_unit_ids

    @staticmethod
    def head(principal: Principal, row: Opinion) -> bool:
        return principal.has(Role.head) and row.unit_id in principal.subtree_unit_ids

    def _need(self, allowed: bool, who: str) -> None:
        if not allowed:
            raise Forbidden(f"{who} takes this step", code="not_your_step")

    # --- the steps ------------------------------------------------------------------
    async def create(self, principal: Principal, data: OpinionCreate) -> Opinion:
        if not principal.has(Role.inspector):
            raise Forbidden("inspectors draft opinions", code="not_your_step")
        if data.unit_id not in principal.subtree_unit_ids:
            raise Forbidden("the unit is outside your scope", code="out_of_scope", extra={"field": "unit_id"})
        row = Opinion(**data.model_dump(), drafted_by=principal.person_id)
        self.session.add(row)
        await self.session.flush()
        await self.add_step(principal, row, "drafted")
        return row

    async def submit(self, principal: Principal, opinion_id: int, data: OpinionText) -> Opinion:
        row = await self.get(principal, opinion_id)
        self._need(self.inspector(principal, row), "an inspector over the department")
        require(row.state, {S.drafted}, "submit")
        values = {"leader_opinion": data.text, "leader_by": principal.person_id, "leader_at": utcnow()}
        await advance(self.session, row, S.submitted, values)
        await self.add_step(principal, row, "submitted", note=data.text)
        return row

    async def approve(self, principal: Principal, opinion_id: int, data: OpinionText) -> Opinion:
        row = await self.get(principal, opinion_id)
        self._need(principal.has(Role.committee), "the supervision committee")
        require(row.state, {S.submitted}, "approve")
        values = {
            "committee_opinion": data.text,
            "committee_by": principal.person_id,
            "committee_at": utcnow(),
        }
        await advance(self.session, row, S.approved, values)
        await self._tell_drafter(row, "approved")
        await self.add_step(principal, row, "approved", note=data.text)
        return row

    async def send_back(self, principal: Principal, opinion_id: int, data: OpinionText) -> Opinion:
        row = await self.get(principal, opinion_id)
        self._need(principal.has(Role.committee), "the supervision committee")
        require(row.state, {S.submitted}, "return")
        await advance(
            self.session, row, S.drafted, {"leader_opinion": "", "leader_by": None, "leader_at": None}
        )
        await self._tell_drafter(row, "returned")
        await self.add_step(principal, row, "returned", note=data.text)
        return row

    async def send(self, principal: Principal, opinion_id: int) -> Opinion:
        row = await self.get(principal, opinion_id)
        self._need(self.inspector(principal, row), "an inspector over the department")
        require(row.state, {S.approved}, "send")
        await advance(self.session, row, S.sent, {"sent_at": utcnow()})
        heads = await self._heads(row.unit_id)
        if heads:
            await emit(
                self.session,
                "opinion.sent",
                subject_type="opinion",
                subject_id=row.id or 0,
                recipients=[(p, "head") for p in heads],
                data={"opinion_id": row.id},
            )
        await self.add_step(principal, row, "sent", heads=heads)
        return row

    async def _tell_drafter(self, row: Opinion, kind: str) -> None:
        """The inspector who drafted the opinion hears of its review and of the department's answer."""
        await emit(
            self.session,
            f"opinion.{kind}",
            subject_type="opinion",
            subject_id=row.id or 0,
            recipients=[(row.drafted_by, "drafter")],
            data={"opinion_id": row.id},
        )

    async def _heads(self, unit_id: int) -> list[int]:
        """The heads of the department (the nearest unit up its chain that has one)."""
        chain = await self.org.unit_chain(unit_id)
        held = await self.org.holders("head", chain) if chain else {}
        return next((held[u] for u in chain if held.get(u)), [])

    async def answer(self, principal: Principal, opinion_id: int, data: OpinionText) -> Opinion:
        row = await self.get(principal, opinion_id)
        self._need(self.head(principal, row), "a head of the department")
        require(row.state, {S.sent}, "answer")
        values = {"answer": data.text, "answered_by": principal.person_id, "answered_at": utcnow()}
        await advance(self.session, row, S.answered, values)
        await self._tell_drafter(row, "answered")
        await self.add_step(principal, row, "answered", note=data.text)
        return row

    async def follow(self, principal: Principal, opinion_id: int, data: OpinionFollow) -> Opinion:
        row = await self.get(principal, opinion_id)
        self._need(self.inspector(principal, row), "an inspector over the department")
        require(row.state, {S.answered}, "follow up")
        values: dict[str, Any] = {"follow_up": data.text}
        if data.settled:
            values["closed_at"] = utcnow()
        await advance(self.session, row, S.closed if data.settled else S.sent, values)
        await self.add_step(principal, row, "closed" if data.settled else "followed", note=data.text)
        return row

    # --- reading --------------------------------------------------------------------
    async def public(self, rows: list[Opinion]) -> list[OpinionPublic]:
        units = {u.id: u.name for u in await self.org.list_units()}
        who = [p for r in rows for p in (r.drafted_by, r.leader_by, r.committee_by, r.answered_by)]
        names = await person_names(self.session, who)
        return [
            OpinionPublic.model_validate(
                {
                    **r.model_dump(),
                    "number": opinion_number(r),
                    "unit_name": units.get(r.unit_id, ""),
                    "drafted_by_name": names.get(r.drafted_by),
                    "leader_name": names.get(r.leader_by or 0),
                    "committee_name": names.get(r.committee_by or 0),
                    "answered_by_name": names.get(r.answered_by or 0),
                }
            )
            for r in rows
        ]

    async def listed(
        self, principal: Principal, state: OpinionState | None, limit: int, offset: int
    ) -> list[OpinionPublic]:
        stmt = select(Opinion).where(self.visible(principal))
        if state is not None:
            stmt = stmt.where(col(Opinion.state) == state.value)
        order = (col(Opinion.drafted_at).desc(), col(Opinion.id).desc())
        rows = list((await self.session.execute(stmt.order_by(*order).limit(limit).offset(offset))).scalars())
        return await self.public(rows)

    def actions(self, principal: Principal, row: Opinion) -> list[str]:
        inspector, committee = self.inspector(principal, row), principal.has(Role.committee)
        table: dict[str, list[tuple[str, bool]]] = {
            S.drafted: [("submit", inspector)],
            S.submitted: [("approve", committee), ("return", committee)],
            S.approved: [("send", inspector)],
            S.sent: [("answer", self.head(principal, row))],
            S.answered: [("follow", inspector)],
        }
        return [name for name, allowed in table.get(row.state, []) if allowed]

    async def file(self, principal: Principal, opinion_id: int) -> OpinionFile:
        row = await self.get(principal, opinion_id)
        steps = await self.timeline(principal, opinion_id)
        return OpinionFile(
            opinion=(await self.public([row]))[0], steps=steps, actions=self.actions(principal, row)
        )

    async def sheet(self, principal: Principal, opinion_id: int) -> OpinionPublic:
        row = await self.get(principal, opinion_id)
        await self.trail.record(
            self.session,
            principal.actor,
            action="opinion.pdf",
            object_type="opinion",
            object_id=opinion_id,
            power="case.export",
        )
        await self.session.commit()
        return (await self.public([row]))[0]
