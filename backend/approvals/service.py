"""The approval engine: a form's steps are signed in order, each by its role over its unit.

A step signed out of order, or by someone without the step's role over the step's unit, is refused
with a clear error; each signature is one conditional UPDATE of the approval's position (two
signers of one step: the second is refused), and each is in the trail of acts. When the last step
is approved (or any step returns the form) the hooks of :data:`APPROVAL_DONE` run in the same
transaction: the forms feature applies what the form asked for (a threshold change, an account …).
Services flush; the request commits (``commit`` where a caller owns no transaction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.approvals.models import (
    Approval,
    ApprovalPublic,
    ApprovalState,
    ApprovalStep,
    StepAct,
    StepOutcome,
    StepPublic,
)
from backend.audit.service import AuditTrail
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.errors import Conflict, Forbidden, NotFound
from backend.kernel.hooks import REGISTRY, HookPoint
from backend.kernel.timeutil import utcnow
from backend.org.service import OrgService

#: roles whose steps are not tied to a unit (the committee is company-wide; admins and experts run
#: the platform's configuration)
UNSCOPED = frozenset({Role.committee, Role.admin, Role.expert})

#: ``hook(session, trail, approval, actor)`` once an approval is approved or returned (no commit)
AfterApproval = Callable[[AsyncSession, AuditTrail, Approval, Actor], Awaitable[object]]
APPROVAL_DONE: HookPoint[AfterApproval] = HookPoint("approval.done")


@dataclass(frozen=True)
class StepSpec:
    """One sign-off: ``role`` over ``unit_id`` (``None``: the approval's unit; ignored for the
    unscoped roles) fills the form's box ``box``."""

    role: Role
    box: str
    unit_id: int | None = None


def may_sign(principal: Principal, step: ApprovalStep) -> bool:
    role = Role(step.role)
    if not principal.has(role):
        return False
    return role in UNSCOPED or (step.unit_id is not None and step.unit_id in principal.subtree_unit_ids)


