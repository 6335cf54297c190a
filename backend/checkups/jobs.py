"""Daily check-up reminders to everyone who has not submitted in a campaign that takes answers.

Due each day at ``PROBITY_CHECKUP_REMINDER_AT`` (09:00 by default) local time; each campaign is
reminded once a day even if two processes ran the job (``CheckupService.remind_all``)."""

from __future__ import annotations

from datetime import time

from backend.audit.service import AuditTrail
from backend.checkups.crypto import Sealer
from backend.checkups.service import CheckupService
from backend.kernel.access import Actor, Channel
from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings

DAY = 24 * 3600


def reminder_time(settings: Settings) -> time:
    return settings.checkup_reminder_at


async def remind_checkups(db: Database, settings: Settings) -> str:
    async with db.session() as session:
        svc = CheckupService(
            session, AuditTrail(settings.secret_key.get_secret_value()), Sealer.from_settings(settings)
        )
        sent = await svc.remind_all(Actor.system(Channel.system, "check-up reminders"))
    return f"{sum(sent.values())} reminder(s) in {len(sent)} campaign(s)"


JOBS = [Job("checkups.remind", every_seconds=DAY, run=remind_checkups, daily_at=reminder_time)]
