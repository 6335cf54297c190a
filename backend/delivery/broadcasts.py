"""Broadcasts (3.11): an admin tells chosen units, roles or people; sees who has read it.

Sending a broadcast writes one ``broadcast`` event with a recipient row per person (the events
domain's :func:`emit`), in the same transaction; from there it is an ordinary in-app notification
that the outbox rings on each person's channels. Read = the person opened any notification of the
broadcast (the broadcast itself or a reminder).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.delivery.models import (
    Broadcast,
    BroadcastCreate,
    BroadcastPublic,
    BroadcastState,
    BroadcastStats,
    BroadcastTargets,
    Delivery,
    DeliveryState,
    RemindResult,
)
from backend.delivery.outbox import DIRECTORY_READER
from backend.events.models import Event, EventRecipient
from backend.events.service import NotificationService, emit
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.errors import Conflict, Invalid, NotFound
from backend.kernel.schemas import pk
from backend.kernel.timeutil import as_utc, utcnow
from backend.org.models import PersonPublic, Unit
from backend.org.service import OrgService

KIND = "broadcast"
REMINDER = "broadcast.reminder"
_ALL = 1_000_000


def _public(b: Broadcast, read_at: datetime | None = None) -> BroadcastPublic:
    return BroadcastPublic(
        id=pk(b),
        title=b.title,
        body=b.body,
        link=b.link,
        targets=b.targets,
        state=b.state,
        send_at=b.send_at,
        sent_at=b.sent_at,
        recipients=b.recipients,
        reminders=b.reminders,
        created_at=b.created_at,
        read_at=read_at,
        lesson_hours=b.lesson_hours,
    )


class BroadcastService:
    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        self.session = session
        self.trail = trail
        self.org = OrgService(session, trail)

    # --- who -------------------------------------------------------------------------
    async def people(self, targets: BroadcastTargets) -> dict[int, PersonPublic]:
        """Active people the targets name: (units' subtrees ∩ roles) ∪ people. Unknown ids are 400."""
        for role in targets.roles:
            if role not in Role.__members__:
                raise Invalid(f"unknown role {role!r}", code="unknown_role", extra={"field": "targets.roles"})
        for unit_id in targets.unit_ids:
            if await self.session.get(Unit, unit_id) is None:
                raise Invalid(
                    f"unit {unit_id} does not exist", code="unknown_unit", extra={"field": "targets.unit_ids"}
                )
        found: dict[int, PersonPublic] = {}
        units: list[int | None] = list(dict.fromkeys(targets.unit_ids)) or ([None] if targets.roles else [])
        roles: list[str | None] = list(dict.fromkeys(targets.roles)) or [None]
        for root in units:
            for wanted in roles:
                people, _ = await self.org.list_people(
                    DIRECTORY_READER, unit_id=root, role=wanted, limit=_ALL
                )
                found.update({p.id: p for p in people})
        for person_id in dict.fromkeys(targets.person_ids):
            try:
                person = await self.org.get_person(DIRECTORY_READER, person_id)
            except NotFound as exc:
                raise Invalid(
                    f"person {person_id} does not exist",
                    code="unknown_person",
                    extra={"field": "targets.person_ids"},
                ) from exc
            found[person_id] = await self.org.person_public(person)
        return {i: p for i, p in found.items() if p.active}

    # --- create, send, schedule ----------------------------------------------------------
    async def create(
        self, actor: Actor, data: BroadcastCreate, *, now: datetime | None = None
    ) -> BroadcastPublic:
        now = now or utcnow()
        if not (data.targets.unit_ids or data.targets.roles or data.targets.person_ids):
            raise Invalid("say who the broadcast is for", code="empty_target", extra={"field": "targets"})
        people = await self.people(data.targets)
        if not people:
            raise Invalid("nobody matches these targets", code="empty_target", extra={"field": "targets"})
        send_at = as_utc(data.send_at) if data.send_at is not None else None
        b = Broadcast(
            title=data.title,
            body=data.body,
            link=data.link,
            targets=data.targets.model_dump(),
            send_at=send_at if send_at and send_at > now else None,
            lesson_hours=data.lesson_hours,
            created_by=actor.person_id,
            created_at=now,
        )
        self.session.add(b)
        await self.session.flush()
        await self.trail.record(
            self.session,
            actor,
            action="broadcast.created",
            object_type="broadcast",
            object_id=b.id,
            new={
                "title": b.title,
                "targets": b.targets,
                "send_at": b.send_at.isoformat() if b.send_at else None,
            },
        )
        if b.send_at is None:
            await self._send(b, sorted(people), now)
        await self.session.commit()
        return _public(b)

    async def _send(self, b: Broadcast, person_ids: list[int], now: datetime) -> None:
        await emit(
            self.session,
            KIND,
            subject_type="broadcast",
            subject_id=pk(b),
            recipients={p: "broadcast" for p in person_ids},
            data={"broadcast_id": b.id, "title": b.title},
        )
        b.state, b.sent_at, b.recipients = BroadcastState.sent.value, now, len(person_ids)
        self.session.add(b)

    async def release_due(self, *, now: datetime | None = None) -> int:
        """Send scheduled broadcasts whose time has come (a conditional UPDATE: once each); commits."""
        now = now or utcnow()
        due = list(
            (
                await self.session.execute(
                    select(col(Broadcast.id)).where(
                        col(Broadcast.state) == BroadcastState.scheduled.value, col(Broadcast.send_at) <= now
                    )
                )
            ).scalars()
        )
        sent = 0
        for broadcast_id in due:
            taken = await self.session.execute(
                update(Broadcast)
                .where(
                    col(Broadcast.id) == broadcast_id, col(Broadcast.state) == BroadcastState.scheduled.value
                )
                .values(state=BroadcastState.sent.value, sent_at=now)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            b = await self.session.get(Broadcast, broadcast_id, populate_existing=True)
            assert b is not None
            people = await self.people(BroadcastTargets.model_validate(b.targets))
            await self._send(b, sorted(people), now)
            await self.trail.record(
                self.session,
                Actor.system(label="broadcasts"),
                action="broadcast.sent",
                object_type="broadcast",
                object_id=b.id,
                new={"recipients": len(people)},
            )
            sent += 1
        await self.session.commit()
        return sent

    async def cancel(self, actor: Actor, broadcast_id: int) -> BroadcastPublic:
        b = await self._get(broadcast_id)
        taken = await self.session.execute(
            update(Broadcast)
            .where(col(Broadcast.id) == broadcast_id, col(Broadcast.state) == BroadcastState.scheduled.value)
            .values(state=BroadcastState.cancelled.value)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("only a scheduled broadcast can be cancelled", code="broadcast_not_scheduled")
        await self.trail.record(
            self.session, actor, action="broadcast.cancelled", object_type="broadcast", object_id=broadcast_id
        )
        await self.session.commit()
        await self.session.refresh(b)
        return _public(b)

    # --- reading ---------------------------------------------------------------------
    async def _get(self, broadcast_id: int) -> Broadcast:
        b = await self.session.get(Broadcast, broadcast_id)
        if b is None:
            raise NotFound(f"broadcast {broadcast_id} does not exist", code="broadcast_not_found")
        return b

    def _rows(self, broadcast_id: int) -> Any:
        return (
            select(EventRecipient)
            .join(Event, col(Event.id) == col(EventRecipient.event_id))
            .where(col(Event.subject_type) == "broadcast", col(Event.subject_id) == broadcast_id)
        )

    async def _read_at(self, broadcast_id: int) -> dict[int, datetime | None]:
        """Per recipient: when they first read any notification of the broadcast (or ``None``)."""
        read: dict[int, datetime | None] = {}
        for r in (await self.session.execute(self._rows(broadcast_id))).scalars():
            current = read.get(r.person_id)
            if r.read_at is not None and (current is None or r.read_at < current):
                read[r.person_id] = r.read_at
            else:
                read.setdefault(r.person_id, current)
        return read

    async def received(self, person_id: int, broadcast_id: int) -> bool:
        """Was the broadcast sent to this person (an admin reading it is not its recipient)."""
        return person_id in await self._read_at(broadcast_id)

    async def get(self, principal: Principal, broadcast_id: int) -> BroadcastPublic:
        b = await self._get(broadcast_id)
        read = await self._read_at(broadcast_id)
        if principal.person_id not in read and not principal.has(Role.admin):
            raise NotFound(f"broadcast {broadcast_id} does not exist", code="broadcast_not_found")
        return _public(b, read.get(principal.person_id))

    async def list(self, principal: Principal, *, limit: int, offset: int) -> list[BroadcastPublic]:
        stmt = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit).offset(offset)
        if not principal.has(Role.admin):
            mine = (
                select(col(Event.subject_id))
                .join(EventRecipient, col(EventRecipient.event_id) == col(Event.id))
                .where(
                    col(Event.subject_type) == "broadcast",
                    col(EventRecipient.person_id) == principal.person_id,
                )
            )
            stmt = stmt.where(col(Broadcast.id).in_(mine))
        return [_public(b) for b in (await self.session.execute(stmt)).scalars()]

    async def mark_read(self, principal: Principal, broadcast_id: int) -> BroadcastPublic:
        rows = [
            r
            for r in (await self.session.execute(self._rows(broadcast_id))).scalars()
            if r.person_id == principal.person_id
        ]
        if not rows:
            raise NotFound(f"broadcast {broadcast_id} does not exist", code="broadcast_not_found")
        notifications = NotificationService(self.session)
        for r in rows:
            if r.read_at is None:
                await notifications.mark_read(principal.person_id, r.id or 0)
        return await self.get(principal, broadcast_id)

    async def remind(self, actor: Actor, broadcast_id: int) -> RemindResult:
        b = await self._get(broadcast_id)
        if b.state != BroadcastState.sent.value:
            raise Conflict("the broadcast has not been sent yet", code="broadcast_not_sent")
        unread = sorted(p for p, at in (await self._read_at(broadcast_id)).items() if at is None)
        if unread:
            await emit(
                self.session,
                REMINDER,
                subject_type="broadcast",
                subject_id=broadcast_id,
                recipients={p: "broadcast" for p in unread},
                data={"broadcast_id": broadcast_id, "title": b.title},
            )
            b.reminders += 1
            self.session.add(b)
        await self.trail.record(
            self.session,
            actor,
            action="broadcast.reminded",
            object_type="broadcast",
            object_id=broadcast_id,
            new={"reminded": len(unread)},
        )
        await self.session.commit()
        return RemindResult(reminded=len(unread))

    async def stats(self, broadcast_id: int) -> BroadcastStats:
        b = await self._get(broadcast_id)
        read = await self._read_at(broadcast_id)
        units: dict[int, dict[str, Any]] = {}
        for person_id, at in sorted(read.items()):
            try:
                person = await self.org.get_person(DIRECTORY_READER, person_id)
            except NotFound:
                continue
            unit = units.setdefault(person.unit_id, {"unit_id": person.unit_id, "recipients": 0, "read": 0})
            unit["recipients"] += 1
            unit["read"] += at is not None
        for unit_id, entry in units.items():
            u = await self.session.get(Unit, unit_id)
            entry["unit_code"], entry["unit_name"] = (u.code, u.name) if u else (None, None)
        delivered: dict[str, int] = defaultdict(int)
        events = select(col(Event.id)).where(
            col(Event.subject_type) == "broadcast", col(Event.subject_id) == broadcast_id
        )
        for channel, n in (
            await self.session.execute(
                select(col(Delivery.channel), func.count())
                .where(col(Delivery.event_id).in_(events), col(Delivery.state) == DeliveryState.sent.value)
                .group_by(col(Delivery.channel))
            )
        ).all():
            delivered[str(channel)] = int(n)
        total = len(read)
        n_read = sum(1 for at in read.values() if at is not None)
        return BroadcastStats(
            broadcast_id=pk(b),
            recipients=total,
            read=n_read,
            unread=total - n_read,
            read_ratio=round(n_read / total, 4) if total else 0.0,
            by_unit=sorted(units.values(), key=lambda e: str(e["unit_code"])),
            delivered_by_channel=dict(delivered),
            unread_person_ids=sorted(p for p, at in read.items() if at is None),
        )