class ApprovalService:
    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        self.session = session
        self.trail = trail

    # --- opening ------------------------------------------------------------------------
    async def open(
        self,
        *,
        kind: str,
        subject_type: str,
        subject_id: int,
        unit_id: int,
        fields: dict[str, Any],
        steps: Sequence[StepSpec],
        actor: Actor,
        prefix: str,
    ) -> Approval:
        """A new form waiting for its first step. No commit."""
        if not steps:
            raise ValueError("an approval has at least one step")
        row = Approval(
            kind=kind,
            subject_type=subject_type,
            subject_id=subject_id,
            unit_id=unit_id,
            number=f"{prefix}-pending-{utcnow().timestamp()}",
            fields=dict(fields),
            created_by=actor.person_id,
        )
        self.session.add(row)
        await self.session.flush()
        row.number = f"{prefix}-{row.created_at:%Y}-{row.id:05d}"
        for i, spec in enumerate(steps):
            unit = None if spec.role in UNSCOPED else (spec.unit_id or unit_id)
            self.session.add(
                ApprovalStep(
                    approval_id=row.id or 0, position=i, role=spec.role.value, box=spec.box, unit_id=unit
                )
            )
        await self.session.flush()
        await self.trail.record(
            self.session,
            actor,
            action="approval.open",
            object_type="approval",
            object_id=row.id,
            new={
                "kind": kind,
                "number": row.number,
                "subject": f"{subject_type}:{subject_id}",
                "steps": [f"{s.role.value}:{s.box}" for s in steps],
            },
            power="approval.file",
        )
        return row

    # --- reading ------------------------------------------------------------------------
    def _visible(self, principal: Principal) -> ColumnElement[bool]:
        """Forms the caller filed, forms of units whose cases they see, and forms with a step the
        caller's role signs."""
        units = principal.case_unit_ids()
        mine = [col(Approval.created_by) == principal.person_id]
        mine.append(
            true() if units is None else col(Approval.unit_id).in_(sorted(units)) if units else false()
        )
        unscoped = sorted(r.value for r in principal.roles if r in UNSCOPED)
        if unscoped:
            mine.append(
                exists().where(
                    col(ApprovalStep.approval_id) == col(Approval.id), col(ApprovalStep.role).in_(unscoped)
                )
            )
        return or_(*mine)

    def _signable_now(self, principal: Principal) -> ColumnElement[bool]:
        """The next step of an open form is one the caller may sign."""
        roles = sorted(r.value for r in principal.roles)
        scoped = or_(
            col(ApprovalStep.role).in_(sorted(r.value for r in UNSCOPED)),
            col(ApprovalStep.unit_id).in_(sorted(principal.subtree_unit_ids)),
        )
        return and_(
            col(Approval.state) == ApprovalState.open.value,
            exists().where(
                col(ApprovalStep.approval_id) == col(Approval.id),
                col(ApprovalStep.position) == col(Approval.position),
                col(ApprovalStep.role).in_(roles),
                scoped,
            ),
        )

    async def forms(
        self,
        principal: Principal,
        *,
        pending: bool,
        kind: str | None = None,
        subject: tuple[str, int] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Approval]:
        """Forms the caller sees (``pending``: only those whose next step is theirs), newest first."""
        where = [self._visible(principal)]
        if pending:
            where = [self._signable_now(principal)]
        if kind is not None:
            where.append(col(Approval.kind) == kind)
        if subject is not None:
            where += [col(Approval.subject_type) == subject[0], col(Approval.subject_id) == subject[1]]
        stmt = (
            select(Approval)
            .where(*where)
            .order_by(col(Approval.created_at).desc(), col(Approval.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def get(self, principal: Principal, approval_id: int) -> Approval:
        row = (
            await self.session.execute(
                select(Approval).where(
                    col(Approval.id) == approval_id,
                    or_(self._visible(principal), self._signable_now(principal)),
                )
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"form {approval_id} does not exist or is not in your scope", code="approval_not_found"
            )
        return row

    async def of_subject(self, kind: str, subject_type: str, subject_id: int) -> list[Approval]:
        """The forms of ``kind`` filed about one subject, oldest first (no scope: callers check it)."""
        stmt = (
            select(Approval)
            .where(
                col(Approval.kind) == kind,
                col(Approval.subject_type) == subject_type,
                col(Approval.subject_id) == subject_id,
            )
            .order_by(col(Approval.id))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def steps(self, approval_id: int) -> list[ApprovalStep]:
        stmt = (
            select(ApprovalStep)
            .where(col(ApprovalStep.approval_id) == approval_id)
            .order_by(col(ApprovalStep.position))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def public(self, principal: Principal, row: Approval) -> ApprovalPublic:
        steps = await self.steps(row.id or 0)
        nxt = (
            steps[row.position]
            if row.state == ApprovalState.open.value and row.position < len(steps)
            else None
        )
        return ApprovalPublic.model_validate(
            {
                **row.model_dump(),
                "steps": [StepPublic.model_validate(s, from_attributes=True) for s in steps],
                "mine": nxt is not None and may_sign(principal, nxt),
            }
        )

    # --- signing ------------------------------------------------------------------------
    async def act(self, principal: Principal, approval_id: int, position: int, data: StepAct) -> Approval:
        """Sign step ``position`` (approve or return, with an opinion). No commit."""
        row = await self.get(principal, approval_id)
        steps = await self.steps(approval_id)
        if not 0 <= position < len(steps):
            raise NotFound(f"form {row.number} has no step {position + 1}", code="step_not_found")
        step = steps[position]
        if row.state != ApprovalState.open.value:
            raise Conflict(f"form {row.number} is already {row.state}", code="approval_closed")
        if position != row.position:
            before = steps[row.position]
            raise Conflict(
                f"step {position + 1} of form {row.number} comes after step {row.position + 1}"
                f" ({before.box}, by {before.role}), which is not signed yet"
                if position > row.position
                else f"step {position + 1} of form {row.number} is already signed",
                code="step_out_of_order",
                extra={"next_position": row.position},
            )
        if not may_sign(principal, step):
            raise Forbidden(
                f"step {position + 1} of form {row.number} ({step.box}) is signed by the {step.role}"
                + ("" if Role(step.role) in UNSCOPED else " of the form's department"),
                code="wrong_signer",
                extra={"role": step.role},
            )
        last = position == len(steps) - 1
        state = (
            ApprovalState.returned
            if not data.approve
            else ApprovalState.approved
            if last
            else ApprovalState.open
        )
        now = utcnow()
        moved = await self.session.execute(
            update(Approval)
            .where(
                col(Approval.id) == approval_id,
                col(Approval.position) == position,
                col(Approval.state) == ApprovalState.open.value,
            )
            .values(
                position=position + 1,
                state=state.value,
                closed_at=None if state is ApprovalState.open else now,
            )
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"step {position + 1} of form {row.number} was signed meanwhile", code="state_changed"
            )
        facts = await OrgService(self.session, self.trail).person_facts(principal.person_id)
        step.outcome = (StepOutcome.approved if data.approve else StepOutcome.returned).value
        step.opinion = data.opinion
        step.person_id = principal.person_id
        step.signer_name = facts.name if facts else principal.username
        step.done_at = now
        await self.session.flush()
        await self.session.refresh(row)
        await self.trail.record(
            self.session,
            principal.actor,
            action="approval.approve" if data.approve else "approval.return",
            object_type="approval",
            object_id=approval_id,
            old={"position": position, "state": ApprovalState.open.value},
            new={
                "kind": row.kind,
                "number": row.number,
                "step": position + 1,
                "box": step.box,
                "role": step.role,
                "opinion": data.opinion,
                "state": state.value,
            },
            power=f"approval.{step.role}",
        )
        if state is not ApprovalState.open:
            for hook in REGISTRY(APPROVAL_DONE):
                await hook(self.session, self.trail, row, principal.actor)
        return row
