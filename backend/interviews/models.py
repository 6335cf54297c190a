"""Interview records (约谈, B.12) and high-risk check sheets (B.17): the discipline archive of true
warnings. The ``interview`` and ``interview_warning`` tables come from migration 0004 (branch
"lifecycle"); signatures and check sheets from 0008 (branch "interviews")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import utcnow


class Interview(SQLModel, table=True):
    """An interview record (约谈记录, B.12), filed to the discipline archive."""

    __tablename__ = "interview"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    #: the interviewee and their unit (scopes follow it)
    person_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    interviewee_name: str = Field(max_length=60)
    interviewee_unit: str = Field(max_length=120)
    interviewee_post: str = Field(default="", max_length=120)
    held_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    place: str = Field(max_length=200)
    #: three questions
    q_true: str = Field(max_length=4000)
    q_cause: str = Field(max_length=4000)
    q_integrity: str = Field(max_length=4000)
    #: three checks
    c_collaboration: str = Field(max_length=4000)
    c_control: str = Field(max_length=4000)
    c_education: str = Field(max_length=4000)
    suggestion: str = Field(max_length=4000)
    follow_up: str = Field(max_length=4000)
    #: [{"person_id", "name", "post"}], two at least
    interviewers: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    #: [{"signer", "sha256", "content_type"}]: images drawn on the phone, stored like photos
    signatures: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    body_hash: str = Field(max_length=64)
    recorded_by: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class InterviewWarning(SQLModel, table=True):
    __tablename__ = "interview_warning"

    interview_id: int = Field(foreign_key="interview.id", primary_key=True)
    warning_id: int = Field(foreign_key="warning.id", primary_key=True, index=True)


class InterviewSignature(SQLModel, table=True):
    """A signature drawn on the phone (PNG), stored by SHA-256 like photos; bound to one record."""

    __tablename__ = "interview_signature"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(sa_type=String(32))
    size: int
    uploaded_by: int = Field(index=True)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: set when a record is made with it (a signature signs one record only)
    interview_id: int | None = Field(default=None, foreign_key="interview.id", index=True)
    #: interviewer / interviewee, and who
    signer: str | None = Field(default=None, sa_type=String(12))
    signer_person_id: int | None = None


class HighRiskCheck(SQLModel, table=True):
    """A high-risk check sheet (XXX 主题高风险问题核查单, B.17) of one true red warning."""

    __tablename__ = "high_risk_check"

    id: int | None = Field(default=None, primary_key=True)
    warning_id: int = Field(foreign_key="warning.id", unique=True)
    person_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    topic_code: str = Field(max_length=32)
    #: 风险描述 / 风险核查结果 / 可能存在的廉政风险 / 相关防控要求
    risk_description: str = Field(max_length=4000)
    check_result: str = Field(max_length=4000)
    possible_risk: str = Field(max_length=4000)
    control_requirements: str = Field(max_length=4000)
    #: 业务部门负责人意见 (with the sheet) and 单位负责人意见 (added later by someone else)
    head_opinion: str = Field(max_length=2000)
    head_person_id: int
    head_opinion_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    unit_opinion: str | None = Field(default=None, max_length=2000)
    unit_person_id: int | None = None
    unit_opinion_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
