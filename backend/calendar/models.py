"""The working-day calendar's override table: days an admin declares holiday or make-up working day."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class OverrideKind(StrEnum):
    #: a public holiday (or bridge day) on what would otherwise be a working day
    holiday = "holiday"
    #: a make-up working day (调休) on what would otherwise be a weekend
    workday = "workday"


class CalendarOverrideBase(SQLModel):
    day: date = Field(unique=True, index=True)
    kind: OverrideKind = Field(sa_type=String(8))
    note: str = Field(default="", max_length=120)


class CalendarOverride(CalendarOverrideBase, table=True):
    __tablename__ = "calendar_override"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CalendarOverrideCreate(CalendarOverrideBase):
    model_config = STRICT


class CalendarOverridePublic(CalendarOverrideBase):
    id: int
    created_at: LocalDateTime


class OverrideChange(SQLModel):
    override: CalendarOverridePublic
    #: provisional deadlines recomputed because the year's data changed
    deadlines_recomputed: int


class CalendarDay(SQLModel):
    day: date
    working: bool
    #: true when the day is guessed (weekdays only): no statutory data and no override for its year
    provisional: bool
    source: str


class DeadlinePublic(SQLModel):
    raised_on: date
    working_days: int
    due_on: date
    due_at: LocalDateTime
    provisional: bool
