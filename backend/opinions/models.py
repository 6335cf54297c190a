"""Collaborative supervision opinions (协同监督意见书, B.15, standard 9.2.3.2): for a process defect or
missing control found, an inspector drafts an opinion to a department; it goes with the project
group leader's opinion to the supervision committee, which approves it (or returns it); it is sent
to the department, answered by its head and followed up until closed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.flow import StepFields
from backend.kernel.timeutil import utcnow


class OpinionState(StrEnum):
    drafted = "drafted"  # 拟稿
    submitted = "submitted"  # 已报监督工作委员会审议
    approved = "approved"  # 已审议通过
    sent = "sent"  # 已下发业务部门
    answered = "answered"  # 部门已反馈整改情况
    closed = "closed"  # 跟踪落实，已办结


class Opinion(SQLModel, table=True):
    __tablename__ = "opinion"

    id: int | None = Field(default=None, primary_key=True)
    #: 整改部门/单位 (scopes follow it)
    unit_id: int = Field(index=True)
    state: str = Field(default=OpinionState.drafted.value, sa_type=String(12), index=True)
    #: 发现问题 / 整改意见
    problem: str = Field(max_length=4000)
    advice: str = Field(max_length=4000)
    drafted_by: int
    drafted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    #: 项目组组长意见 (given when submitting for review)
    leader_opinion: str = Field(default="", max_length=2000)
    leader_by: int | None = None
    leader_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: 监督工作委员会意见
    committee_opinion: str = Field(default="", max_length=2000)
    committee_by: int | None = None
    committee_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: the department head's answer
    answer: str = Field(default="", max_length=4000)
    answered_by: int | None = None
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: the follow-up (跟踪落实)
    follow_up: str = Field(default="", max_length=2000)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class OpinionStep(StepFields, table=True):
    __tablename__ = "opinion_step"

    opinion_id: int = Field(foreign_key="opinion.id", index=True)
