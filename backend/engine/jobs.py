"""Scheduled rule runs: every topic when its monitoring period comes due, the exit check, and the
runs asked for on the Spark engine (queued, run here)."""

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


async def run_queued_topics(db: Database, settings: Settings) -> str:
    """Runs asked for on the Spark engine (they take seconds to minutes), run by the scheduler."""
    async with db.session() as session:
        engine = EngineService(session, AuditTrail(settings.secret_key.get_secret_value()), settings)
        runs = await engine.run_queued()
    return f"{len(runs)} queued run(s)"


JOBS = [
    Job("rules.run_due", every_seconds=300, run=run_due_topics),
    Job("rules.run_queued", every_seconds=15, run=run_queued_topics),
]
