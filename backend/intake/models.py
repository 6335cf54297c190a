"""Reports from the public (外网廉情信息收集、信访举报): kept apart from staff data.

A report's words and contact details are sealed at rest (AES-GCM under a key derived from the
secret key, bound to the row); its attachments live under ``<data_dir>/intake/``, not with the
warnings' photos. The rate of submissions is counted in ``intake_rate`` under a keyed hash of the
sender's address, which is not linked to any report and is forgotten after a day.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class IntakeState(StrEnum):
    received = "received"  # 已受理
    reviewing = "reviewing"  # 核查中
    referred = "referred"  # 已转为问题线索
    closed = "closed"  # 已办结


class IntakeCategory(StrEnum):
    integrity = "integrity"  # 廉洁问题（吃拿卡要、优亲厚友……）
    service = "service"  # 服务作风
    other = "other"


class PublicReport(SQLModel, table=True):
    __tablename__ = "public_report"

    id: int | None = Field(default=None, primary_key=True)
    #: a keyed hash of the receipt code (the code itself is shown once, to the sender)
    receipt_hash: str = Field(max_length=64, unique=True)
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    state: str = Field(default=IntakeState.received.value, sa_type=String(16), index=True)
    category: str = Field(sa_type=String(16))
    anonymous: bool = True
    #: subject, text, who or what it is about, contact: sealed JSON
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    #: what the sender sees when they look the receipt code up
    public_note: str | None = Field(default=None, max_length=500)
    #: for inspectors only
    internal_note: str | None = Field(default=None, max_length=2000)
    handled_by: int | None = None
    files: int = 0


class PublicReportFile(SQLModel, table=True):
    __tablename__ = "public_report_file"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="public_report.id", index=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(sa_type=String(32))
    size: int


class IntakeChallenge(SQLModel, table=True):
    """A proof-of-work challenge already spent (kept until it would have expired anyway)."""

    __tablename__ = "intake_challenge"

    digest: str = Field(primary_key=True, max_length=64)
    spent_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class IntakeRate(SQLModel, table=True):
    """One submission or status look-up of an address (a keyed hash), for the rate limits."""

    __tablename__ = "intake_rate"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))


# --- API shapes ------------------------------------------------------------------------------
class Challenge(SQLModel):
    challenge: str
    #: leading zero bits sha256(challenge + ":" + nonce) must have
    bits: int
    expires_in: int


class Receipt(SQLModel):
    #: shown once: the only way to follow the report later
    receipt: str
    state: IntakeState


class StatusLookup(SQLModel):
    model_config = STRICT
    receipt: str = Field(min_length=8, max_length=40)


class PublicStatus(SQLModel):
    state: IntakeState
    received_on: LocalDateTime
    updated_on: LocalDateTime
    note: str | None


class IntakeSummary(SQLModel):
    id: int
    received_at: LocalDateTime
    updated_at: LocalDateTime
    state: IntakeState
    category: IntakeCategory
    anonymous: bool
    subject: str
    files: int


class IntakeFilePublic(SQLModel):
    id: int
    content_type: str
    size: int


class IntakeDetail(IntakeSummary):
    body: str
    about: str | None
    contact: str | None
    public_note: str | None
    internal_note: str | None
    handled_by: int | None
    attachments: list[IntakeFilePublic]


class IntakeTriage(SQLModel):
    model_config = STRICT
    state: IntakeState
    public_note: str | None = Field(default=None, max_length=500)
    internal_note: str | None = Field(default=None, max_length=2000)
