"""Scheduled rule runs: every topic when its monitoring period comes due, and the exit check."""

from __future__ import annotations

from backend.audit.service import AuditTrail
from backend.engine.service import EngineService
from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings


async def run_due_topics(db: Database, settings: Settings) -> str:
    async with db.session() as session:
        engine = EngineService(session, AuditTrail(settings.secret_key.get_secret_value()), settings)
        runs = await engine.run_due()
        await engine.propose_retirements()
    return f"{len(runs)} topic run(s)"


JOBS = [Job("rules.run_due", every_seconds=300, run=run_due_topics)]
