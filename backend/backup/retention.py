"""What is kept how long. Each domain deletes its own rows (its service); this runs them with
the configured limits and puts each run in the trail of acts.

* sign-in sessions: ``PROBITY_SESSION_RETENTION_DAYS`` after they ended
* routed notifications with their deliveries and attempts: ``PROBITY_DELIVERY_RETENTION_DAYS``
  after they were routed (only finished ones)
* sign-in failure counts: once neither blocked nor within their window (``PROBITY_LOGIN_*``)
* the trail of acts itself: at least 184 days, and only by ``probity audit purge --before DATE``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.audit.service import AuditTrail
from backend.auth.retention import purge_sessions
from backend.auth.throttle import purge_throttle
from backend.delivery.retention import purge_deliveries
from backend.kernel.access import Actor, Channel
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow


@dataclass(frozen=True)
class Purged:
    sessions: int
    routes: int
    throttles: int = 0

    def line(self) -> str:
        return (
            f"deleted {self.sessions} ended session(s), {self.routes} finished delivery route(s) "
            f"and {self.throttles} forgotten sign-in failure count(s)"
        )


async def purge_expired(
    db: Database, settings: Settings, *, channel: Channel = Channel.system, now: datetime | None = None
) -> Purged:
    """One pass: every domain's rows past their retention, deleted in one transaction."""
    now = now or utcnow()
    sessions_before = now - timedelta(days=settings.session_retention_days)
    routes_before = now - timedelta(days=settings.delivery_retention_days)
    trail = AuditTrail(settings.secret_key.get_secret_value())
    async with db.session() as session:
        sessions = await purge_sessions(session, sessions_before)
        routes = await purge_deliveries(session, settings, routes_before, now=now)
        throttles = await purge_throttle(session, now)
        if sessions or routes or throttles:
            await trail.record(
                session,
                Actor.system(channel),
                action="retention.purged",
                object_type="retention",
                new={
                    "sessions": sessions,
                    "sessions_ended_before": sessions_before,
                    "delivery_routes": routes,
                    "routes_made_before": routes_before,
                    "sign_in_failure_counts": throttles,
                },
                power="retention",
            )
        await session.commit()
    return Purged(sessions, routes, throttles)
