"""Rule runs: one record per run of a topic's rule version."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow
from backend.warnings.models import Finding


class RunStatus(StrEnum):
    #: waiting for the scheduler (runs on the Spark engine go through it as jobs)
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class RuleRun(SQLModel, table=True):
    __tablename__ = "rule_run"

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(index=True)
    topic_code: str = Field(max_length=32)
    version_id: int
    trigger: str = Field(max_length=16)  # manual, schedule, cli
    trial: bool = False
    status: RunStatus = Field(default=RunStatus.running, sa_type=String(16), index=True)
    #: the engine that ran it: duckdb or spark
    engine: str = Field(default="duckdb", max_length=16, sa_column_kwargs={"server_default": "duckdb"})
    rows_scanned: int = 0
    hits_high: int = 0
    hits_medium: int = 0
    hits_low: int = 0
    hits_none: int = 0
    warnings_created: int = 0
    warnings_updated: int = 0
    #: hits whose employee number is not a known person (reported, not stored)
    unassigned: int = 0
    query_ms: int = 0
    duration_ms: int = 0
    error: str | None = Field(default=None, max_length=1000)
    person_id: int | None = None
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RunPublic(SQLModel):
    id: int
    topic_id: int
    topic_code: str
    version_id: int
    trigger: str
    trial: bool
    status: RunStatus
    engine: str
    rows_scanned: int
    hits_high: int
    hits_medium: int
    hits_low: int
    hits_none: int
    warnings_created: int
    warnings_updated: int
    unassigned: int
    query_ms: int
    duration_ms: int
    error: str | None
    started_at: LocalDateTime
    finished_at: LocalDateTime | None


class RunRequest(SQLModel):
    """Topic codes to run now; empty runs every online topic."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]
    topics: list[str] = Field(default_factory=list, max_length=200)


class TopicPrecision(SQLModel):
    """The true rate of an online topic: of its live warnings with a standing verification, how many
    were true (属实). ``returned`` replies await a new answer and are not counted as checked."""

    topic_id: int
    code: str
    name: str
    specialty: str
    warnings: int
    checked: int
    true: int
    not_true: int
    returned: int
    true_rate: float | None


class TrialVerdict(SQLModel):
    """A topic expert's verdict on a trial warning after checking it offline (clue sheet B.6)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]
    result: Finding
    note: str = Field(min_length=1, max_length=4000)


class ClueItem(SQLModel):
    """One line of the clue sheet: a trial hit and what the experts found."""

    warning_id: int
    level: str
    object_key: str
    period_key: str
    person_id: int
    unit_id: int
    employee_no: str | None
    evidence: dict[str, Any]
    hit_count: int
    raised_at: LocalDateTime
    last_hit_at: LocalDateTime
    verdict: Finding | None = None
    verdict_note: str | None = None
    verdict_round: int | None = None


class ClueSheet(SQLModel):
    topic: str
    items: list[ClueItem]
    total: int
    limit: int
    offset: int
