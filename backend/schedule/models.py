"""The schedule table: one row per periodic job, shared by every process that runs jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime


class Schedule(SQLModel, table=True):
    __tablename__ = "schedule"

    #: the job's name (``Job.name``: ``warnings.sweep``, ``checkups.remind`` …)
    name: str = Field(sa_column=Column(String(64), primary_key=True))
    #: the slot the job runs for next; it runs once this has passed
    next_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    #: the running process's lease: a random token, who holds it, until when (renewed while it runs)
    lease_token: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    lease_owner: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: the last run: the slot it ran for, when it started and ended, what it said or why it failed
    last_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_result: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: finished runs, failed ones included
    runs: int = Field(default=0)
