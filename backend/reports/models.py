"""Periodic reports (9.2.3.4) and the findings a department answers (7.5.2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy import Column, LargeBinary, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow


class Report(SQLModel, table=True):
    """A monthly, quarterly or any-period report of one unit (a company or county) and below."""

    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    #: a scheduled report's key (kind, unit, first day): written once whatever the processes; none
    #: for one made on demand
    key: str | None = Field(default=None, max_length=64, unique=True)
    kind: str = Field(sa_type=String(16))
    unit_id: int = Field(index=True)
    period_start: date
    period_last_day: date
    title: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: the person who asked for it; none when the schedule made it
    created_by: int | None = None
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    xlsx: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ReportFinding(SQLModel, table=True):
    """A finding of a report addressed to a department, answered by it; the next report shows both."""

    __tablename__ = "report_finding"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    unit_id: int = Field(index=True)
    #: what kind of finding (overdue, interviews, letters)
    rule: str = Field(sa_type=String(16))
    text: str = Field(max_length=1000)
    answer: str | None = Field(default=None, max_length=4000)
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    answered_by: int | None = None


class ReportPublic(SQLModel):
    id: int
    kind: str
    unit_id: int
    unit_name: str
    period_start: date
    period_last_day: date
    title: str
    created_at: LocalDateTime
    scheduled: bool
    findings: int


class FindingPublic(SQLModel):
    id: int
    report_id: int
    report_title: str
    unit_id: int
    unit_name: str
    text: str
    answer: str | None
    answered_at: LocalDateTime | None


class FindingAnswer(SQLModel):
    text: str = Field(min_length=2, max_length=4000)


class ReportCreate(SQLModel):
    """A report on demand: a month or quarter holding ``at``, or the days ``first``–``last``."""

    unit_id: int
    kind: Literal["month", "quarter", "custom"] = "month"
    at: date | None = None
    first: date | None = None
    last: date | None = None
