"""Recording what a worker's sends came to: each try a :class:`DeliveryAttempt`, each delivery moved on.

A success closes the route and skips its fallbacks; a retryable failure waits (exponential backoff
with jitter, never less than the service's ``Retry-After``) until the channel's tries run out; a
final failure wakes the next channel of the person's chain, or marks the route exhausted (the
in-app list still has the notification). Every state change follows from the rows the
lease-guarded ``UPDATE … RETURNING`` returned: a report from a worker whose lease ran out (the
delivery was claimed again meanwhile) moves nothing; its tries are still recorded, marked late,
for the delivery proof (the receiver may have the message twice).

The statements run on a plain (sync) Core connection, all of them in one go: :func:`record` hands the
whole transaction to :meth:`Database.write` (on a SQLite file one handoff to its writer thread
instead of four per statement through aiosqlite: a fan-out records its outcomes every few
milliseconds). :meth:`Outbox.complete` runs the same in an async session's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from backend.delivery import channels as ch
from backend.delivery.claimed import (
    ADDRESS,
    ATTEMPT,
    DELIVERY,
    ROUTE,
    SUBSCRIPTION,
    Outcome,
    backoff_seconds,
    by_lease,
    chunks,
    ids_in,
    late,
)
from backend.delivery.models import DeliveryState, RouteState
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow

# the statements of every recording, built once (a fan-out records every few milliseconds)
_OK = (
    update(SUBSCRIPTION)
    .where(SUBSCRIPTION.c.id.in_(bindparam("ids", expanding=True)))
    .values(last_success_at=bindparam("now", type_=SUBSCRIPTION.c.last_success_at.type))
)
_SENT = (
    update(DELIVERY)
    .where(DELIVERY.c.id.in_(bindparam("ids", expanding=True)), DELIVERY.c.lease_owner == bindparam("lease"))
    .values(
        state=DeliveryState.sent.value,
        sent_at=bindparam("now", type_=DELIVERY.c.sent_at.type),
        attempts=DELIVERY.c.attempts + 1,
        lease_owner=None,
        lease_until=None,
    )
    .returning(DELIVERY.c.id, DELIVERY.c.route_id, DELIVERY.c.channel)
)
_DELIVERED = (
    update(ROUTE)
    .where(ROUTE.c.id.in_(bindparam("ids", expanding=True)), ROUTE.c.state == RouteState.routing.value)
    .values(
        state=RouteState.delivered.value,
        delivered_channel=bindparam("channel", type_=ROUTE.c.delivered_channel.type),
        delivered_at=bindparam("now", type_=ROUTE.c.delivered_at.type),
    )
)
_ATTEMPTS = insert(ATTEMPT)


async def record(
    db: Database, settings: Settings, outcomes: Sequence[Outcome], worker: str, *, now: datetime | None = None
) -> None:
    """:func:`write` in a transaction of its own (committed)."""
    if not outcomes:
        return
    when = now or utcnow()
    await db.write(lambda conn: write(conn, settings, outcomes, worker, when))


def write(
    conn: Connection, settings: Settings, outcomes: Sequence[Outcome], worker: str, now: datetime
) -> None:
    """Record every try and move each delivery on (the caller commits)."""
    if not outcomes:
        return
    gone = {s for o in outcomes for s in o.gone_subscriptions}
    for ids in chunks(gone):
        conn.execute(delete(SUBSCRIPTION).where(ids_in(SUBSCRIPTION.c.id, ids)))
    for ids in chunks({s for o in outcomes for s in o.ok_subscriptions} - gone):
        conn.execute(_OK, {"ids": ids, "now": now})
    for o in outcomes:
        if o.refused:
            conn.execute(
                update(ADDRESS)
                .where(ADDRESS.c.person_id == o.job.person_id, ADDRESS.c.channel == o.job.channel)
                .values(refused_at=now)
            )
    held = sent(conn, [o for o in outcomes if o.result == "sent"], now)
    failed = [o for o in outcomes if o.result == "failed"]
    retry: list[Outcome] = []
    for o in outcomes:
        if o.result == "retry":
            (failed if o.job.attempts + 1 >= settings.delivery_max_attempts else retry).append(o)
    if retry:
        held |= still_held(conn, retry)
        # no other row follows from a retry: the guard in the WHERE clause is the whole check
        conn.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == bindparam("b_id"), DELIVERY.c.lease_owner == bindparam("b_lease"))
            .values(
                state=DeliveryState.pending.value,
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"),
                lease_owner=None,
                lease_until=None,
                last_error=bindparam("b_error"),
            ),
            [
                {
                    "b_id": o.job.delivery_id,
                    "b_lease": o.job.lease,
                    "b_attempts": o.job.attempts + 1,
                    "b_next": now
                    + timedelta(seconds=backoff_seconds(o.job.attempts + 1, settings, o.retry_after)),
                    "b_error": ch.scrub(o.error, o.job.secrets),
                }
                for o in retry
            ],
        )
    for o in failed:  # rare: one by one, each may wake the next channel
        error = ch.scrub(o.error, o.job.secrets)
        if give_up(conn, o.job.delivery_id, o.job.lease, o.job.attempts + 1, error, now):
            held.add(o.job.delivery_id)
    attempts = [
        {
            "delivery_id": o.job.delivery_id,
            "channel": o.job.channel,
            "target": (t.target or "")[:80] or None,
            "outcome": t.outcome,
            "status": t.status,
            "error": ch.scrub(t.error if o.job.delivery_id in held else late(t.error), o.job.secrets),
            "latency_ms": t.latency_ms,
            "worker": worker[:64],
            "at": now,
        }
        for o in outcomes
        for t in o.tries
    ]
    if attempts:
        conn.execute(_ATTEMPTS, attempts)


def still_held(conn: Connection, outcomes: Sequence[Outcome]) -> set[int]:
    """Which of the reported deliveries are still leased under the lease they were sent with."""
    held: set[int] = set()
    for lease, delivery_ids in by_lease(o.job for o in outcomes).items():
        for ids in chunks(delivery_ids):
            rows = conn.execute(
                select(DELIVERY.c.id).where(ids_in(DELIVERY.c.id, ids), DELIVERY.c.lease_owner == lease)
            )
            held |= {int(i) for (i,) in rows}
    return held


def give_up(
    conn: Connection, delivery_id: int, lease: str, attempts: int, error: str | None, now: datetime
) -> bool:
    """This channel failed for good: the delivery is failed (if ``lease`` still holds it) and
    the next channel of its route wakes up, or the route is exhausted. False: not held."""
    route_id = conn.execute(
        update(DELIVERY)
        .where(DELIVERY.c.id == delivery_id, DELIVERY.c.lease_owner == lease)
        .values(
            state=DeliveryState.failed.value,
            attempts=attempts,
            lease_owner=None,
            lease_until=None,
            last_error=error,
        )
        .returning(DELIVERY.c.route_id)
    ).scalar_one_or_none()
    if route_id is None:
        return False
    fall_back(conn, int(route_id), now)
    return True


def sent(conn: Connection, outcomes: Sequence[Outcome], now: datetime) -> set[int]:
    """Sent deliveries close their route and skip its fallbacks: only those the lease still
    held (``RETURNING``), so a late report cannot close a route another worker is sending."""
    fallback = {o.job.delivery_id for o in outcomes if o.job.fallback}
    held: set[int] = set()
    delivered: dict[str, list[int]] = defaultdict(list)
    skip: list[int] = []
    for lease, delivery_ids in by_lease(o.job for o in outcomes).items():
        for ids in chunks(delivery_ids):
            rows = conn.execute(_SENT, {"ids": ids, "lease": lease, "now": now})
            for delivery_id, route_id, channel in rows:
                held.add(int(delivery_id))
                delivered[str(channel)].append(int(route_id))
                if int(delivery_id) in fallback:
                    skip.append(int(route_id))
    for channel, route_ids in delivered.items():
        for ids in chunks(route_ids):
            conn.execute(_DELIVERED, {"ids": ids, "channel": channel, "now": now})
    for ids in chunks(skip):
        conn.execute(
            update(DELIVERY)
            .where(ids_in(DELIVERY.c.route_id, ids), DELIVERY.c.state == DeliveryState.waiting.value)
            .values(state=DeliveryState.skipped.value)
        )
    return held


def fall_back(conn: Connection, route_id: int, now: datetime) -> None:
    following = conn.execute(
        select(DELIVERY.c.id)
        .where(DELIVERY.c.route_id == route_id, DELIVERY.c.state == DeliveryState.waiting.value)
        .order_by(DELIVERY.c.position)
        .limit(1)
    ).scalar_one_or_none()
    if following is not None:
        conn.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == following, DELIVERY.c.state == DeliveryState.waiting.value)
            .values(state=DeliveryState.pending.value, next_attempt_at=now)
        )
        return
    conn.execute(
        update(ROUTE)
        .where(ROUTE.c.id == route_id, ROUTE.c.state == RouteState.routing.value)
        .values(state=RouteState.exhausted.value)
    )
