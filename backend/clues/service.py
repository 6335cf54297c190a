"""Problem clues (B.16): registered → triaged → handed over → received → concluded.

Read by inspectors over the clue's unit and the committee only (an inspector never sees a clue
about themselves); the receiver of a handover sees the clue they hold. Inspectors over the unit
register, triage and hand over; the committee gives its instruction (领导批示) at any step before
the outcome; only the named receiver signs the receipt; the receiver or an inspector over the
unit records the outcome. A step out of order is refused (409 ``out_of_order``), every step is a
row of the clue's timeline and a record of the trail of acts.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.clues.models import Clue, ClueSource, ClueState, ClueStep, ClueText
from backend.clues.schemas import (
    ClueConclusion,
    ClueCreate,
    ClueFile,
    ClueHandover,
    ClueInstruction,
    CluePublic,
    ClueTriage,
    Receiver,
)
from backend.events.service import emit
from backend.intake.service import IntakeService
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Conflict, Forbidden, Invalid
from backend.kernel.flow import CaseFlow, advance, require
from backend.kernel.settings import Settings
from backend.kernel.timeutil import local, utcnow
from backend.org.service import OrgService
from backend.warnings.inbox import person_names
from backend.warnings.models import Finding, WarningState
from backend.warnings.service import WarningService

POWER = "clue"
#: a warning is a true warning once a head or inspector confirmed its 属实 reply
TRUE_STATES = frozenset({WarningState.confirmed.value, WarningState.closed.value})


def clue_number(row: Clue) -> str:
    return f"XS-{local(row.registered_at).year}-{row.id or 0:04d}"


class ClueService(CaseFlow):
    record, step, key, kind = Clue, ClueStep, "clue_id", "clue"

    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        super().__init__(session, trail, person_names)
        self.trail: AuditTrail = trail
        self.settings = settings
        self.org = OrgService(session, trail)

    # --- scope --------------------------------------------------------------------
    @staticmethod
    def visible(principal: Principal) -> ColumnElement[bool]:
        if principal.sees_all_cases():
            return true()
        mine = col(Clue.receiver_person_id) == principal.person_id
        if not principal.has(Role.inspector):
            return mine
        over = and_(
            col(Clue.unit_id).in_(sorted(principal.subtree_unit_ids)),
            or_(col(Clue.subject_person_id).is_(None), col(Clue.subject_person_id) != principal.person_id),
        )
        return or_(over, mine)

    @staticmethod
    def may_act(principal: Principal, row: Clue) -> bool:
        """An inspector over the clue's unit who is not its subject."""
        return (
            principal.has(Role.inspector)
            and row.unit_id in principal.subtree_unit_ids
            and row.subject_person_id != principal.person_id
        )

    def _inspector(self, principal: Principal, row: Clue, action: str) -> None:
        if not self.may_act(principal, row):
            raise Forbidden(f"an inspector over the clue's unit may {action}", code="not_inspector")

    # --- registering ----------------------------------------------------------------
    async def create(self, principal: Principal, data: ClueCreate) -> Clue:
        if not principal.has(Role.inspector):
            raise Forbidden("inspectors register clues", code="not_inspector")
        person_id = data.subject_person_id
        unit_id = data.unit_id
        if data.source is ClueSource.warning:
            if data.warning_id is None:
                raise Invalid(
                    "a clue from a warning names it", code="required", extra={"field": "warning_id"}
                )
            warning = await WarningService(self.session, self.trail, self.settings).get_visible(
                principal, data.warning_id
            )
            if warning.finding != Finding.true.value or warning.state not in TRUE_STATES:
                raise Conflict(
                    "only a warning confirmed as true (属实) becomes a clue",
                    code="warning_not_true",
                    extra={"field": "warning_id"},
                )
            person_id, unit_id = warning.person_id, warning.unit_id
        elif data.warning_id is not None:
            raise Invalid(
                "only a clue from a warning names one", code="invalid", extra={"field": "warning_id"}
            )
        if (data.source is ClueSource.public) != (data.intake_report_id is not None):
            raise Invalid(
                "a clue from the public names its report, and only it does",
                code="required",
                extra={"field": "intake_report_id"},
            )
        subject = {"subject_name": data.subject_name, "subject_unit": "", "subject_post": ""}
        if person_id == principal.person_id:
            raise Forbidden("a clue about oneself is registered by another inspector", code="own_clue")
        if person_id is not None:
            person = await self.org.get_person(principal, person_id)
            shown = await self.org.person_public(person)
            unit_id = person.unit_id
            subject = {
                "subject_name": shown.name,
                "subject_unit": shown.unit_name,
                "subject_post": shown.post_name or "",
            }
        if unit_id is None:
            raise Invalid(
                "name the person or the unit the clue concerns", code="required", extra={"field": "unit_id"}
            )
        if unit_id not in principal.subtree_unit_ids:
            raise Forbidden("the unit is outside your scope", code="out_of_scope", extra={"field": "unit_id"})
        if person_id is None:
            subject["subject_unit"] = (await self._unit_names()).get(unit_id, "")
        row = Clue(
            unit_id=unit_id,
            source=data.source.value,
            warning_id=data.warning_id,
            intake_report_id=data.intake_report_id,
            subject_person_id=person_id,
            **data.model_dump(include=set(ClueText.model_fields)),
            registered_by=principal.person_id,
            subject_name=subject["subject_name"],
            subject_unit=subject["subject_unit"],
            subject_post=subject["subject_post"],
        )
        self.session.add(row)
        await self.session.flush()
        if data.intake_report_id is not None:
            intake = IntakeService(self.session, self.trail, self.settings)
            await intake.refer(principal, data.intake_report_id, row.id or 0)
        await self.add_step(
            principal,
            row,
            "registered",
            source=row.source,
            warning_id=row.warning_id,
            intake_report_id=row.intake_report_id,
        )
        return row

    # --- the steps ------------------------------------------------------------------
    async def triage(self, principal: Principal, clue_id: int, data: ClueTriage) -> Clue:
        row = await self.get(principal, clue_id)
        self._inspector(principal, row, "triage it")
        require(row.state, {ClueState.registered}, "triage")
        await advance(
            self.session,
            row,
            ClueState.triaged.value,
            {"level": data.level.value, "proposal": data.proposal, "triaged_by": principal.person_id},
        )
        await self.add_step(principal, row, "triaged", note=data.proposal, level=data.level.value)
        return row

    async def instruct(self, principal: Principal, clue_id: int, data: ClueInstruction) -> Clue:
        row = await self.get(principal, clue_id)
        if not principal.has(Role.committee):
            raise Forbidden("the committee gives the instruction (领导批示)", code="not_committee")
        require(row.state, set(ClueState) - {ClueState.concluded}, "instruct")
        await advance(
            self.session,
            row,
            row.state,
            {
                "instruction": data.instruction,
                "instructed_by": principal.person_id,
                "instructed_at": utcnow(),
            },
        )
        await self.add_step(principal, row, "instructed", note=data.instruction)
        return row

    async def receivers(self, principal: Principal, clue_id: int) -> list[Receiver]:
        """Who may receive the clue in discipline: inspectors and committee members over its unit."""
        row = await self.get(principal, clue_id)
        chain = await self.org.unit_chain(row.unit_id)
        unit_of: dict[int, int] = {}
        for role in ("inspector", "committee"):
            held = await self.org.holders(role, chain)
            for unit in chain:
                for person_id in held.get(unit, []):
                    unit_of.setdefault(person_id, unit)
        for left_out in (principal.person_id, row.subject_person_id):
            unit_of.pop(left_out or 0, None)
        names = await person_names(self.session, list(unit_of))
        units = await self._unit_names()
        return [
            Receiver(person_id=p, name=names.get(p, ""), unit_name=units.get(u, ""))
            for p, u in unit_of.items()
        ]

    async def hand_over(self, principal: Principal, clue_id: int, data: ClueHandover) -> Clue:
        row = await self.get(principal, clue_id)
        self._inspector(principal, row, "hand it over")
        require(row.state, {ClueState.triaged}, "hand over")
        if data.receiver_person_id not in {r.person_id for r in await self.receivers(principal, clue_id)}:
            raise Invalid(
                "the receiver is an inspector or committee member over the clue's unit (not you)",
                code="not_a_receiver",
                extra={"field": "receiver_person_id"},
            )
        await advance(
            self.session,
            row,
            ClueState.handed_over.value,
            {
                "handed_by": principal.person_id,
                "handed_at": utcnow(),
                "receiver_person_id": data.receiver_person_id,
            },
        )
        await emit(
            self.session,
            "clue.handed_over",
            subject_type="clue",
            subject_id=row.id or 0,
            recipients=[(data.receiver_person_id, "receiver")],
            data={"clue_id": row.id},
        )
        await self.add_step(
            principal, row, "handed_over", note=data.note or None, receiver=data.receiver_person_id
        )
        return row

    async def receive(self, principal: Principal, clue_id: int) -> Clue:
        row = await self.get(principal, clue_id)
        if row.receiver_person_id != principal.person_id:
            raise Forbidden("only the named receiver signs for the clue", code="not_receiver")
        require(row.state, {ClueState.handed_over}, "receive")
        await advance(self.session, row, ClueState.received.value, {"received_at": utcnow()})
        await self.add_step(principal, row, "received")
        return row

    async def conclude(self, principal: Principal, clue_id: int, data: ClueConclusion) -> Clue:
        row = await self.get(principal, clue_id)
        if row.receiver_person_id != principal.person_id:
            self._inspector(principal, row, "record its outcome")
        require(row.state, {ClueState.received}, "conclude")
        await advance(
            self.session,
            row,
            ClueState.concluded.value,
            {
                "outcome": data.outcome.value,
                "outcome_text": data.text,
                "concluded_by": principal.person_id,
                "concluded_at": utcnow(),
            },
        )
        await self.add_step(principal, row, "concluded", note=data.text, outcome=data.outcome.value)
        return row

    # --- reading --------------------------------------------------------------------
    async def _unit_names(self) -> dict[int, str]:
        return {u.id: u.name for u in await self.org.list_units() if u.id is not None}

    async def public(self, rows: list[Clue]) -> list[CluePublic]:
        units = await self._unit_names()
        names = await person_names(
            self.session, [p for r in rows for p in (r.registered_by, r.receiver_person_id)]
        )
        return [
            CluePublic.model_validate(
                {
                    **r.model_dump(),
                    "number": clue_number(r),
                    "unit_name": units.get(r.unit_id, ""),
                    "registered_by_name": names.get(r.registered_by),
                    "receiver_name": names.get(r.receiver_person_id or 0),
                }
            )
            for r in rows
        ]

    async def listed(
        self, principal: Principal, state: ClueState | None, limit: int, offset: int
    ) -> list[CluePublic]:
        stmt = select(Clue).where(self.visible(principal))
        if state is not None:
            stmt = stmt.where(col(Clue.state) == state.value)
        rows = list(
            (
                await self.session.execute(
                    stmt.order_by(col(Clue.registered_at).desc(), col(Clue.id).desc())
                    .limit(limit)
                    .offset(offset)
                )
            ).scalars()
        )
        await self.trail.record(
            self.session,
            principal.actor,
            action="clue.list",
            object_type="clue",
            new={"ids": [r.id for r in rows]},
            power="case.read",
        )
        await self.session.commit()
        return await self.public(rows)

    def actions(self, principal: Principal, row: Clue) -> list[str]:
        out: list[str] = []
        inspector = self.may_act(principal, row)
        receiver = row.receiver_person_id == principal.person_id
        if row.state == ClueState.registered and inspector:
            out.append("triage")
        if row.state != ClueState.concluded and principal.has(Role.committee):
            out.append("instruct")
        if row.state == ClueState.triaged and inspector:
            out.append("hand_over")
        if row.state == ClueState.handed_over and receiver:
            out.append("receive")
        if row.state == ClueState.received and (receiver or inspector):
            out.append("conclude")
        return out

    async def file(self, principal: Principal, clue_id: int) -> ClueFile:
        row = await self.get(principal, clue_id)
        steps = await self.timeline(principal, clue_id)
        return ClueFile(clue=(await self.public([row]))[0], steps=steps, actions=self.actions(principal, row))

    async def sheet(self, principal: Principal, clue_id: int) -> tuple[CluePublic, str]:
        """The clue as the B.16 form wants it, and the name of who gave the instruction."""
        row = await self.get(principal, clue_id)
        await self.trail.record(
            self.session,
            principal.actor,
            action="clue.pdf",
            object_type="clue",
            object_id=clue_id,
            power="case.export",
        )
        await self.session.commit()
        leader = (await person_names(self.session, [row.instructed_by])).get(row.instructed_by or 0, "")
        return (await self.public([row]))[0], leader
