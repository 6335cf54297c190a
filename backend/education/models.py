"""Integrity education hours (廉洁教育学时): one record per lesson a person took, imported from the
training system's file or credited when they mark a lesson (a broadcast with hours) as studied.
The risk portrait (B.18) counts the hours of the last twelve months against the yearly target."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow


class EducationRecord(SQLModel, table=True):
    __tablename__ = "education_record"
    #: a lesson is credited once per person (a second tap, or two devices, add nothing)
    __table_args__ = (UniqueConstraint("person_id", "broadcast_id", name="uq_education_lesson"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    studied_on: date = Field(index=True)
    hours: float
    title: str = Field(max_length=200)
    #: import | lesson
    source: str = Field(sa_type=String(16))
    broadcast_id: int | None = Field(default=None, index=True)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EducationPublic(SQLModel):
    id: int
    studied_on: date
    hours: float
    title: str
    source: str
    created_at: LocalDateTime


class MyEducation(SQLModel):
    """My hours of the last twelve months against the yearly target, and the records."""

    hours: float
    required_hours: float
    records: list[EducationPublic]


class EducationImport(SQLModel):
    taken: int
    refused: list[dict[str, object]]
