"""Periodic jobs: what a feature declares; ``backend.schedule`` runs them.

A feature declares ``JOBS: list[Job]`` in ``backend/<feature>/jobs.py``. The scheduler (the
``scheduler`` and ``all`` roles of ``probity serve``) runs each job once per due time, whatever the
number of processes: see ``backend/schedule/service.py``.

A job must be safe to run again (idempotent): a run that fails is retried at the next due time,
and a process that dies mid-run leaves its lease, which lapses, and another process runs the job
again for the same due time. Whatever a job tells people is keyed by what it is about (a warning
and its step, a campaign and its day), so a second run tells no one twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time

from backend.kernel.db import Database
from backend.kernel.settings import Settings


@dataclass(frozen=True)
class Job:
    name: str
    #: the interval between due times (from the previous due time, not from the end of a run)
    every_seconds: float
    run: Callable[[Database, Settings], Awaitable[object]]
    #: the first due time when the job has never been scheduled: this long after the first start
    first_after_seconds: float = 0.0
    #: a daily job: due each day at this local time (``settings.timezone``), read from the settings;
    #: ``every_seconds`` is then ignored
    daily_at: Callable[[Settings], time] | None = None


def discover_jobs() -> list[Job]:
    from backend.kernel.discovery import feature_modules

    return [job for module in feature_modules("jobs") for job in module.JOBS]
