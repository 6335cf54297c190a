"""The portrait's factor weights: defaults in code, an admin's changes kept here (and in the trail)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow


class PortraitWeight(SQLModel, table=True):
    __tablename__ = "portrait_weight"

    factor: str = Field(primary_key=True, max_length=32)
    weight: float
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_by: int | None = None


class WeightPublic(SQLModel):
    factor: str
    weight: float
    default: float
    updated_at: LocalDateTime | None


class WeightsUpdate(SQLModel):
    """New weights by factor (those left out keep theirs)."""

    weights: dict[str, float]


class FactorValue(SQLModel):
    factor: str
    value: float
    weight: float
    contribution: float


class PortraitRow(SQLModel):
    key: str
    label: str
    score: float
    rank: int
    previous_score: float
    #: rising, falling or steady against the previous period
    trend: str
    factors: list[FactorValue]


class Portrait(SQLModel):
    by: str
    period_start: str
    period_last_day: str
    rows: list[PortraitRow]
    #: factors B.18 names that the platform does not record yet (no value, no weight)
    missing_factors: list[str]
