"""Retention of the outbox: a routed notification whose deliveries are all finished is deleted,
with its deliveries and their attempts, ``PROBITY_DELIVERY_RETENTION_DAYS`` after it was routed.

Never inside the routing horizon (``delivery_horizon_hours``): a notification of a recent event
without a route would be routed again. The in-app notification (``event_recipient``) stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.delivery.models import Delivery, DeliveryAttempt, DeliveryRoute, DeliveryState, RouteState
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow

FINISHED_ROUTES = (RouteState.delivered.value, RouteState.exhausted.value, RouteState.inapp.value)
FINISHED_DELIVERIES = (DeliveryState.sent.value, DeliveryState.failed.value, DeliveryState.skipped.value)


async def purge_deliveries(
    session: AsyncSession, settings: Settings, routed_before: datetime, *, now: datetime | None = None
) -> int:
    """Delete finished routes made before ``routed_before`` (never within the routing horizon),
    their deliveries and attempts (commit stays with the caller). Returns how many routes."""
    horizon = (now or utcnow()) - timedelta(hours=settings.delivery_horizon_hours)
    cut = min(routed_before, horizon)
    unfinished = exists().where(
        col(Delivery.route_id) == col(DeliveryRoute.id), col(Delivery.state).not_in(FINISHED_DELIVERIES)
    )
    found = await session.execute(
        select(col(DeliveryRoute.id)).where(
            col(DeliveryRoute.created_at) < cut, col(DeliveryRoute.state).in_(FINISHED_ROUTES), ~unfinished
        )
    )
    ids = [route_id for route_id in found.scalars() if route_id is not None]
    deleted = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        deliveries = select(col(Delivery.id)).where(col(Delivery.route_id).in_(chunk))
        await session.execute(delete(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id).in_(deliveries)))
        await session.execute(delete(Delivery).where(col(Delivery.route_id).in_(chunk)))
        result = await session.execute(delete(DeliveryRoute).where(col(DeliveryRoute.id).in_(chunk)))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted
