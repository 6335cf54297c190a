"""The outbox: route in-app notifications to channels, lease due deliveries, record what happened.

Three steps, each its own transaction, driven by a worker (``notifications/worker.py``):

1. :meth:`Outbox.route_new` — every ``event_recipient`` row without a route (within the horizon)
   gets a :class:`DeliveryRoute` and one :class:`Delivery` per channel the person can be reached on,
   in their order (:mod:`backend.delivery.policy`: their own, else their unit's): the first
   *pending* (at once, or when their quiet hours end — red warnings ring through them), the rest
   *waiting* as fallbacks. Inserts are ``ON CONFLICT DO NOTHING`` on the recipient and on the dedup
   key, so two workers routing the same row write it once (on PostgreSQL they skip each other's
   rows: ``FOR UPDATE OF event_recipient SKIP LOCKED``). :meth:`Outbox.route_and_claim` does the
   same and writes the first channel already leased to the worker, which sends it without reading
   it back.
2. :meth:`Outbox.claim` — due rows (pending and due, or leased with the lease run out) are leased
   to one worker: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on both databases a conditional
   ``UPDATE`` that re-checks the row is still due, so a row is never leased twice at once.
3. :mod:`backend.delivery.outcomes` — each try becomes a :class:`DeliveryAttempt`, each delivery
   moves on (sent, retried later, or failed waking the next channel), all lease-guarded.

The hot path is Core SQL on the tables (no ORM objects): per batch one multi-row insert of routes,
of deliveries and of attempts, and one ``UPDATE … WHERE id IN (…)`` per outcome class.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.delivery import channels as ch
from backend.delivery import outcomes as outcomes_
from backend.delivery.claimed import (
    ADDRESS,
    ATTEMPT,
    CONFIG,
    DELIVERY,
    EVENT,
    LOST,
    PREFERENCE,
    RECIPIENT,
    ROUTE,
    SPENT,
    SUBSCRIPTION,
    UNIT_POLICY,
    Job,
    Outcome,
    PushTarget,
    by_lease,
    chunks,
    ids_in,
)
from backend.delivery.models import DeliveryChannel, DeliveryState, RouteState
from backend.delivery.payloads import Item, item_from_event
from backend.delivery.policy import DEFAULT, Effective, resolve
from backend.kernel.access import Principal, Role
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


def dedup_key(event_id: int, person_id: int, channel: str) -> str:
    return f"e{event_id}:p{person_id}:{channel}"


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


@dataclass(frozen=True)
class Policy:
    """A unit's channel policy (``channel_config``) as routing and sending read it."""

    id: int
    unit_id: int
    channel: str
    url: str | None
    enabled: bool
    detail: bool


@dataclass
class People:
    """What delivery knows about some people: devices, addresses, and for routing their order."""

    subscriptions: dict[int, list[PushTarget]] = field(default_factory=lambda: defaultdict(list))
    #: (person, channel) -> (address, usable: enabled and not refused)
    addresses: dict[tuple[int, str], tuple[str, bool]] = field(default_factory=dict)
    #: person -> the channels with a usable address
    usable: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    effective: dict[int, Effective] = field(default_factory=dict)
    chains: dict[int, list[int]] = field(default_factory=dict)
    #: person -> their own language (people who set none are left out)
    languages: dict[int, str] = field(default_factory=dict)


# --- the outbox ---------------------------------------------------------------------------


