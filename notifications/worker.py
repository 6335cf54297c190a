"""The delivery worker: route, release scheduled broadcasts, claim, send, record — in steps.

A claimed batch is sent by :class:`notifications.batch.Batch`: outcomes are recorded as each
message finishes and the leases are renewed while it is in flight, so a message is sent once even
when a batch outlives one lease or the worker is killed (then only what was on the wire is sent
again, with the same dedup key).

:meth:`Worker.step` does one pass and says what it did; tests drive it step by step. ``run``
repeats steps with overlapping batches, sleeping ``delivery_poll_seconds`` when idle.
:func:`start_workers` starts one in the app's lifespan (``settings.run_workers``); :func:`serve` is
a process that only delivers (``probity serve --role worker``): several may share one PostgreSQL
database (leases make each delivery one worker's at a time).

No SQL here: the outbox and broadcast services in ``backend.delivery`` own every query.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp

from backend.audit.service import AuditTrail
from backend.delivery import outcomes as delivery_outcomes
from backend.delivery.broadcasts import BroadcastService
from backend.delivery.claimed import Job, Outcome, TargetResult
from backend.delivery.outbox import Outbox
from backend.delivery.payloads import Message, render
from backend.delivery.service import vapid_key
from backend.kernel.db import Database
from backend.kernel.heap import settle
from backend.kernel.hooks import compose
from backend.kernel.settings import Settings
from backend.messenger.client import AppKeys
from backend.messenger.service import MessengerService
from notifications import netguard
from notifications.apprise_channel import LOG_SCRUB, AppriseSender
from notifications.batch import Batch, BatchResult, Leases
from notifications.messenger import ByPolicy, MessengerSender
from notifications.pushhttp import PushClient
from notifications.telegram import TelegramSender
from notifications.webpush import WebPushSender

log = logging.getLogger("probity.delivery")
#: the channels that show buttons under an alert (WeCom and DingTalk only as the messenger
#: feature's own apps; through Apprise they get the text)
BUTTON_CHANNELS = frozenset({"telegram", "wecom", "dingtalk"})


class Sender(Protocol):
    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]: ...


@dataclass
class StepReport:
    routed: int = 0
    released: int = 0
    claimed: int = 0
    messages: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.routed or self.released or self.claimed)


#: how often a worker's routing scan starts again from the first recipient (see Worker.fetch)
ROUTING_RESCAN_SECONDS = 10.0


class Worker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        trail: AuditTrail,
        *,
        name: str | None = None,
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.trail = trail
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        self.senders: dict[str, Sender] = dict(senders or {})
        self._http: PushClient | None = None
        self._telegram: TelegramSender | None = None
        self._messenger_http: aiohttp.ClientSession | None = None
        #: messages on the wire at once, over every batch being sent
        self._slots = asyncio.Semaphore(settings.delivery_concurrency)
        self._db_turn = asyncio.Lock()
        #: until when this worker surely holds each lease it took (checked before every send)
        self.leases = Leases(settings)
        #: routing scans start past this recipient id (all routed when last seen); a whole scan
        #: every ROUTING_RESCAN_SECONDS finds what another transaction held or committed late
        self._routed_up_to = 0
        self._rescan_at = 0.0
        #: set when ``run`` is asked to stop: batches in flight send nothing more
        self._stopping = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> Worker:
        if "webpush" not in self.senders:
            async with self.db.session() as session:
                key = await vapid_key(session)
            # pinned to addresses that were checked public (notifications/netguard.py)
            self._http = netguard.push_client(self.settings, limit=self.settings.delivery_concurrency)
            self.senders["webpush"] = WebPushSender(
                key.private_pem,
                key.public_pem,
                subscriber=self.settings.vapid_subscriber,
                ttl=self.settings.push_ttl_seconds,
                http=self._http,
            )
        token = self.settings.telegram_bot_token
        if "telegram" not in self.senders and token is not None:
            self._telegram = TelegramSender(
                token.get_secret_value(),
                base_url=self.settings.telegram_api_base,
                timeout=self.settings.delivery_timeout_seconds,
            )
            await self._telegram.start()
            self.senders["telegram"] = self._telegram
        apprise = AppriseSender(timeout=self.settings.delivery_timeout_seconds)
        for channel in ("wecom", "dingtalk"):
            if channel in self.senders:
                continue
            if self._messenger_http is None:
                # a private messenger deployment lives inside the company: not the push services' guard
                self._messenger_http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
            native = MessengerSender(channel, self._load_app, self._messenger_http, settings=self.settings)
            self.senders[channel] = ByPolicy(native, apprise)
        for channel in ("wecom", "dingtalk", "feishu", "email", "sms"):
            self.senders.setdefault(channel, apprise)
        return self

    async def _load_app(self, app_id: int) -> AppKeys:
        async with self.db.session() as session:
            return await MessengerService(session, self.trail, self.settings).keys(app_id)

    async def close(self) -> None:
        if self._messenger_http is not None:
            await self._messenger_http.close()
        if self._telegram is not None:
            await self._telegram.close()
        if self._http is not None:
            await self._http.close()

    async def __aenter__(self) -> Worker:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # --- one pass ------------------------------------------------------------------------
    async def step(self, *, now: datetime | None = None) -> StepReport:
        report = StepReport()
        report.released, report.routed, jobs = await self.fetch(now=now)
        report.claimed = len(jobs)
        if not jobs:
            return report
        result = await self.send_and_record(jobs, now=now)
        report.messages = result.messages
        for o in result.outcomes:
            if o.result == "sent":
                report.sent += 1
            elif o.result == "retry":
                report.retried += 1
            else:
                report.failed += 1
        return report

    async def fetch(self, *, now: datetime | None = None) -> tuple[int, int, list[Job]]:
        """Release due broadcasts, route new notifications (their first channels leased to this
        worker as they are written), then claim other due deliveries up to a batch.
        Returns (broadcasts released, notifications routed, jobs)."""
        batch = self.settings.delivery_batch
        async with self._writing():
            async with self.db.session() as session:
                released = await BroadcastService(session, self.trail).release_due(now=now)
            asked_at = time.monotonic()
            if asked_at >= self._rescan_at:
                self._routed_up_to, self._rescan_at = 0, asked_at + ROUTING_RESCAN_SECONDS
            async with self.db.session() as session:
                outbox = Outbox(session, self.settings, self.trail)
                routed, jobs = await outbox.route_and_claim(self.name, now=now, after=self._routed_up_to)
            self._routed_up_to = outbox.seen_up_to
            self._taken(jobs, asked_at)
            if len(jobs) < batch:
                asked_at = time.monotonic()
                async with self.db.session() as session:
                    claimed = await Outbox(session, self.settings, self.trail).claim(
                        self.name, limit=batch - len(jobs), now=now
                    )
                self._taken(claimed, asked_at)
                jobs += claimed
        return released, routed, jobs

    def _taken(self, jobs: Sequence[Job], asked_at: float) -> None:
        by_lease: dict[str, set[int]] = defaultdict(set)
        for job in jobs:
            by_lease[job.lease].add(job.delivery_id)
        for lease, ids in by_lease.items():
            self.leases.taken(lease, asked_at, ids)

    async def record(self, outcomes: Sequence[Outcome], *, now: datetime | None = None) -> None:
        async with self._writing():
            await delivery_outcomes.record(self.db, self.settings, outcomes, self.name, now=now)

    async def renew(self, lease: str) -> set[int]:
        async with self._writing(), self.db.session() as session:
            return await Outbox(session, self.settings, self.trail).renew(lease)

    async def release(self, jobs: Sequence[Job]) -> None:
        async with self._writing(), self.db.session() as session:
            await Outbox(session, self.settings, self.trail).release(jobs)

    def _writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """SQLite has one writer at a time: this worker's own transactions take turns instead of
        waiting on the file lock (sending goes on meanwhile). PostgreSQL needs no turns."""
        return self._db_turn if self.settings.is_sqlite else contextlib.nullcontext()

    def groups(self, jobs: Sequence[Job]) -> list[list[Job]]:
        """Jobs for one person, channel, kind and level become one message ("3 new items")."""
        grouped: dict[tuple[Any, ...], list[Job]] = defaultdict(list)
        for job in jobs:
            grouped[job.group_key()].append(job)
        return list(grouped.values())

    async def send_one_group(self, group: list[Job]) -> list[Outcome]:
        """One message on the wire (the caller holds a send slot)."""
        first = group[0]
        message = render(
            [j.item for j in group],
            [j.dedup_key for j in group],
            public_url=self.settings.public_url,
            language=first.language or self.settings.delivery_language,
            detail=first.detail,
            buttons=first.channel in BUTTON_CHANNELS,
        )
        sender = self.senders.get(first.channel)
        if sender is None:
            tried = TargetResult(None, "failed", None, f"no sender for {first.channel}")
            return [Outcome(j, "failed", [tried]) for j in group]
        if first.secrets:  # whatever is logged from here on (a failure's traceback too) hides them
            LOG_SCRUB.learn(first.secrets)
        try:
            return await sender.send(group, message)
        except Exception as exc:  # a bug in one channel must not stop the others
            log.exception("delivery on %s failed", first.channel)
            tried = TargetResult(None, "retry", None, f"{type(exc).__name__}: {exc}"[:300])
            return [Outcome(j, "retry", [tried]) for j in group]

    async def send_and_record(self, jobs: Sequence[Job], *, now: datetime | None = None) -> BatchResult:
        """Every message of a batch, ``delivery_concurrency`` on the wire at once across the batches
        in flight, each outcome recorded as it finishes and the leases kept meanwhile
        (:mod:`notifications.batch`)."""

        async def record(outcomes: Sequence[Outcome]) -> None:
            await self.record(outcomes, now=now)

        return await Batch(
            self.groups(jobs),
            leases=self.leases,
            slots=self._slots,
            send_group=self.send_one_group,
            record=record,
            renew=self.renew,
            release=self.release,
            concurrency=self.settings.delivery_concurrency,
            stopping=self._stopping.is_set,
        ).run()

    async def drain(self, *, now: datetime | None = None, max_steps: int = 50) -> StepReport:
        """Step until nothing is due (tests and benchmarks); the sum of the steps."""
        total = StepReport()
        for _ in range(max_steps):
            report = await self.step(now=now)
            for field in total.__dataclass_fields__:
                setattr(total, field, getattr(total, field) + getattr(report, field))
            if not report.busy:
                break
        return total

    async def _send_and_record(self, jobs: list[Job]) -> None:
        try:
            await self.send_and_record(jobs)
        except Exception:  # the leases run out and the rows are claimed again
            log.exception("delivery batch failed; its leases will run out and it is tried again")

    async def run(self, stop: asyncio.Event) -> None:
        """Steps until ``stop``. Batches overlap (``delivery_pipeline`` on the wire at once): the
        next is fetched and starts sending while the one before finishes and is recorded."""
        on_the_wire: deque[asyncio.Task[None]] = deque()
        self._stopping = stop
        while not stop.is_set():
            busy = False
            try:
                released, routed, jobs = await self.fetch()
                busy = bool(released or routed)
            except Exception:
                log.exception("delivery step failed; retrying")
                jobs = []
            if jobs:
                on_the_wire.append(asyncio.create_task(self._send_and_record(jobs)))
                if len(on_the_wire) >= self.settings.delivery_pipeline:
                    await on_the_wire.popleft()
                continue
            if on_the_wire:  # nothing new: let the oldest batch finish (it may wake fallbacks)
                await on_the_wire.popleft()
                continue
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.delivery_poll_seconds)
        await asyncio.gather(*on_the_wire, return_exceptions=True)


class Workers:
    """Workers running in the app process; ``stop()`` on shutdown."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Workers:
        for worker in self.workers:
            await worker.start()
            self._tasks.append(asyncio.create_task(worker.run(self._stop), name=f"delivery {worker.name}"))
        return self

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self.workers:
            await worker.close()


