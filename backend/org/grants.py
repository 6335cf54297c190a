"""Separation of duties for roles: nobody changes their own roles, and committee or inspector
(roles that open other people's case content) granted by one administrator are in force only
once another approves.

A grant by the system (``probity demo``, the CLI on the server: ``Actor.system``, no person) is
in force at once: that is how the first administrators and committee members come to exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.kernel.access import Actor, Principal
from backend.kernel.cache import ORG_GENERATION
from backend.kernel.errors import Conflict, Forbidden, NotFound
from backend.kernel.timeutil import utcnow
from backend.org.models import APPROVED_ROLES, GrantStatus, Person, RoleGrant, RoleGrantPublic


def refuse_own_roles(actor: Actor, person_id: int, before: list[str], after: list[str]) -> None:
    """An administrator may not change their own roles (``Forbidden``, code ``own_roles``)."""
    if actor.person_id is not None and actor.person_id == person_id and set(before) != set(after):
        raise Forbidden("Nobody changes their own roles: ask another administrator.", code="own_roles")


class RoleGrants:
    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        self.session = session
        self.trail = trail

    @staticmethod
    def split(roles: list[str], before: list[str], actor: Actor) -> tuple[list[str], list[str]]:
        """The roles set at once, and the committee or inspector roles newly asked by a person (not
        the system), which wait for another administrator's approval."""
        if actor.person_id is None:
            return sorted(set(roles)), []
        asked = sorted((set(roles) - set(before)) & APPROVED_ROLES)
        return sorted(set(roles) - set(asked)), asked

    async def ask(self, person_id: int, roles: list[str], actor: Actor) -> None:
        """Pending grants of ``roles`` to a person (one per role; one already pending is kept)."""
        for role in roles:
            if await self._pending(person_id, role) is not None:
                continue
            grant = RoleGrant(person_id=person_id, role=role, requested_by=actor.person_id)
            self.session.add(grant)
            try:
                await self.session.flush()
            except IntegrityError:  # the same grant asked for at the same moment by another admin
                raise Conflict(
                    f"{role} is being asked for this person already", code="grant_pending"
                ) from None
            await self.trail.record(
                self.session,
                actor,
                action="role.grant_requested",
                object_type="person",
                object_id=person_id,
                new={"role": role, "grant_id": grant.id},
                power="org.write",
            )

    async def _pending(self, person_id: int, role: str) -> RoleGrant | None:
        return (
            await self.session.execute(
                select(RoleGrant).where(
                    col(RoleGrant.person_id) == person_id,
                    col(RoleGrant.role) == role,
                    col(RoleGrant.status) == GrantStatus.pending,
                )
            )
        ).scalar_one_or_none()

    async def pending_roles(self, person_id: int) -> list[str]:
        rows = await self.session.execute(
            select(col(RoleGrant.role)).where(
                col(RoleGrant.person_id) == person_id, col(RoleGrant.status) == GrantStatus.pending
            )
        )
        return sorted(str(r) for r in rows.scalars())

    async def listing(self, status: GrantStatus | None = GrantStatus.pending) -> list[RoleGrantPublic]:
        requester = Person.__table__.alias("requester")  # type: ignore[attr-defined]
        stmt = (
            select(RoleGrant, col(Person.name), col(Person.employee_no), requester.c.name)
            .join(Person, col(Person.id) == col(RoleGrant.person_id))
            .outerjoin(requester, requester.c.id == col(RoleGrant.requested_by))
            .order_by(col(RoleGrant.requested_at), col(RoleGrant.id))
        )
        if status is not None:
            stmt = stmt.where(col(RoleGrant.status) == status)
        return [
            RoleGrantPublic(
                **grant.model_dump(exclude={"status"}),
                status=GrantStatus(grant.status),
                person_name=name,
                employee_no=employee_no,
                requested_by_name=requested_by_name,
            )
            for grant, name, employee_no, requested_by_name in (await self.session.execute(stmt)).all()
        ]

    async def decide(self, grant_id: int, principal: Principal, *, approve: bool) -> RoleGrantPublic:
        """Approve (the role is added to the person) or reject a pending grant. One decision per
        grant: a conditional update; the approver is neither who asked nor who receives it."""
        me = principal.person_id
        status = GrantStatus.approved if approve else GrantStatus.rejected
        guard = update(RoleGrant).where(
            col(RoleGrant.id) == grant_id, col(RoleGrant.status) == GrantStatus.pending
        )
        if approve:
            guard = guard.where(col(RoleGrant.person_id) != me, col(RoleGrant.requested_by) != me)
        row = (
            await self.session.execute(
                guard.values(status=status, decided_by=me, decided_at=utcnow()).returning(
                    col(RoleGrant.person_id), col(RoleGrant.role)
                )
            )
        ).first()
        if row is None:
            raise await self._why_not(grant_id)
        person_id, role = int(row[0]), str(row[1])
        new: dict[str, Any] = {"role": role, "grant_id": grant_id}
        if approve:
            person = (
                await self.session.execute(
                    select(Person).where(col(Person.id) == person_id).with_for_update()
                )
            ).scalar_one()
            before = list(person.roles)
            person.roles = sorted({*before, role})
            await self.trail.record(
                self.session,
                principal.actor,
                action="person.update",
                object_type="person",
                object_id=person_id,
                old={"roles": before},
                new={"roles": person.roles},
                power="org.write",
            )
        await self.trail.record(
            self.session,
            principal.actor,
            action=f"role.grant_{status.value}",
            object_type="person",
            object_id=person_id,
            new=new,
            power="org.write",
        )
        await self.session.commit()
        ORG_GENERATION.bump()
        return next(g for g in await self.listing(None) if g.id == grant_id)

    async def _why_not(self, grant_id: int) -> Exception:
        grant = await self.session.get(RoleGrant, grant_id)
        if grant is None:
            return NotFound(f"role grant {grant_id} does not exist", code="grant_not_found")
        if grant.status != GrantStatus.pending:
            return Conflict(f"role grant {grant_id} is already {grant.status}", code="grant_not_pending")
        return Forbidden(
            "A role grant is approved by an administrator other than who asked for it and who receives it.",
            code="grant_needs_another_admin",
        )
