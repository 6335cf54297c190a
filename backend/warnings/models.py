"""Warnings (预警): one per (topic, object, period), raised by rule runs, handled by people."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint, false
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
    __table_args__ = (
        UniqueConstraint("topic_id", "object_key", "period_key", name="uq_warning_hit"),
        #: the employee inbox: a person's warnings, newest first
        Index("ix_warning_person_raised", "person_id", "raised_at"),
        #: the inbox's counts (per level, open or done), read from this index alone (migration 0017p)
        Index("ix_warning_person_tally", "person_id", "trial", "level", "state"),
        #: the statistics of a caller's units and period, read from this index alone (migration 0013r)
        Index(
            "ix_warning_stats",
            "unit_id",
            "raised_at",
            "trial",
            "level",
            "state",
            "topic_code",
            "specialty",
            "finding",
            "due_at",
            "first_submitted_at",
            "person_id",
            "id",
        ),
    )

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

    # --- lifecycle columns (issue 4, migration branch "lifecycle") ---------------------------
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
    #: the deadline was counted over days the calendar only guessed (weekdays): recomputed later
    deadline_provisional: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    first_submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: the latest submitted verification's result (true / not_true)
    finding: str | None = Field(default=None, sa_type=String(8))
    submissions: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    #: 0 none, 1 reminded, 2 chased, 3 supervision order (see ChaseStage)
    chase_stage: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class InboxVersion(SQLModel, table=True):
    """A counter per person, raised in the same transaction as any change to their warnings (SQLite
    triggers, migration 0009): the employee inbox keeps a rendered page while it is unchanged.
    PostgreSQL has the table but no triggers (its inbox is not kept; see ``inbox_json``)."""

    __tablename__ = "inbox_version"

    person_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = 0


# --- lifecycle (issue 4) ----------------------------------------------------------------------
# The columns above are shared with rule runs (hits.py); the lifecycle adds its own below and on
# the table through its own migration (branch "lifecycle").

#: states in which a warning still counts as open on its topic (7.3.2): no verification pending
OPEN_STATES: frozenset[WarningState] = frozenset(
    {WarningState.raised, WarningState.delivered, WarningState.read, WarningState.returned}
)
#: states in which a verification may be submitted (a returned one: resubmitted)
ANSWERABLE_STATES: frozenset[WarningState] = OPEN_STATES


class Finding(StrEnum):
    true = "true"  # 属实
    not_true = "not_true"  # 不属实


class ChaseStage(IntEnum):
    none = 0
    reminded = 1  # due soon
    chased = 2  # 催办: past the deadline, person and head told
    supervised = 3  # 督办: a supervision order to discipline inspectors


class WarningStep(SQLModel, table=True):
    """The warning's timeline: every state change, delivery, reminder, chase and link."""

    __tablename__ = "warning_step"

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="warning.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    kind: str = Field(sa_type=String(24))
    from_state: str | None = Field(default=None, sa_type=String(16))
    to_state: str | None = Field(default=None, sa_type=String(16))
    actor_person_id: int | None = None
    actor_label: str | None = Field(default=None, max_length=64)
    #: pwa, bot, api, cli, system — or, for deliveries, the channel told (inapp, webpush, telegram …)
    channel: str = Field(sa_type=String(16))
    note: str | None = Field(default=None, max_length=1000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class Verification(SQLModel, table=True):
    """A reply from the responsible person (核查反馈), stored once under its client-generated id."""

    __tablename__ = "warning_verification"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True, index=True)
    warning_id: int = Field(foreign_key="warning.id", index=True)
    person_id: int
    #: 1 for the first reply, 2 after a return, …
    round: int = 1
    result: str = Field(sa_type=String(8))
    cause: str = Field(max_length=4000)
    measures: str = Field(default="", max_length=4000)
    photo_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    #: SHA-256 of the canonical body: a replay with another body under the same id is refused
    body_hash: str = Field(max_length=64)
    channel: str = Field(sa_type=String(16))
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: confirmed / returned, by whom, when and why
    decision: str | None = Field(default=None, sa_type=String(10))
    decided_by: int | None = None
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    decision_reason: str | None = Field(default=None, max_length=2000)


class WarningPhoto(SQLModel, table=True):
    __tablename__ = "warning_photo"
    __table_args__ = (UniqueConstraint("warning_id", "sha256", name="uq_warning_photo"),)

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="warning.id", index=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(sa_type=String(32))
    size: int
    uploaded_by: int
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class LinkedRule(StrEnum):
    """9.2.3.1: when the topic-management group writes a risk notice letter to a department."""

    repeat = "repeat"  # the same topic true three times
    concentrated = "concentrated"  # true warnings of several topics on one person or object
    double_red = "double_red"  # the same topic true red twice
    relapse = "relapse"  # a true red after a handled true warning


class LinkedState(StrEnum):
    raised = "raised"  # risk notice letter (B.13) sent, risk report due
    answered = "answered"  # risk report (B.14) received
    closed = "closed"


class LinkedWarning(SQLModel, table=True):
    """A linked warning (联动预警): a risk notice letter to a department, answered by a risk report."""

    __tablename__ = "linked_warning"

    id: int | None = Field(default=None, primary_key=True)
    #: rule + unit + what it is about: the same pattern raises one letter, not one per run
    key: str = Field(max_length=200, unique=True)
    rule: str = Field(sa_type=String(16))
    unit_id: int = Field(index=True)
    person_id: int | None = None
    object_key: str | None = Field(default=None, max_length=128)
    topic_code: str | None = Field(default=None, max_length=32)
    level: str = Field(sa_type=String(8))
    warning_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    #: every pattern that held at that moment: [{rule, warning_ids, topic_code?, person_id?,
    #: object_key?}]; ``rule`` above is the first of them
    patterns: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False, server_default="[]")
    )
    state: str = Field(default=LinkedState.raised, sa_type=String(16), index=True)
    raised_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    report_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    report_provisional: bool = False
    report_text: str | None = Field(default=None, max_length=8000)
    report_measures: str | None = Field(default=None, max_length=8000)
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    answered_by: int | None = None
    chase_stage: int = 0


class LinkedMember(SQLModel, table=True):
    """A warning counted in a letter for one pattern: never counted again for that pattern (the
    unique key refuses a second letter counting it, whatever two evaluations race)."""

    __tablename__ = "linked_member"
    __table_args__ = (UniqueConstraint("rule", "warning_id", name="uq_linked_member"),)

    id: int | None = Field(default=None, primary_key=True)
    linked_id: int = Field(foreign_key="linked_warning.id", index=True)
    rule: str = Field(sa_type=String(16))
    warning_id: int
