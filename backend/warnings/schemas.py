"""API shapes of the warning lifecycle: inbox rows, detail, verification, decisions, photos."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime
from backend.warnings.models import OPEN_STATES, Finding, Level, WarningState

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def check_client_id(value: str) -> str:
    """A client-generated id (made when a form opens on the phone): 8-64 of [A-Za-z0-9_-]."""
    if not CLIENT_ID.match(value):
        raise ValueError("client_id must be 8-64 letters, digits, '-' or '_' (a UUID)")
    return value


class InboxView(StrEnum):
    mine = "mine"  # the caller's own warnings (employee)
    unit = "unit"  # warnings of people in the caller's unit and below (head, inspector)
    scope = "scope"  # everything the caller may see (inspector: their subtree; committee: all)


class InboxBox(StrEnum):
    """The two lists of an inbox: what still waits for its person, and what is done."""

    todo = "todo"  # 待办: open (no reply pending or accepted)
    done = "done"  # 已办: replied, confirmed or closed


class WarningStatus(StrEnum):
    """Where a warning stands, as the statistics count it (the list behind a figure)."""

    open = "open"  # no verification pending or accepted
    waiting = "waiting"  # a verification waits for the head
    closed = "closed"  # confirmed or closed


class EvidenceItem(SQLModel):
    """One fact of a warning as people read it (``backend/warnings/evidence.py``)."""

    label: str
    #: formatted in the person's language, unit included (45%, ¥1,250.00, 7 天, 12月18日（周五）)
    value: str
    #: the unit's word alone (%, ¥, kWh, 天), empty when none
    unit: str = ""


class WarningSummary(SQLModel):
    id: int
    topic_id: int
    topic_code: str
    specialty: str | None
    level: Level
    state: WarningState
    person_id: int
    unit_id: int
    object_key: str
    period_key: str
    evidence: dict[str, Any]
    raised_at: LocalDateTime
    due_at: LocalDateTime | None
    due_on: date | None
    deadline_provisional: bool
    overdue: bool
    #: counts as open on its topic (no verification pending or accepted)
    open: bool
    finding: Finding | None
    submissions: int
    hit_count: int
    #: the topic's name and its instruction to the person, in the language asked for
    topic_name: str | None = None
    instruction: str | None = None
    #: whose warning it is (unit and scope views); None in one's own inbox
    person_name: str | None = None
    #: open with a deadline ahead: working days left, the due day counted (剩 N 个工作日)
    days_left: int | None = None
    #: open past its deadline: calendar days since the due day (已逾期 N 天)
    overdue_days: int | None = None


class LevelCounts(SQLModel):
    high: int = 0
    medium: int = 0
    low: int = 0


class InboxPage(SQLModel):
    items: list[WarningSummary]
    total: int
    #: per level, over every filter but the level filter (the tiles of the inbox); with a box
    #: asked for, over that box only (待办: open items only)
    counts: LevelCounts
    limit: int
    offset: int
    #: open (待办) and finished (已办) items, over every filter but the level and the box
    todo: int = 0
    done: int = 0


class StepPublic(SQLModel):
    id: int
    at: LocalDateTime
    kind: str
    from_state: str | None
    to_state: str | None
    actor_person_id: int | None
    actor_label: str | None
    channel: str
    note: str | None
    data: dict[str, Any]
    #: the actor's name (the person, a head, an inspector), for the timeline
    actor_name: str | None = None


class PhotoPublic(SQLModel):
    id: int
    warning_id: int
    sha256: str
    content_type: str
    size: int
    uploaded_at: LocalDateTime
    url: str
    #: taken by the warning's person for a reply (else: the evidence of a warning raised by hand)
    by_subject: bool = True


class VerificationCreate(SQLModel):
    """A reply from the phone. ``client_id`` is made when the form is opened (a UUID)."""

    model_config = STRICT

    client_id: str = Field(min_length=8, max_length=64)
    result: Finding
    cause: str = Field(min_length=1, max_length=4000)
    #: required when the warning is true
    measures: str = Field(default="", max_length=4000)
    photo_ids: list[int] = Field(default_factory=list, max_length=12)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)

    _client_id = field_validator("client_id")(classmethod(lambda cls, v: check_client_id(v)))

    @model_validator(mode="after")
    def _location_pairs(self) -> VerificationCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


class VerificationPublic(SQLModel):
    id: int
    client_id: str
    warning_id: int
    person_id: int
    round: int
    result: Finding
    cause: str
    measures: str
    photo_ids: list[int]
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    channel: str
    submitted_at: LocalDateTime
    decision: str | None
    decided_by: int | None
    decided_at: LocalDateTime | None
    decision_reason: str | None


class DecisionCreate(SQLModel):
    model_config = STRICT

    #: required to return a reply; optional remark when confirming
    reason: str | None = Field(default=None, max_length=2000)


class WarningDetail(SQLModel):
    warning: WarningSummary
    #: the evidence labelled and formatted in the language asked for (internal keys left out)
    evidence_items: list[EvidenceItem] = Field(default_factory=list)
    timeline: list[StepPublic]
    verifications: list[VerificationPublic]
    photos: list[PhotoPublic]
    #: what the caller may do now: read, verify, confirm, return, close
    actions: list[str]


class TransitionResult(SQLModel):
    warning: WarningSummary
    verification: VerificationPublic | None = None


class UnitOnTime(SQLModel):
    unit_id: int
    raised: int
    answered: int
    answered_on_time: int
    overdue_open: int
    #: answered on time / (answered + overdue open); None when nothing was due
    on_time_rate: float | None


def overdue(due_at: datetime | None, state: str, now: datetime) -> bool:
    return due_at is not None and state in OPEN_STATES and due_at < now
