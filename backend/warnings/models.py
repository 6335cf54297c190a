"""Warnings (预警): one per (topic, object, period), raised by rule runs, handled by people."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import utcnow


class Level(StrEnum):
    """Traffic light: high = red, medium = orange, low = yellow (none = green raises nothing)."""

    high = "high"
    medium = "medium"
    low = "low"


class WarningState(StrEnum):
    raised = "raised"
    delivered = "delivered"
    read = "read"
    submitted = "submitted"
    returned = "returned"
    confirmed = "confirmed"
    closed = "closed"


class Warning(SQLModel, table=True):
    __tablename__ = "warning"
    __table_args__ = (UniqueConstraint("topic_id", "object_key", "period_key", name="uq_warning_hit"),)

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(index=True)
    topic_code: str = Field(max_length=32, index=True)
    #: the rule version that raised it (never edited once it raised a warning)
    rule_version_id: int
    specialty: str | None = Field(default=None, sa_type=String(16), index=True)
    level: Level = Field(sa_type=String(8), index=True)
    #: validating topics: the hit goes only to topic experts (trial)
    trial: bool = False
    person_id: int = Field(index=True)
    #: the responsible person's unit when raised (scopes follow it)
    unit_id: int = Field(index=True)
    object_key: str = Field(max_length=128)
    period_key: str = Field(max_length=32)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    state: WarningState = Field(default=WarningState.raised, sa_type=String(16), index=True)
    raised_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    last_hit_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    hit_count: int = 1
    last_run_id: int | None = None
