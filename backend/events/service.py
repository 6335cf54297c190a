"""Write events (in the caller's transaction) and read a person's in-app notifications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.events.models import Event, EventRecipient, NotificationPage, NotificationPublic
from backend.kernel.errors import NotFound
from backend.kernel.timeutil import utcnow

EVENT: Table = Event.__table__  # type: ignore[attr-defined]
RECIPIENT: Table = EventRecipient.__table__  # type: ignore[attr-defined]


async def emit(
    session: AsyncSession,
    kind: str,
    *,
    subject_type: str,
    subject_id: int,
    recipients: Mapping[int, str] | Iterable[tuple[int, str]],
    level: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """One event and a recipient row per person (first reason wins); no commit."""
    event = Event(
        kind=kind, subject_type=subject_type, subject_id=subject_id, level=level, data=dict(data or {})
    )
    session.add(event)
    await session.flush()
    assert event.id is not None
    pairs = recipients.items() if isinstance(recipients, Mapping) else recipients
    seen: set[int] = set()
    for person_id, reason in pairs:
        if person_id in seen:
            continue
        seen.add(person_id)
        session.add(EventRecipient(event_id=event.id, person_id=person_id, reason=reason))
    await session.flush()
    return event


@dataclass(frozen=True)
class Emission:
    """One event for :func:`emit_many`: its subject, level, payload and people to tell."""

    subject_id: int
    recipients: Sequence[tuple[int, str]]
    level: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


async def emit_many(
    session: AsyncSession, kind: str, *, subject_type: str, emissions: Sequence[Emission]
) -> dict[int, int]:
    """Events of one kind, one per subject, with their recipient rows, as :func:`emit` writes
    them, in two statements; no commit. Returns {subject_id: event id}."""
    if not emissions:
        return {}
    if len({e.subject_id for e in emissions}) != len(emissions):
        raise ValueError("emit_many writes one event per subject")
    now = utcnow()
    rows = [
        {
            "kind": kind,
            "subject_type": subject_type,
            "subject_id": e.subject_id,
            "level": e.level,
            "data": dict(e.data),
            "created_at": now,
        }
        for e in emissions
    ]
    written = await session.execute(insert(EVENT).returning(EVENT.c.subject_id, EVENT.c.id), rows)
    ids = {int(subject_id): int(event_id) for subject_id, event_id in written.all()}
    people: list[dict[str, Any]] = []
    for e in emissions:
        seen: set[int] = set()
        for person_id, reason in e.recipients:
            if person_id not in seen:
                seen.add(person_id)
                people.append({"event_id": ids[e.subject_id], "person_id": person_id, "reason": reason})
    if people:
        await session.execute(insert(RECIPIENT), people)
    return ids


class NotificationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, person_id: int, *, unread_only: bool = False, limit: int = 20, offset: int = 0
    ) -> NotificationPage:
        mine = col(EventRecipient.person_id) == person_id
        base = (
            select(EventRecipient, Event)
            .join(Event, col(Event.id) == col(EventRecipient.event_id))
            .where(mine)
        )
        if unread_only:
            base = base.where(col(EventRecipient.read_at).is_(None))
        total = (await self.session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
        unread = (
            await self.session.execute(
                select(func.count()).where(mine, col(EventRecipient.read_at).is_(None))
            )
        ).scalar_one()
        rows = await self.session.execute(
            base.order_by(col(EventRecipient.id).desc()).limit(limit).offset(offset)
        )
        items = [
            NotificationPublic(
                id=r.id or 0,
                event_id=e.id or 0,
                kind=e.kind,
                subject_type=e.subject_type,
                subject_id=e.subject_id,
                level=e.level,
                data=e.data,
                reason=r.reason,
                created_at=e.created_at,
                read_at=r.read_at,
            )
            for r, e in rows.all()
        ]
        return NotificationPage(items=items, total=int(total), unread=int(unread), limit=limit, offset=offset)

    async def mark_read(self, person_id: int, recipient_id: int) -> None:
        result = await self.session.execute(
            update(EventRecipient)
            .where(col(EventRecipient.id) == recipient_id, col(EventRecipient.person_id) == person_id)
            .values(read_at=func.coalesce(EventRecipient.read_at, utcnow()))
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"notification {recipient_id} does not exist", code="notification_not_found")
        await self.session.commit()
