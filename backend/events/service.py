"""Write events (in the caller's transaction) and read a person's in-app notifications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.events.models import Event, EventRecipient, NotificationPage, NotificationPublic
from backend.kernel.errors import NotFound
from backend.kernel.timeutil import utcnow


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
