"""Once a day: re-checks that have come due, rectifications past their due date (reminders.py)."""

from __future__ import annotations

from datetime import time

from backend.audit.service import AuditTrail
from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings
from backend.problems.reminders import remind


async def remind_problems(db: Database, settings: Settings) -> str:
    async with db.session() as session:
        report = await remind(session, AuditTrail(settings.secret_key.get_secret_value()))
    return report.line()


JOBS = [Job("problems.remind", every_seconds=86400, run=remind_problems, daily_at=lambda _s: time(8, 30))]
