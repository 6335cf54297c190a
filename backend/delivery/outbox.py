"""The outbox: route in-app notifications to channels, lease due deliveries, record what happened.

Three steps, each its own transaction, driven by a worker (``notifications/worker.py``):

1. :meth:`Outbox.route_new` — every ``event_recipient`` row without a route (within the horizon)
   gets a :class:`DeliveryRoute` and one :class:`Delivery` per channel the person can be reached on,
   in their order: the first *pending* (at once, or when their quiet hours end — red warnings ring
   through them), the rest *waiting* as fallbacks. Inserts are ``ON CONFLICT DO NOTHING`` on the
   recipient and on the dedup key, so two workers routing the same row write it once.
2. :meth:`Outbox.claim` — due rows (pending and due, or leased with the lease run out) are leased
   to one worker: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on both databases a conditional
   ``UPDATE`` that re-checks the row is still due, so a row is never leased twice at once.
3. :meth:`Outbox.complete` — each try becomes a :class:`DeliveryAttempt`; a success closes the
   route and skips its fallbacks; a retryable failure waits (exponential backoff with jitter, never
   less than the service's ``Retry-After``) until the channel's tries run out; a final failure
   wakes the next channel of the person's chain, or marks the route exhausted (the in-app list
   still has the notification).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.delivery import channels as ch
from backend.delivery.models import (
    DEFAULT_ORDER,
    ChannelConfig,
    Delivery,
    DeliveryAttempt,
    DeliveryChannel,
    DeliveryPreference,
    DeliveryRoute,
    DeliveryState,
    PersonChannel,
    PushSubscription,
    RouteState,
)
from backend.delivery.payloads import Item, item_from_event
from backend.events.models import Event, EventRecipient
from backend.kernel.access import Principal, Role
from backend.kernel.errors import NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import SHANGHAI, utcnow
from backend.org.service import OrgService

#: reads the directory on the delivery domain's behalf (a person's unit, for the unit's policy)
DIRECTORY_READER = Principal(
    account_id=0,
    session_id="delivery",
    person_id=0,
    unit_id=0,
    roles=frozenset({Role.admin}),
    subtree_unit_ids=frozenset(),
    username="delivery",
)
CHUNK = 400


def _int(value: Any) -> int:
    return int(value)


def dedup_key(event_id: int, person_id: int, channel: str) -> str:
    return f"e{event_id}:p{person_id}:{channel}"


def backoff_seconds(
    attempt: int, settings: Settings, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Exponential backoff with jitter (50–150 % of base·2^(n-1), capped); never before Retry-After."""
    base = min(
        settings.delivery_backoff_max_seconds, settings.delivery_backoff_seconds * 2 ** max(0, attempt - 1)
    )
    delay = base * (0.5 + (rng or random).random())
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), 3600.0))
    return delay


