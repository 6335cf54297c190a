"""The reports' schedule: each morning, the last complete month's and quarter's reports of every
company and county that are not made yet (the first morning of a month makes the month's)."""

from __future__ import annotations

from datetime import time

from backend.audit.service import AuditTrail
from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.reports.service import scheduled_reports


async def make_reports(db: Database, settings: Settings) -> str:
    async with db.session() as session:
        made = await scheduled_reports(
            session, settings, AuditTrail(settings.secret_key.get_secret_value()), utcnow()
        )
    return f"reports made: {made}"


JOBS = [Job("reports.periodic", every_seconds=86400, run=make_reports, daily_at=lambda _s: time(6, 30))]
