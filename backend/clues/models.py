"""Problem clues (问题线索, B.16 问题线索拟办单), kept apart from warnings (严格区分预警与案件线索).

A clue comes from a true warning, an inspection, a report or letter, the public intake or a manual
entry; it is registered, triaged into one of three levels with a proposal (拟办意见), may carry the
committee's instruction (领导批示), is handed over to discipline with a receipt (who received it,
when) and followed to an outcome. A clue points at the warning or public report it came from; the
warning itself is not changed, nor does it list its clues.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.flow import StepFields
from backend.kernel.timeutil import utcnow


class ClueSource(StrEnum):
    warning = "warning"  # 属实预警
    inspection = "inspection"  # 监督检查
    letter = "letter"  # 来信来函
    public = "public"  # 群众举报（外网）
    manual = "manual"  # 其他（手工登记）


class ClueLevel(StrEnum):
    """Triage into three levels (一级 most serious)."""

    first = "first"  # 一级：严重，移交立案核查
    second = "second"  # 二级：较重，初步核实
    third = "third"  # 三级：一般，谈话函询或了结


class ClueState(StrEnum):
    registered = "registered"  # 已登记
    triaged = "triaged"  # 已分级拟办
    handed_over = "handed_over"  # 已移交，待签收
    received = "received"  # 已签收，核查中
    concluded = "concluded"  # 已办结


class ClueOutcome(StrEnum):
    filed = "filed"  # 立案审查
    talk = "talk"  # 谈话函询
    shelved = "shelved"  # 暂存待查
    dismissed = "dismissed"  # 予以了结


class ClueText(SQLModel):
    """What the registering inspector writes (the B.16 fields), shared by the table and the API."""

    #: 被反映人的级别
    subject_rank: str = Field(default="", max_length=40)
    #: 反映人 (empty: anonymous)
    reporter_name: str = Field(default="", max_length=60)
    reporter_unit: str = Field(default="", max_length=120)
    reporter_post: str = Field(default="", max_length=60)
    #: 来函单位 / 函号
    letter_unit: str = Field(default="", max_length=120)
    letter_no: str = Field(default="", max_length=60)
    #: 问题性质 / 内容摘要
    nature: str = Field(default="", max_length=200)
    summary: str = Field(min_length=1, max_length=4000)


class Clue(ClueText, table=True):
    __tablename__ = "clue"

    id: int | None = Field(default=None, primary_key=True)
    #: the unit the clue concerns (scopes follow it)
    unit_id: int = Field(index=True)
    source: str = Field(sa_type=String(16))
    warning_id: int | None = Field(default=None, index=True)
    intake_report_id: int | None = Field(default=None, index=True)
    state: str = Field(default=ClueState.registered.value, sa_type=String(16), index=True)
    level: str | None = Field(default=None, sa_type=String(8))
    #: 被反映人: a person of the organisation, or only named
    subject_person_id: int | None = Field(default=None, index=True)
    subject_name: str = Field(default="", max_length=60)
    subject_unit: str = Field(default="", max_length=120)
    subject_post: str = Field(default="", max_length=60)
    #: 拟办意见 / 领导批示
    proposal: str = Field(default="", max_length=2000)
    instruction: str = Field(default="", max_length=2000)
    instructed_by: int | None = None
    instructed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    registered_by: int
    registered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    triaged_by: int | None = None
    handed_by: int | None = None
    handed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: the receipt: who received the clue in discipline, and when
    receiver_person_id: int | None = Field(default=None, index=True)
    received_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    outcome: str | None = Field(default=None, sa_type=String(12))
    outcome_text: str = Field(default="", max_length=4000)
    concluded_by: int | None = None
    concluded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ClueStep(StepFields, table=True):
    __tablename__ = "clue_step"

    clue_id: int = Field(foreign_key="clue.id", index=True)
