"""The personal escalation ladder (seed 001): notice (告知) → inquiry (质询) → supervision
recommendation (监察建议). One case, one file (一事一档): the case, its steps and its appeals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, false
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import utcnow


class Tier(StrEnum):
    """Lowest first: 三级 blue notice, 二级 yellow inquiry, 一级 red supervision recommendation."""

    notice = "notice"  # 廉情预警告知: a written explanation within 7 working days
    inquiry = "inquiry"  # 廉情预警质询: answer and measures within 7 working days
    recommendation = "recommendation"  # 廉情监察建议: corrected within a month (one extension ≤ a month)


TIERS: tuple[Tier, ...] = (Tier.notice, Tier.inquiry, Tier.recommendation)
#: colour of each tier in the seed (蓝 / 黄 / 红)
TIER_COLOUR = {Tier.notice: "blue", Tier.inquiry: "yellow", Tier.recommendation: "red"}


class CaseState(StrEnum):
    open = "open"  # waiting for the person's written answer at the current tier
    answered = "answered"  # answered; the inspectors follow up (visit, escalate)
    lifted = "lifted"  # a follow-up visit (回访) found it corrected: the warning is lifted
    withdrawn = "withdrawn"  # an appeal (申诉) was upheld


CLOSED_STATES = frozenset({CaseState.lifted, CaseState.withdrawn})


class LadderCase(SQLModel, table=True):
    __tablename__ = "ladder_case"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(index=True)
    #: the person's unit when the case was opened (scopes follow it)
    unit_id: int = Field(index=True)
    tier: str = Field(sa_type=String(16))
    state: str = Field(default=CaseState.open, sa_type=String(12), index=True)
    subject: str = Field(max_length=200)
    #: the problem (群众反映或存在的问题) and what is required of the person
    problem: str = Field(max_length=4000)
    requirements: str = Field(default="", max_length=2000)
    #: warnings the case rests on (optional)
    warning_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    opened_by: int
    opened_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: when the current tier's answer or correction is due
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    due_provisional: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    #: the recommendation's one extension was granted
    extended: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    #: the top tier's missed deadline was reported to the inspectors (once)
    overdue_reported: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LadderStep(SQLModel, table=True):
    """The case file's timeline: issued, answered, escalated, extended, visited, appealed …"""

    __tablename__ = "ladder_step"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="ladder_case.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    kind: str = Field(sa_type=String(20))
    tier: str = Field(sa_type=String(16))
    actor_person_id: int | None = None
    actor_label: str | None = Field(default=None, max_length=64)
    channel: str = Field(sa_type=String(16))
    text: str | None = Field(default=None, max_length=4000)
    #: answers from the phone carry a client-generated id: a replay returns the first result
    client_id: str | None = Field(default=None, max_length=64, unique=True)
    body_hash: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class LadderAppeal(SQLModel, table=True):
    """An appeal (申诉) by the person, answered by the inspectors."""

    __tablename__ = "ladder_appeal"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="ladder_case.id", index=True)
    person_id: int
    text: str = Field(max_length=4000)
    filed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    answer: str | None = Field(default=None, max_length=4000)
    #: upheld (the case is withdrawn) or rejected (it stands)
    outcome: str | None = Field(default=None, sa_type=String(10))
    answered_by: int | None = None
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
