"""Rows past their retention (sessions, finished deliveries) are deleted once a day."""

from __future__ import annotations

from backend.backup.retention import purge_expired
from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings


async def purge_expired_rows(db: Database, settings: Settings) -> str:
    return (await purge_expired(db, settings)).line()


JOBS = [Job("retention.purge", every_seconds=24 * 3600, run=purge_expired_rows, first_after_seconds=600)]
