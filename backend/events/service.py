"""Write events (in the caller's transaction) and read a person's in-app notifications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.events.models import Event, EventRecipient
from backend.kernel.errors import NotFound
from backend.kernel.timeutil import local, utcnow

EVENT: Table = Event.__table__  # type: ignore[attr-defined]
RECIPIENT: Table = EventRecipient.__table__  # type: ignore[attr-defined]
#: a notification as the list shows it (NotificationPublic's fields but ``subject``)
_PAGE_COLUMNS = (
    RECIPIENT.c.id,
    RECIPIENT.c.event_id,
    EVENT.c.kind,
    EVENT.c.subject_type,
    EVENT.c.subject_id,
    EVENT.c.level,
    EVENT.c.data,
    RECIPIENT.c.reason,
    EVENT.c.created_at,
    RECIPIENT.c.read_at,
)


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


def _mine(unread_only: bool) -> list[ColumnElement[bool]]:
    mine = [RECIPIENT.c.person_id == bindparam("person_id")]
    return [*mine, RECIPIENT.c.read_at.is_(None)] if unread_only else mine


#: a person's notifications (all, or unread only), built once: how many (and unread), one page
_COUNTS = {
    unread: select(
        func.count(), func.coalesce(func.sum(case((RECIPIENT.c.read_at.is_(None), 1), else_=0)), 0)
    )
    .select_from(RECIPIENT)
    .where(*_mine(unread))
    for unread in (False, True)
}
_PAGE = {
    unread: select(*_PAGE_COLUMNS)
    .select_from(RECIPIENT.join(EVENT, EVENT.c.id == RECIPIENT.c.event_id))
    .where(*_mine(unread))
    .order_by(RECIPIENT.c.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
    for unread in (False, True)
}


class NotificationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, person_id: int, *, unread_only: bool = False, limit: int = 20, offset: int = 0
    ) -> dict[str, Any]:
        """A page of the person's notifications, newest first, with how many there are and how
        many are unread: two statements built once, rows read as columns into plain values in
        ``NotificationPage``'s shape (times in local ISO form, ``subject`` left for ``describe``)."""
        params = {"person_id": person_id, "limit": limit, "offset": offset}
        counts = (await self.session.execute(_COUNTS[unread_only], params)).one()
        rows = await self.session.execute(_PAGE[unread_only], params)
        items = []
        for row in rows:
            item = dict(row._mapping)
            item["created_at"] = local(item["created_at"]).isoformat()
            if item["read_at"] is not None:
                item["read_at"] = local(item["read_at"]).isoformat()
            item["subject"] = None
            items.append(item)
        return {
            "items": items,
            "total": int(counts[0]),
            "unread": int(counts[1]),
            "limit": limit,
            "offset": offset,
        }

    async def mark_read(self, person_id: int, recipient_id: int) -> None:
        result = await self.session.execute(
            update(EventRecipient)
            .where(col(EventRecipient.id) == recipient_id, col(EventRecipient.person_id) == person_id)
            .values(read_at=func.coalesce(EventRecipient.read_at, utcnow()))
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"notification {recipient_id} does not exist", code="notification_not_found")
        await self.session.commit()
