"""Retention: ended sessions and finished deliveries go after their configured days; what is
still in use stays; each pass is in the trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.auth.models import Account, AuthSession, LoginThrottle
from backend.backup.retention import purge_expired
from backend.delivery.models import Delivery, DeliveryAttempt, DeliveryRoute
from backend.kernel.timeutil import utcnow


async def count(session, model, *where):
    return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_sessions_and_deliveries_past_their_retention_are_deleted(db, settings):
    now = utcnow()
    days = timedelta(days=1)
    async with db.session() as session:
        account_id = (await session.execute(select(col(Account.id)).limit(1))).scalar_one()
        before = await count(session, AuthSession)
        old_expired = AuthSession(
            id=str(uuid.uuid4()), account_id=account_id, refresh_hash="x", expires_at=now - 40 * days
        )
        old_revoked = AuthSession(
            id=str(uuid.uuid4()),
            account_id=account_id,
            refresh_hash="x",
            expires_at=now + 5 * days,
            revoked_at=now - 31 * days,
        )
        recent = AuthSession(
            id=str(uuid.uuid4()), account_id=account_id, refresh_hash="x", expires_at=now - 2 * days
        )
        session.add_all([old_expired, old_revoked, recent])
        routes = []
        for n, (age, route_state, delivery_state) in enumerate(
            [(200, "delivered", "sent"), (200, "routing", "pending"), (10, "delivered", "sent")]
        ):
            route = DeliveryRoute(
                recipient_id=900_000 + n,
                event_id=1,
                person_id=1,
                state=route_state,
                created_at=now - age * days,
            )
            session.add(route)
            await session.flush()
            assert route.id is not None
            delivery = Delivery(
                route_id=route.id,
                recipient_id=route.recipient_id,
                event_id=1,
                person_id=1,
                channel="telegram",
                dedup_key=f"retention-{n}",
                state=delivery_state,
            )
            session.add(delivery)
            await session.flush()
            assert delivery.id is not None
            session.add(DeliveryAttempt(delivery_id=delivery.id, channel="telegram", outcome="sent"))
            routes.append(route.id)
        session.add_all(
            [
                # a username quiet for longer than its memory, an address whose window ended: gone
                LoginThrottle(key="name:someone-typing", failures=3, window_ends_at=now - days),
                LoginThrottle(key="addr:203.0.113.7", failures=9, window_ends_at=now - days),
                # still counted, still blocked: kept
                LoginThrottle(key="name:recent", failures=2, window_ends_at=now + days),
                LoginThrottle(
                    key="name:waiting", failures=9, window_ends_at=now - days, blocked_until=now + days
                ),
            ]
        )
        await session.commit()

    purged = await purge_expired(db, settings, now=now)

    assert (purged.sessions, purged.routes, purged.throttles) == (2, 1, 2)
    async with db.session() as session:
        kept = set((await session.execute(select(col(LoginThrottle.key)))).scalars())
        assert kept == {"name:recent", "name:waiting"}
    async with db.session() as session:
        assert await count(session, AuthSession) == before + 1
        assert await count(session, AuthSession, col(AuthSession.id) == recent.id) == 1
        left = set((await session.execute(select(col(DeliveryRoute.id)))).scalars())
        assert routes[0] not in left and {routes[1], routes[2]} <= left  # unfinished and recent stay
        assert await count(session, Delivery, col(Delivery.route_id) == routes[0]) == 0
        assert await count(session, DeliveryAttempt) == 2
        record = (
            await session.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(col(AuditRecord.action) == "retention.purged")
            )
        ).scalar_one()
        assert record.new_value is not None and record.new_value["sessions"] == 2
    again = await purge_expired(db, settings, now=now)
    assert (again.sessions, again.routes, again.throttles) == (0, 0, 0)
