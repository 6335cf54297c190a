"""The lifecycle sweep: deliver missed warnings, set deadlines, remind, chase, order supervision."""

from __future__ import annotations

from backend.audit.service import AuditTrail
from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings
from backend.warnings.routing import sweep


async def sweep_warnings(db: Database, settings: Settings) -> str:
    async with db.session() as session:
        report = await sweep(session, AuditTrail(settings.secret_key.get_secret_value()), settings)
    return report.line()


JOBS = [Job("warnings.sweep", every_seconds=600, run=sweep_warnings)]
