"""The ladder sweep: open cases past their deadline move up a tier (or are reported at the top)."""

from __future__ import annotations

from backend.audit.service import AuditTrail
from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings
from backend.ladder.service import sweep


async def sweep_ladder(db: Database, settings: Settings) -> str:
    async with db.session() as session:
        report = await sweep(session, AuditTrail(settings.secret_key.get_secret_value()), settings)
    return report.line()


JOBS = [Job("ladder.sweep", every_seconds=3600, run=sweep_ladder)]
