"""Exports of lists (XLSX) made in the background: who asked, what, how far, and the file.

Only the account that asked may read an export's state or take its file; a finished file is kept
``KEEP_HOURS`` and then removed by the same job that makes them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, LargeBinary, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import utcnow


class ExportState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ExportJob(SQLModel, table=True):
    __tablename__ = "export_job"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    person_id: int
    #: which list (warnings, replies, interviews, linked, ladder, trail)
    list_name: str = Field(sa_type=String(16))
    #: the list's filters as the screen sent them
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    lang: str = Field(default="zh-CN", sa_type=String(8))
    state: str = Field(default=ExportState.queued, sa_type=String(8), index=True)
    total_rows: int = 0
    done_rows: int = 0
    file_name: str = Field(default="", max_length=200)
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: why it failed (a catalogue key's family: export.failed.*)
    error: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: a running export's lease: another process takes it over once this has passed
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