class Outbox:
    def __init__(self, session: AsyncSession, settings: Settings, trail: AuditTrail) -> None:
        self.session = session
        self.settings = settings
        self.org = OrgService(session, trail)
        #: set by a routing scan (:meth:`_route`): the caller's next ``after``
        self.seen_up_to = 0

    @staticmethod
    def lease_token(worker: str) -> str:
        """One lease per claim: a late report of an older claim cannot close a newer one."""
        return f"{worker[:48]}:{uuid.uuid4().hex[:12]}"

    # --- what routing and sending read ---------------------------------------------------
    async def _policies(self) -> dict[int, Policy]:
        rows = await self.session.execute(
            select(
                CONFIG.c.id,
                CONFIG.c.unit_id,
                CONFIG.c.channel,
                CONFIG.c.url,
                CONFIG.c.enabled,
                CONFIG.c.detail,
            )
        )
        return {  # URLs are stored sealed (backend/delivery/channels.py seal_url)
            int(r[0]): Policy(
                int(r[0]),
                int(r[1]),
                str(r[2]),
                ch.open_url(self.settings, int(r[1]), str(r[2]), r[3]),
                bool(r[4]),
                bool(r[5]),
            )
            for r in rows
        }

    async def _rows_in(self, key: Any, ids: Iterable[int], *columns: Any, where: Any = None) -> list[Any]:
        """Rows of ``columns`` whose ``key`` is one of ``ids`` (in chunks of :data:`CHUNK`)."""
        rows: list[Any] = []
        for chunk in chunks(ids):
            stmt = select(*columns).where(ids_in(key, chunk))
            rows += (await self.session.execute(stmt if where is None else stmt.where(where))).all()
        return rows

    async def _events(self, event_ids: Iterable[int]) -> dict[int, Item]:
        """Each event as the renderer may see it (read once, however many recipients it has)."""
        e = EVENT.c
        rows = await self._rows_in(
            e.id, event_ids, e.id, e.kind, e.level, e.subject_type, e.subject_id, e.data
        )
        return {int(r[0]): item_from_event(0, int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows}

    async def _people(
        self, person_ids: Sequence[int], channels: set[str], *, routing: bool = False
    ) -> People:
        """Devices and addresses of ``person_ids`` (for ``channels``); with ``routing``, also the
        order and quiet hours that apply to each (their own, else their units')."""
        people = People()
        if DeliveryChannel.webpush.value in channels:
            s = SUBSCRIPTION.c
            for person_id, *target in await self._rows_in(
                s.person_id, person_ids, s.person_id, s.id, s.endpoint, s.p256dh, s.auth
            ):
                people.subscriptions[int(person_id)].append(PushTarget(*target))
        if channels - {DeliveryChannel.webpush.value}:
            a = ADDRESS.c
            for person_id, channel, address, enabled, refused_at in await self._rows_in(
                a.person_id, person_ids, a.person_id, a.channel, a.address, a.enabled, a.refused_at
            ):
                usable = bool(enabled) and refused_at is None
                people.addresses[(int(person_id), str(channel))] = (str(address), usable)
                if usable:
                    people.usable[int(person_id)].add(str(channel))
        if DeliveryChannel.sms.value in channels:
            await self._directory_phones(person_ids, people)
        if routing:
            await self._effective(person_ids, people)
        else:
            p = PREFERENCE.c
            for person_id, language in await self._rows_in(
                p.person_id, person_ids, p.person_id, p.language, where=p.language.is_not(None)
            ):
                people.languages[int(person_id)] = str(language)
        return people

    async def _directory_phones(self, person_ids: Sequence[int], people: People) -> None:
        """SMS goes to the mobile number of the people import unless the person set another SMS
        address (or switched their SMS address off: a row of theirs always wins)."""
        sms = DeliveryChannel.sms.value
        without = [p for p in person_ids if (p, sms) not in people.addresses]
        if not without:
            return
        for person_id, phone in (await self.org.phones_of(without)).items():
            number = ch.sms_number(phone)
            if number is not None:
                people.addresses[(person_id, sms)] = (number, True)
                people.usable[person_id].add(sms)

    async def _effective(self, person_ids: Sequence[int], people: People) -> None:
        p = PREFERENCE.c
        prefs = {
            int(r[0]): r
            for r in await self._rows_in(
                p.person_id, person_ids, p.person_id, p.channel_order, p.quiet_start, p.quiet_end, p.language
            )
        }
        people.languages = {person_id: str(r[4]) for person_id, r in prefs.items() if r[4]}
        units = {
            int(r[0]): r
            for r in await self.session.execute(
                select(
                    UNIT_POLICY.c.unit_id,
                    UNIT_POLICY.c.channel_order,
                    UNIT_POLICY.c.quiet_start,
                    UNIT_POLICY.c.quiet_end,
                )
            )
        }
        if units:
            people.chains = await self.org.unit_chains_of(person_ids)
        for person_id in person_ids:
            pref = prefs.get(person_id)
            people.effective[person_id] = (
                resolve(pref, people.chains.get(person_id, []), units) if pref or units else DEFAULT
            )

    def _plan(
        self, person_id: int, people: People, by_unit: dict[tuple[int, str], Policy]
    ) -> list[tuple[str, Policy | None]]:
        """The channels ``person_id`` can be reached on, in their order, with the unit policy."""
        reachable = set(people.usable.get(person_id, ()))
        if person_id in people.subscriptions:
            reachable.add(DeliveryChannel.webpush.value)
        if not reachable:
            return []
        chain = people.chains.get(person_id, []) if by_unit else []
        plan: list[tuple[str, Policy | None]] = []
        for channel in people.effective.get(person_id, DEFAULT).order:
            if channel not in reachable:
                continue
            policy = None
            for unit_id in chain:
                if (policy := by_unit.get((unit_id, channel))) is not None:
                    break
            if policy is not None and not policy.enabled:
                continue
            if channel == DeliveryChannel.telegram:
                ok = self.settings.telegram_offered
            else:
                ok = channel == DeliveryChannel.webpush or (policy is not None and bool(policy.url))
            if ok:
                plan.append((channel, policy))
        return plan

    def _job(
        self,
        values: dict[str, Any],
        token: str,
        item: Item,
        people: People,
        policy: Policy | None,
        fallback: bool,
    ) -> Job:
        channel = str(values["channel"])
        person_id = int(values["person_id"])
        job = Job(
            delivery_id=int(values["id"]),
            lease=token,
            channel=channel,
            person_id=person_id,
            recipient_id=int(values["recipient_id"]),
            dedup_key=str(values["dedup_key"]),
            attempts=int(values["attempts"]),
            item=item,
            route_id=int(values["route_id"]),
            fallback=fallback,
            detail=bool(policy and policy.detail and policy.enabled),
            language=people.languages.get(person_id),
        )
        if channel == DeliveryChannel.webpush:
            job.subscriptions = list(people.subscriptions.get(person_id, ()))
            return job
        address, usable = people.addresses.get((person_id, channel), ("", False))
        job.address = address if usable else None
        if ch.is_apprise(channel) and policy is not None and policy.url and policy.enabled:
            job.secrets = ch.secrets_of(policy.url)
            job.url = ch.fill(policy.url, address) if job.address else None
        return job

    # --- 1. routing -----------------------------------------------------------------
    async def route_new(
        self, *, limit: int | None = None, now: datetime | None = None, after: int = 0
    ) -> int:
        """Route in-app notifications that have no route yet; commits. Returns how many.

        ``after``: look only at recipients with a greater id (see :attr:`seen_up_to`)."""
        routed, _ = await self._route(None, limit=limit, now=now, after=after)
        return routed

    async def route_and_claim(
        self, worker: str, *, limit: int | None = None, now: datetime | None = None, after: int = 0
    ) -> tuple[int, list[Job]]:
        """:meth:`route_new`, with each new route's first channel (when due now) written leased to
        ``worker``: returns how many were routed and what to send, read from nothing but memory."""
        return await self._route(self.lease_token(worker), limit=limit, now=now, after=after)

    async def _route(
        self, token: str | None, *, limit: int | None, now: datetime | None, after: int = 0
    ) -> tuple[int, list[Job]]:
        """Routes found by a scan of recipients in id order. Every routed recipient is a scanned
        row, so without ``after`` each scan passes over all routed rows (a worker's poll grows with
        the history); with it, the scan starts past what the caller has already seen routed."""
        now = now or utcnow()
        limit = limit or self.settings.delivery_batch
        horizon = now - timedelta(hours=self.settings.delivery_horizon_hours)
        pick = (
            select(RECIPIENT.c.id, RECIPIENT.c.event_id, RECIPIENT.c.person_id, RECIPIENT.c.reason)
            .select_from(
                RECIPIENT.join(EVENT, EVENT.c.id == RECIPIENT.c.event_id).outerjoin(
                    ROUTE, ROUTE.c.recipient_id == RECIPIENT.c.id
                )
            )
            .where(ROUTE.c.id.is_(None), EVENT.c.created_at >= horizon, RECIPIENT.c.id > after)
            .order_by(RECIPIENT.c.id)
            .limit(limit)
        )
        if is_postgres(self.session):  # two workers route different rows at once
            pick = pick.with_for_update(of=RECIPIENT, skip_locked=True)
        rows = [(int(r), int(e), int(p), str(why)) for r, e, p, why in await self.session.execute(pick)]
        #: every recipient up to this id had a route, or got one now, when this scan ran — unless
        #: another transaction held it (SKIP LOCKED) or commits it later (PostgreSQL ids)
        self.seen_up_to = rows[-1][0] if rows else after
        if not rows:
            await self.session.rollback()
            return 0, []
        events = await self._events({e for _, e, _, _ in rows})
        person_ids = sorted({p for _, _, p, _ in rows})
        policies = await self._policies()
        by_unit = {(p.unit_id, p.channel): p for p in policies.values()}
        people = await self._people(person_ids, {c.value for c in DeliveryChannel}, routing=True)
        if by_unit and not people.chains:
            people.chains = await self.org.unit_chains_of(person_ids)
        plans = {p: self._plan(p, people, by_unit) for p in person_ids}
        route_values = [
            {
                "recipient_id": recipient_id,
                "event_id": event_id,
                "person_id": person_id,
                "chain": [c for c, _ in plans[person_id]],
                "state": (RouteState.routing if plans[person_id] else RouteState.inapp).value,
                "created_at": now,
            }
            for recipient_id, event_id, person_id, _ in rows
        ]
        # executemany ("insertmanyvalues"): multi-row INSERTs, RETURNING only the rows written
        stmt = upsert_ignore(self.session, ROUTE, "recipient_id").returning(ROUTE.c.id, ROUTE.c.recipient_id)
        created = {
            int(rid): int(route_id) for route_id, rid in await self.session.execute(stmt, route_values)
        }
        until = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        deliveries: list[dict[str, Any]] = []
        first: list[tuple[dict[str, Any], str, Policy | None, bool]] = []
        for recipient_id, event_id, person_id, reason in rows:
            route_id = created.get(recipient_id)
            if route_id is None:
                continue  # another worker routed it
            event = events[event_id]
            effective = people.effective.get(person_id, DEFAULT)
            quiet_end = (
                None
                if event.level == "high"
                else in_quiet_hours(effective.quiet_start, effective.quiet_end, now)
            )
            plan = plans[person_id]
            for position, (channel, policy) in enumerate(plan):
                leased = token is not None and position == 0 and quiet_end is None
                state = DeliveryState.leased if leased else DeliveryState.pending
                values: dict[str, Any] = {
                    "route_id": route_id,
                    "recipient_id": recipient_id,
                    "event_id": event_id,
                    "person_id": person_id,
                    "channel": channel,
                    "position": position,
                    "config_id": policy.id if policy is not None else None,
                    "dedup_key": dedup_key(event_id, person_id, channel),
                    "state": (state if position == 0 else DeliveryState.waiting).value,
                    "attempts": 0,
                    "next_attempt_at": quiet_end or now,
                    "lease_owner": token if leased else None,
                    "lease_until": until if leased else None,
                    "created_at": now,
                }
                deliveries.append(values)
                if leased:
                    first.append((values, reason, policy, len(plan) > 1))
        ids: dict[str, int] = {}
        if deliveries:
            insert_ = upsert_ignore(self.session, DELIVERY, "dedup_key")
            if first:
                result = await self.session.execute(
                    insert_.returning(DELIVERY.c.id, DELIVERY.c.dedup_key), deliveries
                )
                ids = {str(key): int(i) for i, key in result}
            else:
                await self.session.execute(insert_, deliveries)
        await self.session.commit()
        jobs: list[Job] = []
        for values, reason, policy, fallback in first:
            delivery_id = ids.get(values["dedup_key"])
            if delivery_id is None:
                continue  # an earlier route of the same event already holds this key
            item = replace(events[values["event_id"]], recipient_id=values["recipient_id"], reason=reason)
            jobs.append(self._job({**values, "id": delivery_id}, str(token), item, people, policy, fallback))
        return len(created), jobs

    # --- 2. claiming ------------------------------------------------------------------
    def _due(self, now: datetime) -> Any:
        return or_(
            and_(DELIVERY.c.state == DeliveryState.pending.value, DELIVERY.c.next_attempt_at <= now),
            and_(DELIVERY.c.state == DeliveryState.leased.value, DELIVERY.c.lease_until < now),
        )

    async def claim(self, worker: str, *, limit: int | None = None, now: datetime | None = None) -> list[Job]:
        """Lease due deliveries to ``worker``; commits the lease, then returns what to send.

        What is sent follows from the rows the guarded ``UPDATE … RETURNING`` really leased, never
        from what was read before it: a row another worker leased meanwhile is not this one's, and
        only a lease this worker really took over is recorded as lost. A lost lease (its worker
        stopped before recording an outcome) counts as an attempt: past the channel's tries the
        delivery fails and the next channel takes over, so a message that kills its worker is not
        sent again forever."""
        now = now or utcnow()
        limit = limit or self.settings.delivery_batch
        token = self.lease_token(worker)
        pick = (
            select(DELIVERY.c.id, DELIVERY.c.state)
            .where(self._due(now))
            .order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id)
            .limit(limit)
        )
        if is_postgres(self.session):
            pick = pick.with_for_update(skip_locked=True)
        picked = (await self.session.execute(pick)).all()
        if not picked:
            await self.session.rollback()
            return []
        until = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        d = DELIVERY.c
        leased_columns = (
            d.id,
            d.route_id,
            d.recipient_id,
            d.event_id,
            d.person_id,
            d.channel,
            d.config_id,
            d.dedup_key,
            d.attempts,
        )
        pending = [int(i) for i, state in picked if state == DeliveryState.pending.value]
        expired = [int(i) for i, state in picked if state == DeliveryState.leased.value]
        leased: list[dict[str, Any]] = []
        if pending:
            taken = await self.session.execute(
                update(DELIVERY)
                .where(
                    ids_in(d.id, pending),
                    d.state == DeliveryState.pending.value,
                    d.next_attempt_at <= now,
                )
                .values(state=DeliveryState.leased.value, lease_owner=token, lease_until=until)
                .returning(*leased_columns)
            )
            leased += [row._asdict() for row in taken]
        lost: list[dict[str, Any]] = []
        if expired:
            taken = await self.session.execute(
                update(DELIVERY)
                .where(ids_in(d.id, expired), d.state == DeliveryState.leased.value, d.lease_until < now)
                .values(lease_owner=token, lease_until=until, attempts=d.attempts + 1)
                .returning(*leased_columns)
            )
            lost = [row._asdict() for row in taken]
        if lost:
            await self.session.execute(
                insert(ATTEMPT),
                [
                    {
                        "delivery_id": row["id"],
                        "channel": row["channel"],
                        "target": None,
                        "outcome": "lost",
                        "status": None,
                        "error": LOST,
                        "latency_ms": 0,
                        "worker": worker[:64],
                        "at": now,
                    }
                    for row in lost
                ],
            )
        spent = [row for row in lost if int(row["attempts"]) >= self.settings.delivery_max_attempts]
        for row in spent:
            conn = await self.session.connection()
            await conn.run_sync(outcomes_.give_up, int(row["id"]), token, int(row["attempts"]), SPENT, now)
        leased += [row for row in lost if int(row["attempts"]) < self.settings.delivery_max_attempts]
        await self.session.commit()
        return await self._jobs(leased, token)

    async def _jobs(self, leased: list[dict[str, Any]], token: str) -> list[Job]:
        if not leased:
            return []
        r = RECIPIENT.c
        reasons = {
            int(i): str(why)
            for i, why in await self._rows_in(r.id, (d["recipient_id"] for d in leased), r.id, r.reason)
        }
        events = await self._events(d["event_id"] for d in leased)
        people = await self._people(
            sorted({int(d["person_id"]) for d in leased}), {str(d["channel"]) for d in leased}
        )
        policies = await self._policies() if any(d["config_id"] is not None for d in leased) else {}
        d_ = DELIVERY.c
        waiting = {
            int(route_id)
            for (route_id,) in await self._rows_in(
                d_.route_id,
                (d["route_id"] for d in leased),
                d_.route_id,
                where=d_.state == DeliveryState.waiting.value,
            )
        }
        jobs: list[Job] = []
        for d in leased:
            event = events.get(int(d["event_id"]))
            reason = reasons.get(int(d["recipient_id"]))
            if event is None or reason is None:
                continue
            item = replace(event, recipient_id=int(d["recipient_id"]), reason=reason)
            policy = policies.get(d["config_id"]) if d["config_id"] is not None else None
            jobs.append(self._job(d, token, item, people, policy, int(d["route_id"]) in waiting))
        return jobs

    # --- 3. outcomes ------------------------------------------------------------------
    async def renew(self, lease: str, *, now: datetime | None = None) -> set[int]:
        """Extend the lease of every delivery still held under ``lease`` (work in flight); commits.
        Returns the deliveries it still holds."""
        now = now or utcnow()
        held = await self.session.execute(
            update(DELIVERY)
            .where(DELIVERY.c.lease_owner == lease, DELIVERY.c.state == DeliveryState.leased.value)
            .values(lease_until=now + timedelta(seconds=self.settings.delivery_lease_seconds))
            .returning(DELIVERY.c.id)
        )
        ids = {int(i) for (i,) in held}
        await self.session.commit()
        return ids

    async def release(self, jobs: Sequence[Job]) -> None:
        """Give back deliveries this worker leased and will not send (no attempt is counted); commits."""
        for lease, ids in by_lease(jobs).items():
            for chunk in chunks(ids):
                await self.session.execute(
                    update(DELIVERY)
                    .where(ids_in(DELIVERY.c.id, chunk), DELIVERY.c.lease_owner == lease)
                    .values(state=DeliveryState.pending.value, lease_owner=None, lease_until=None)
                )
        await self.session.commit()

    async def complete(
        self, outcomes: Sequence[Outcome], worker: str, *, now: datetime | None = None
    ) -> None:
        """Record every try and move each delivery on (:func:`backend.delivery.outcomes.write`);
        commits. The worker records through :func:`backend.delivery.outcomes.record` instead."""
        if not outcomes:
            return
        conn = await self.session.connection()
        await conn.run_sync(outcomes_.write, self.settings, outcomes, worker, now or utcnow())
        await self.session.commit()

    # --- for operators and benchmarks -----------------------------------------------------
    async def stats(self, *, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        deliveries: dict[str, dict[str, int]] = defaultdict(dict)
        by_state = select(DELIVERY.c.channel, DELIVERY.c.state, func.count()).group_by(
            DELIVERY.c.channel, DELIVERY.c.state
        )
        for channel, state, n in await self.session.execute(by_state):
            deliveries[str(channel)][str(state)] = int(n)
        routes = {
            str(state): int(n)
            for state, n in await self.session.execute(
                select(ROUTE.c.state, func.count()).group_by(ROUTE.c.state)
            )
        }
        horizon = now - timedelta(hours=self.settings.delivery_horizon_hours)
        unrouted = (
            await self.session.execute(
                select(func.count())
                .select_from(
                    RECIPIENT.join(EVENT, EVENT.c.id == RECIPIENT.c.event_id).outerjoin(
                        ROUTE, ROUTE.c.recipient_id == RECIPIENT.c.id
                    )
                )
                .where(ROUTE.c.id.is_(None), EVENT.c.created_at >= horizon)
            )
        ).scalar_one()
        return {"deliveries": dict(deliveries), "routes": routes, "unrouted": int(unrouted)}

    async def next_due_at(self) -> datetime | None:
        stmt = select(func.min(DELIVERY.c.next_attempt_at)).where(
            DELIVERY.c.state == DeliveryState.pending.value
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
