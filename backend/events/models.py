"""Events for delivery: one row per moment someone must be told, with the people to tell.

Written in the same transaction as the change that caused it. The delivery workers
(``notifications/``) route each recipient row to channels; until then, and always, the in-app
notification list reads them. Payloads hold no names or evidence: ids, levels and dates only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow


class Event(SQLModel, table=True):
    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    #: e.g. warning.raised, warning.due_soon, warning.overdue, warning.supervision_order,
    #: warning.returned, warning.confirmed, linked.raised, ladder.step, ladder.appeal_answered
    kind: str = Field(max_length=40, index=True)
    subject_type: str = Field(max_length=32)
    subject_id: int = Field(index=True)
    level: str | None = Field(default=None, sa_type=String(8))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class EventRecipient(SQLModel, table=True):
    __tablename__ = "event_recipient"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id", name="uq_event_recipient"),
        # a person's notifications, newest first, a page at a time
        Index("ix_event_recipient_person", "person_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    person_id: int
    #: why this person: subject (the responsible person), head, inspector, department
    reason: str = Field(sa_type=String(16))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class NotificationPublic(SQLModel):
    id: int
    event_id: int
    kind: str
    subject_type: str
    subject_id: int
    level: str | None
    data: dict[str, Any]
    reason: str
    created_at: LocalDateTime
    read_at: LocalDateTime | None
    #: what it is about, in words, from the subject's feature (see events/subjects.py)
    subject: dict[str, Any] | None = None


class NotificationPage(SQLModel):
    items: list[NotificationPublic]
    total: int
    unread: int
    limit: int
    offset: int