async def serve(settings: Settings, *, name: str | None = None) -> None:
    """A process that only delivers (``probity serve --role worker``) until SIGTERM or SIGINT.

    Start several on one PostgreSQL database: they route different notifications (``SKIP
    LOCKED``) and lease different deliveries; on SQLite one worker process is enough.
    """
    compose("worker")  # the features' hooks, as every role has them (idempotent)
    db = Database(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Worker(
            db, settings, AuditTrail(settings.secret_key.get_secret_value()), name=name
        ) as worker:
            # what start-up made lives as long as the process: keep it out of the collector's full
            # passes (measured: they cost some 60 µs per message of a fan-out otherwise)
            settle()
            gc.set_threshold(10_000, 10, 10)  # fewer young collections per message (~10 µs each)
            log.info("delivery worker %s started", worker.name)
            await worker.run(stop)
            log.info("delivery worker %s stopped", worker.name)
    finally:
        await db.dispose()


def run_process(settings: Settings) -> None:
    """:func:`serve` on uvloop where it is installed (measured on the fan-out: a few tens of µs
    less per message than the default loop, most of it in sending over HTTP), else on asyncio."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; other platforms may lack it
        asyncio.run(serve(settings))
        return
    uvloop.run(serve(settings))


async def start_workers(app: Any) -> Workers:
    """Start the delivery worker of this process (called from the app's lifespan)."""
    state = app.state
    return await Workers([Worker(state.db, state.settings, state.trail)]).start()