def in_quiet_hours(start: str | None, end: str | None, now: datetime) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC), or ``None`` outside them."""
    if not start or not end or start == end:
        return None
    t0, t1 = time.fromisoformat(start), time.fromisoformat(end)
    here = now.astimezone(SHANGHAI)
    t = here.time().replace(tzinfo=None)
    quiet = (t0 <= t < t1) if t0 < t1 else (t >= t0 or t < t1)
    if not quiet:
        return None
    end_at = here.replace(hour=t1.hour, minute=t1.minute, second=0, microsecond=0)
    if end_at <= here:
        end_at += timedelta(days=1)
    return end_at.astimezone(now.tzinfo)


def upsert_ignore(session: AsyncSession, table: Any, *conflict: str) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=list(conflict))


def is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


# --- what a worker gets and gives back ---------------------------------------------------


@dataclass(frozen=True)
class PushTarget:
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass
class Job:
    delivery_id: int
    lease: str
    channel: str
    person_id: int
    recipient_id: int
    dedup_key: str
    attempts: int
    item: Item
    detail: bool = False
    subscriptions: list[PushTarget] = field(default_factory=list)
    #: Telegram chat id or the person's Apprise address
    address: str | None = None
    #: the filled Apprise URL (holds secrets: never log it)
    url: str | None = None
    secrets: list[str] = field(default_factory=list)

    def group_key(self) -> tuple[Any, ...]:
        return (self.person_id, self.channel, self.item.kind, self.item.level, self.detail, self.url)


@dataclass
class TargetResult:
    target: str | None
    outcome: Literal["sent", "retry", "gone", "failed", "shrunk", "lost"]
    status: int | None = None
    error: str | None = None
    latency_ms: int = 0


@dataclass
class Outcome:
    job: Job
    result: Literal["sent", "retry", "failed"]
    tries: list[TargetResult] = field(default_factory=list)
    retry_after: float | None = None
    gone_subscriptions: list[int] = field(default_factory=list)
    ok_subscriptions: list[int] = field(default_factory=list)
    #: the channel refused this person for good (blocked bot, unknown user)
    refused: bool = False

    @property
    def error(self) -> str | None:
        errors = [t.error for t in self.tries if t.error]
        return errors[-1] if errors else None


# --- the outbox ---------------------------------------------------------------------------


class Outbox:
    def __init__(self, session: AsyncSession, settings: Settings, trail: AuditTrail) -> None:
        self.session = session
        self.settings = settings
        self.org = OrgService(session, trail)
        self._unit_chain: dict[int, list[int]] = {}

    # --- 1. routing -----------------------------------------------------------------
    async def route_new(self, *, limit: int | None = None, now: datetime | None = None) -> int:
        """Route in-app notifications that have no route yet; commits. Returns how many."""
        now = now or utcnow()
        limit = limit or self.settings.delivery_batch
        horizon = now - timedelta(hours=self.settings.delivery_horizon_hours)
        rows = (
            await self.session.execute(
                select(
                    col(EventRecipient.id),
                    col(EventRecipient.event_id),
                    col(EventRecipient.person_id),
                    col(Event.level),
                    col(Event.kind),
                )
                .join(Event, col(Event.id) == col(EventRecipient.event_id))
                .outerjoin(DeliveryRoute, col(DeliveryRoute.recipient_id) == col(EventRecipient.id))
                .where(col(DeliveryRoute.id).is_(None), col(Event.created_at) >= horizon)
                .order_by(col(EventRecipient.id))
                .limit(limit)
            )
        ).all()
        if not rows:
            await self.session.rollback()
            return 0
        person_ids = sorted({int(r[2]) for r in rows})
        plans = await self._channel_plans(person_ids)
        prefs = {
            p.person_id: p
            for p in (
                await self.session.execute(
                    select(DeliveryPreference).where(col(DeliveryPreference.person_id).in_(person_ids))
                )
            ).scalars()
        }
        route_values = []
        for recipient_id, event_id, person_id, _level, _kind in rows:
            chain = [c for c, _ in plans.get(int(person_id), [])]
            route_values.append(
                {
                    "recipient_id": recipient_id,
                    "event_id": event_id,
                    "person_id": person_id,
                    "chain": chain,
                    "state": (RouteState.routing if chain else RouteState.inapp).value,
                    "created_at": now,
                }
            )
        # executemany ("insertmanyvalues"): one cached statement, RETURNING only the rows written
        stmt = upsert_ignore(self.session, DeliveryRoute, "recipient_id").returning(
            col(DeliveryRoute.id), col(DeliveryRoute.recipient_id)
        )
        created = {
            _int(rid): _int(route_id)
            for route_id, rid in (await self.session.execute(stmt, route_values)).all()
        }
        deliveries: list[dict[str, Any]] = []
        for recipient_id, event_id, person_id, level, _kind in rows:
            route_id = created.get(_int(recipient_id))
            if route_id is None:
                continue  # another worker routed it
            pref = prefs.get(int(person_id))
            quiet_end = (
                None
                if level == "high" or pref is None
                else in_quiet_hours(pref.quiet_start, pref.quiet_end, now)
            )
            for position, (channel, config_id) in enumerate(plans.get(int(person_id), [])):
                deliveries.append(
                    {
                        "route_id": route_id,
                        "recipient_id": recipient_id,
                        "event_id": event_id,
                        "person_id": person_id,
                        "channel": channel,
                        "position": position,
                        "config_id": config_id,
                        "dedup_key": dedup_key(int(event_id), int(person_id), channel),
                        "state": (DeliveryState.pending if position == 0 else DeliveryState.waiting).value,
                        "attempts": 0,
                        "next_attempt_at": quiet_end or now,
                        "created_at": now,
                    }
                )
        if deliveries:
            await self.session.execute(upsert_ignore(self.session, Delivery, "dedup_key"), deliveries)
        await self.session.commit()
        return len(created)

    async def _unit_chain_of(self, person_id: int) -> list[int]:
        if person_id not in self._unit_chain:
            try:
                person = await self.org.get_person(DIRECTORY_READER, person_id)
                self._unit_chain[person_id] = await self.org.unit_chain(person.unit_id)
            except NotFound:
                self._unit_chain[person_id] = []
        return self._unit_chain[person_id]

    async def _channel_plans(self, person_ids: Sequence[int]) -> dict[int, list[tuple[str, int | None]]]:
        """Per person, the channels they can be reached on, in their order, with the unit policy."""
        configs: dict[tuple[int, str], ChannelConfig] = {
            (c.unit_id, c.channel): c for c in (await self.session.execute(select(ChannelConfig))).scalars()
        }
        orders = {
            p.person_id: p.channel_order
            for p in (
                await self.session.execute(
                    select(DeliveryPreference).where(col(DeliveryPreference.person_id).in_(person_ids))
                )
            ).scalars()
        }
        addresses: dict[int, set[str]] = defaultdict(set)
        for person_id, channel in (
            await self.session.execute(
                select(col(PersonChannel.person_id), col(PersonChannel.channel)).where(
                    col(PersonChannel.person_id).in_(person_ids),
                    col(PersonChannel.enabled).is_(True),
                    col(PersonChannel.refused_at).is_(None),
                )
            )
        ).all():
            addresses[int(person_id)].add(str(channel))
        pushable = set(
            (
                await self.session.execute(
                    select(col(PushSubscription.person_id))
                    .where(col(PushSubscription.person_id).in_(person_ids))
                    .distinct()
                )
            ).scalars()
        )
        telegram_on = self.settings.telegram_bot_token is not None
        plans: dict[int, list[tuple[str, int | None]]] = {}
        for person_id in person_ids:
            order = orders.get(person_id) or DEFAULT_ORDER
            order = [c for c in order if c in DEFAULT_ORDER] + [c for c in DEFAULT_ORDER if c not in order]
            chain_units = await self._unit_chain_of(person_id) if configs else []
            plan: list[tuple[str, int | None]] = []
            for channel in order:
                config = next((configs[(u, channel)] for u in chain_units if (u, channel) in configs), None)
                if config is not None and not config.enabled:
                    continue
                if channel == DeliveryChannel.webpush:
                    ok = person_id in pushable
                elif channel == DeliveryChannel.telegram:
                    ok = telegram_on and channel in addresses[person_id]
                else:
                    ok = channel in addresses[person_id] and config is not None and bool(config.url)
                if ok:
                    plan.append((channel, config.id if config is not None else None))
            plans[person_id] = plan
        return plans

    # --- 2. claiming ------------------------------------------------------------------
    def _due(self, now: datetime) -> Any:
        return or_(
            and_(col(Delivery.state) == DeliveryState.pending.value, col(Delivery.next_attempt_at) <= now),
            and_(col(Delivery.state) == DeliveryState.leased.value, col(Delivery.lease_until) < now),
        )

    async def claim(self, worker: str, *, limit: int | None = None, now: datetime | None = None) -> list[Job]:
        """Lease due deliveries to ``worker``; commits the lease, then returns what to send."""
        now = now or utcnow()
        limit = limit or self.settings.delivery_batch
        token = f"{worker[:48]}:{uuid.uuid4().hex[:12]}"
        pick = (
            select(col(Delivery.id), col(Delivery.state), col(Delivery.channel))
            .where(self._due(now))
            .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
            .limit(limit)
        )
        if is_postgres(self.session):
            pick = pick.with_for_update(skip_locked=True)
        picked = (await self.session.execute(pick)).all()
        if not picked:
            await self.session.rollback()
            return []
        ids = [_int(i) for i, _, _ in picked]
        await self.session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(ids), self._due(now))
            .values(
                state=DeliveryState.leased.value,
                lease_owner=token,
                lease_until=now + timedelta(seconds=self.settings.delivery_lease_seconds),
            )
            .execution_options(synchronize_session=False)
        )
        lost = [(_int(i), str(c)) for i, state, c in picked if state == DeliveryState.leased.value]
        if lost:
            await self.session.execute(
                insert(DeliveryAttempt),
                [
                    {
                        "delivery_id": i,
                        "channel": c,
                        "outcome": "lost",
                        "error": "the lease ran out before an outcome was recorded (worker stopped?)",
                        "latency_ms": 0,
                        "worker": worker[:64],
                        "at": now,
                    }
                    for i, c in lost
                ],
            )
        await self.session.commit()
        leased = list(
            (await self.session.execute(select(Delivery).where(col(Delivery.lease_owner) == token))).scalars()
        )
        return await self._jobs(leased, token)

    async def _jobs(self, leased: list[Delivery], token: str) -> list[Job]:
        if not leased:
            return []
        recipient_ids = sorted({d.recipient_id for d in leased})
        events: dict[int, tuple[EventRecipient, Event]] = {}
        for start in range(0, len(recipient_ids), CHUNK):
            for r, e in (
                await self.session.execute(
                    select(EventRecipient, Event)
                    .join(Event, col(Event.id) == col(EventRecipient.event_id))
                    .where(col(EventRecipient.id).in_(recipient_ids[start : start + CHUNK]))
                )
            ).all():
                events[r.id or 0] = (r, e)
        person_ids = sorted({d.person_id for d in leased})
        subs: dict[int, list[PushTarget]] = defaultdict(list)
        if any(d.channel == DeliveryChannel.webpush for d in leased):
            for start in range(0, len(person_ids), CHUNK):
                for s in (
                    await self.session.execute(
                        select(PushSubscription).where(
                            col(PushSubscription.person_id).in_(person_ids[start : start + CHUNK])
                        )
                    )
                ).scalars():
                    subs[s.person_id].append(PushTarget(s.id or 0, s.endpoint, s.p256dh, s.auth))
        addresses: dict[tuple[int, str], PersonChannel] = {}
        if any(d.channel != DeliveryChannel.webpush for d in leased):
            for a in (
                await self.session.execute(
                    select(PersonChannel).where(col(PersonChannel.person_id).in_(person_ids))
                )
            ).scalars():
                addresses[(a.person_id, a.channel)] = a
        config_ids = sorted({d.config_id for d in leased if d.config_id is not None})
        configs = {
            c.id: c
            for c in (
                await self.session.execute(select(ChannelConfig).where(col(ChannelConfig.id).in_(config_ids)))
            ).scalars()
        }
        jobs: list[Job] = []
        for d in leased:
            pair = events.get(d.recipient_id)
            if pair is None:
                continue
            r, e = pair
            item = item_from_event(
                r.id or 0, e.id or 0, e.kind, e.level, e.subject_type, e.subject_id, e.data, r.reason
            )
            config = configs.get(d.config_id) if d.config_id is not None else None
            job = Job(
                delivery_id=d.id or 0,
                lease=token,
                channel=d.channel,
                person_id=d.person_id,
                recipient_id=d.recipient_id,
                dedup_key=d.dedup_key,
                attempts=d.attempts,
                item=item,
                detail=bool(config and config.detail and config.enabled),
            )
            if d.channel == DeliveryChannel.webpush:
                job.subscriptions = list(subs.get(d.person_id, []))
            else:
                address = addresses.get((d.person_id, d.channel))
                usable = address is not None and address.enabled and address.refused_at is None
                job.address = address.address if usable and address is not None else None
                if ch.is_apprise(d.channel) and config is not None and config.url and config.enabled:
                    job.secrets = ch.secrets_of(config.url)
                    job.url = ch.fill(config.url, job.address) if job.address else None
            jobs.append(job)
        return jobs

    # --- 3. outcomes ------------------------------------------------------------------
    async def complete(
        self, outcomes: Sequence[Outcome], worker: str, *, now: datetime | None = None
    ) -> None:
        """Record every try and move each delivery on; commits."""
        if not outcomes:
            return
        now = now or utcnow()
        attempts = [
            {
                "delivery_id": o.job.delivery_id,
                "channel": o.job.channel,
                "target": (t.target or "")[:80] or None,
                "outcome": t.outcome,
                "status": t.status,
                "error": ch.scrub(t.error, o.job.secrets),
                "latency_ms": t.latency_ms,
                "worker": worker[:64],
                "at": now,
            }
            for o in outcomes
            for t in o.tries
        ]
        for start in range(0, len(attempts), CHUNK * 2):
            await self.session.execute(insert(DeliveryAttempt), attempts[start : start + CHUNK * 2])
        gone = sorted({s for o in outcomes for s in o.gone_subscriptions})
        if gone:
            await self.session.execute(delete(PushSubscription).where(col(PushSubscription.id).in_(gone)))
        ok_subs = sorted({s for o in outcomes for s in o.ok_subscriptions} - set(gone))
        for start in range(0, len(ok_subs), CHUNK):
            await self.session.execute(
                update(PushSubscription)
                .where(col(PushSubscription.id).in_(ok_subs[start : start + CHUNK]))
                .values(last_success_at=now)
                .execution_options(synchronize_session=False)
            )
        for o in outcomes:
            if o.refused:
                await self.session.execute(
                    update(PersonChannel)
                    .where(
                        col(PersonChannel.person_id) == o.job.person_id,
                        col(PersonChannel.channel) == o.job.channel,
                    )
                    .values(refused_at=now)
                    .execution_options(synchronize_session=False)
                )
        await self._sent([o for o in outcomes if o.result == "sent"], now)
        failed: list[Outcome] = [o for o in outcomes if o.result == "failed"]
        for o in outcomes:
            if o.result != "retry":
                continue
            tries = o.job.attempts + 1
            if tries >= self.settings.delivery_max_attempts:
                failed.append(o)
                continue
            await self.session.execute(
                update(Delivery)
                .where(col(Delivery.id) == o.job.delivery_id, col(Delivery.lease_owner) == o.job.lease)
                .values(
                    state=DeliveryState.pending.value,
                    attempts=tries,
                    next_attempt_at=now
                    + timedelta(seconds=backoff_seconds(tries, self.settings, o.retry_after)),
                    lease_owner=None,
                    lease_until=None,
                    last_error=ch.scrub(o.error, o.job.secrets),
                )
                .execution_options(synchronize_session=False)
            )
        for o in failed:
            result = await self.session.execute(
                update(Delivery)
                .where(col(Delivery.id) == o.job.delivery_id, col(Delivery.lease_owner) == o.job.lease)
                .values(
                    state=DeliveryState.failed.value,
                    attempts=o.job.attempts + 1,
                    lease_owner=None,
                    lease_until=None,
                    last_error=ch.scrub(o.error, o.job.secrets),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                await self._fall_back(o.job.delivery_id, now)
        await self.session.commit()

    async def _sent(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        by_lease: dict[str, list[int]] = defaultdict(list)
        for o in outcomes:
            by_lease[o.job.lease].append(o.job.delivery_id)
        for lease, ids in by_lease.items():
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                await self.session.execute(
                    update(Delivery)
                    .where(col(Delivery.id).in_(chunk), col(Delivery.lease_owner) == lease)
                    .values(
                        state=DeliveryState.sent.value,
                        sent_at=now,
                        attempts=col(Delivery.attempts) + 1,
                        lease_owner=None,
                        lease_until=None,
                    )
                    .execution_options(synchronize_session=False)
                )
        by_channel: dict[str, list[int]] = defaultdict(list)
        for o in outcomes:
            by_channel[o.job.channel].append(o.job.delivery_id)
        for channel, ids in by_channel.items():
            for start in range(0, len(ids), CHUNK):
                routes = select(col(Delivery.route_id)).where(
                    col(Delivery.id).in_(ids[start : start + CHUNK])
                )
                await self.session.execute(
                    update(DeliveryRoute)
                    .where(
                        col(DeliveryRoute.id).in_(routes),
                        col(DeliveryRoute.state) == RouteState.routing.value,
                    )
                    .values(state=RouteState.delivered.value, delivered_channel=channel, delivered_at=now)
                    .execution_options(synchronize_session=False)
                )
                await self.session.execute(
                    update(Delivery)
                    .where(
                        col(Delivery.route_id).in_(routes), col(Delivery.state) == DeliveryState.waiting.value
                    )
                    .values(state=DeliveryState.skipped.value)
                    .execution_options(synchronize_session=False)
                )

    async def _fall_back(self, delivery_id: int, now: datetime) -> None:
        route_id = (
            await self.session.execute(select(col(Delivery.route_id)).where(col(Delivery.id) == delivery_id))
        ).scalar_one()
        following = (
            await self.session.execute(
                select(col(Delivery.id))
                .where(col(Delivery.route_id) == route_id, col(Delivery.state) == DeliveryState.waiting.value)
                .order_by(col(Delivery.position))
                .limit(1)
            )
        ).scalar_one_or_none()
        if following is not None:
            await self.session.execute(
                update(Delivery)
                .where(col(Delivery.id) == following, col(Delivery.state) == DeliveryState.waiting.value)
                .values(state=DeliveryState.pending.value, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            return
        await self.session.execute(
            update(DeliveryRoute)
            .where(col(DeliveryRoute.id) == route_id, col(DeliveryRoute.state) == RouteState.routing.value)
            .values(state=RouteState.exhausted.value)
            .execution_options(synchronize_session=False)
        )

    # --- for operators and benchmarks -----------------------------------------------------
    async def stats(self, *, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        deliveries: dict[str, dict[str, int]] = defaultdict(dict)
        for channel, state, n in (
            await self.session.execute(
                select(col(Delivery.channel), col(Delivery.state), func.count()).group_by(
                    col(Delivery.channel), col(Delivery.state)
                )
            )
        ).all():
            deliveries[str(channel)][str(state)] = int(n)
        routes = {
            str(state): int(n)
            for state, n in (
                await self.session.execute(
                    select(col(DeliveryRoute.state), func.count()).group_by(col(DeliveryRoute.state))
                )
            ).all()
        }
        horizon = now - timedelta(hours=self.settings.delivery_horizon_hours)
        unrouted = (
            await self.session.execute(
                select(func.count())
                .select_from(EventRecipient)
                .join(Event, col(Event.id) == col(EventRecipient.event_id))
                .outerjoin(DeliveryRoute, col(DeliveryRoute.recipient_id) == col(EventRecipient.id))
                .where(col(DeliveryRoute.id).is_(None), col(Event.created_at) >= horizon)
            )
        ).scalar_one()
        return {"deliveries": dict(deliveries), "routes": routes, "unrouted": int(unrouted)}

    async def next_due_at(self) -> datetime | None:
        return (
            await self.session.execute(
                select(func.min(Delivery.next_attempt_at)).where(
                    col(Delivery.state) == DeliveryState.pending.value
                )
            )
        ).scalar_one_or_none()
