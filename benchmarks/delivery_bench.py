"""Delivery benchmarks (issue 5). Not tests: each prints one line per figure.

    .venv/bin/python benchmarks/delivery_bench.py fanout  [--messages 10000] [--pg] [--workers 1] [--repeat 3]
    .venv/bin/python benchmarks/delivery_bench.py latency [--samples 100] [--pg]
    .venv/bin/python benchmarks/delivery_bench.py crash   [--messages 1000] [--pg] [--channel webpush|sms]
    .venv/bin/python benchmarks/delivery_bench.py slow    [--messages 200] [--delay 2] [--batch 200]
        [--concurrency 8] [--pg]
    .venv/bin/python benchmarks/delivery_bench.py flaky   [--messages 1000]
    .venv/bin/python benchmarks/delivery_bench.py two-workers [--messages 1000]   (PostgreSQL)

The push service is ``benchmarks/fake_push_service.py`` in its own process on 127.0.0.1; workers
are ``probity serve --role worker`` processes (fanout, crash, two-workers) or a worker in the bench
process (latency, flaky). Each bench makes a fresh database (SQLite file, or with --pg a new
PostgreSQL database on PROBITY_BENCH_PG, default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres),
loads the demo organisation, adds one person per message with one push subscription each, and
writes ``warning.raised`` events to all of them (as a rule run's commit does). A message is counted
at the push service by its ``Topic`` header, which is derived from the dedup key (event, person,
channel)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlmodel import col  # noqa: E402

from backend.audit.service import AuditTrail  # noqa: E402
from backend.delivery.models import Delivery, DeliveryRoute, PushSubscription  # noqa: E402
from backend.delivery.outbox import dedup_key  # noqa: E402
from backend.delivery.payloads import Item, render  # noqa: E402
from backend.delivery.service import vapid_key  # noqa: E402
from backend.events.service import emit  # noqa: E402
from backend.kernel.access import Actor  # noqa: E402
from backend.kernel.db import Database  # noqa: E402
from backend.kernel.settings import Settings  # noqa: E402
from backend.kernel.timeutil import utcnow  # noqa: E402
from backend.org.service import OrgService  # noqa: E402
from benchmarks.sms_gateway import demo_org_database, new_person, populate_sms  # noqa: E402
from notifications.webpush import topic  # noqa: E402
from notifications.worker import Worker  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a throwaway database
PG = os.environ.get("PROBITY_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
ACTOR = Actor.system(label="bench")


def say(name: str, value: Any, unit: str = "") -> None:
    print(f"{name}: {value}{(' ' + unit) if unit else ''}", flush=True)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the push service process ------------------------------------------------------------


class PushService:
    def __init__(self, flaky: bool = False, delay: float = 0.0) -> None:
        self.port = free_port()
        args = [sys.executable, str(ROOT / "benchmarks" / "fake_push_service.py"), "--port", str(self.port)]
        args += ["--delay", str(delay)] if delay else []
        self.proc = subprocess.Popen([*args, "--flaky"] if flaky else args)  # noqa: S603
        for _ in range(100):
            with contextlib.suppress(OSError):
                self.stats()
                return
            time.sleep(0.05)
        raise RuntimeError("the fake push service did not start")

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    def _get(self, path: str, method: str = "GET") -> dict[str, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - our own local service
            return json.loads(r.read())

    def stats(self) -> dict[str, Any]:
        return self._get("/stats")

    def count(self) -> dict[str, Any]:
        return self._get("/count")

    def reset(self) -> None:
        self._get("/reset", "POST")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


# --- databases ---------------------------------------------------------------------------


async def _pg(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def make_settings(url: str, data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": url,
        "data_dir": data_dir,
        "secret_key": SECRET,
        "password_hash_memory_kib": 64,
        "password_hash_time_cost": 1,
        "log_level": "WARNING",
        "public_url": "https://probity.example",
        # the fake push service listens on 127.0.0.1 over http
        "push_allow_private": True,
        **extra,
    }
    return Settings(_env_file=None, **values)


async def fresh_database(pg: bool, tmp: Path) -> str:
    if pg:
        name = f"probity_bench_{os.getpid()}"
        await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _pg(f'CREATE DATABASE "{name}"')
        return PG.rsplit("/", 1)[0] + "/" + name
    return f"sqlite+aiosqlite:///{tmp / 'bench.db'}"


async def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        await _pg(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def populate(
    settings: Settings, push: PushService, people: int, dead_fraction: float = 0.0, event: bool = True
) -> list[str]:
    """Demo org, ``people`` extra people with one subscription each, and (``event``) one event to
    all. Returns the topics the push service will see."""
    db, trail = await demo_org_database(settings, SECRET)
    try:
        ids: list[int] = []
        for start in range(0, people, 1000):
            async with db.session() as s:
                org = OrgService(s, trail)
                for n in range(start, min(people, start + 1000)):
                    person_id = await new_person(org, "B", n)
                    ids.append(person_id)
                    dead = n < people * dead_fraction
                    # each device its own keys, as browsers make them (nothing shared to cache)
                    public = ec.generate_private_key(ec.SECP256R1()).public_key()
                    p256dh = b64(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
                    auth = b64(os.urandom(16))
                    s.add(
                        PushSubscription(
                            person_id=person_id,
                            endpoint=push.endpoint(f"{'dead' if dead else 'live'}{n}"),
                            p256dh=p256dh,
                            auth=auth,
                        )
                    )
                await s.commit()
        async with db.session() as s:
            await vapid_key(s)
        return await raise_warning(db, ids) if event else []
    finally:
        await db.dispose()


async def raise_warning(db: Database, people: list[int], subject_id: int = 1) -> list[str]:
    """One red ``warning.raised`` event to ``people``, committed as a rule run commits it."""
    async with db.session() as s:
        event = await emit(
            s,
            "warning.raised",
            subject_type="warning",
            subject_id=subject_id,
            recipients={p: "subject" for p in people},
            level="high",
            data={"due_at": utcnow().isoformat()},
        )
        await s.commit()
        assert event.id is not None
        return [topic(dedup_key(event.id, p, "webpush")) for p in people]


async def subscribed_people(db: Database) -> list[int]:
    async with db.session() as s:
        rows = await s.execute(select(col(PushSubscription.person_id)).order_by(col(PushSubscription.id)))
        return [int(p) for p in rows.scalars()]


async def outbox_open(db: Database) -> int:
    async with db.session() as s:
        open_ = (
            await s.execute(
                select(func.count()).where(Delivery.state.in_(["pending", "leased"]))  # type: ignore[attr-defined]
            )
        ).scalar_one()
        routed = (await s.execute(select(func.count()).select_from(DeliveryRoute))).scalar_one()
    return int(open_) if routed else -1


async def until_done(worker: Worker, db: Database, limit_s: float = 600) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        report = await worker.step()
        if report.busy:
            continue
        if await outbox_open(db) == 0:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError("the outbox did not empty in time")


def encryption_rate(private_pem: str, public_pem: str, n: int = 3000) -> float:
    """``webpush``'s own rate: ``WebPush.get`` (aes128gcm body + a signed VAPID header), one core."""
    from webpush import WebPush, WebPushSubscription
    from webpush.types import WebPushKeys

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    subscription = WebPushSubscription(
        endpoint="http://127.0.0.1:9/push/x",
        keys=WebPushKeys(
            p256dh=b64(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)),
            auth=b64(os.urandom(16)),
        ),
    )
    item = Item(1, 1, "warning.raised", "high", "warning", 1, utcnow())
    body = json.dumps(
        render([item], ["e1:p1:webpush"], public_url="https://probity.example").push_json()
    ).encode()
    push = WebPush(
        private_key=private_pem.encode(), public_key=public_pem.encode(), subscriber="b@example.com", ttl=60
    )
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        push.get(body, subscription, subscriber="b@example.com", ttl=60)
    ENCRYPT_CPU_US.append((time.process_time() - cpu) / n * 1e6)
    return n / (time.perf_counter() - started)


#: CPU time of one ``WebPush.get`` in each measurement (steadier than the rate on a shared machine)
ENCRYPT_CPU_US: list[float] = []


# --- benches ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children now alive (``probity serve --processes N``)."""
    kids: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # a child belongs to the thread that started it
        try:
            kids += (task / "children").read_text().split()
        except OSError:
            continue
    return cpu_seconds(pid) + sum(tree_cpu_seconds(int(kid)) for kid in kids)


async def bench_fanout(args: argparse.Namespace) -> None:
    """``--workers`` worker processes (``probity serve --role worker``) started and idle; then one
    event to ``--messages`` people is committed and the clock runs from the commit to the last
    arrival at the push service. The encryption rate is measured just before and just after each
    run (the machine may be shared: their mean is the run's reference). ``--repeat`` runs on the
    same database (a new event each), then the medians."""
    push = PushService()
    kind = (
        ("postgresql" if args.pg else "sqlite")
        + f"_{args.workers}_worker"
        + ("s" if args.workers > 1 else "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database(args.pg, Path(tmp))
        settings = make_settings(url, Path(tmp))
        workers: list[WorkerProcess] = []
        try:
            await populate(settings, push, args.messages, event=False)
            db = Database(settings)
            people = await subscribed_people(db)
            async with db.session() as s:
                key = await vapid_key(s)
            env = {
                "PROBITY_DELIVERY_BATCH": str(args.batch),
                "PROBITY_DELIVERY_CONCURRENCY": str(args.concurrency),
            }
            workers = [WorkerProcess(url, tmp, **env) for _ in range(args.workers)]
            for w in workers:
                await w.ready()
            runs: list[dict[str, float]] = []
            for run in range(1, args.repeat + 1):
                push.reset()
                before = encryption_rate(key.private_pem, key.public_pem)
                cpu0 = [cpu_seconds(w.pid) for w in workers]
                push_cpu0 = cpu_seconds(push.proc.pid)
                topics = await raise_warning(db, people, subject_id=run)
                committed = time.time()
                stats = await wait_for(push, len(topics), 600, every=0.2)
                arrivals = [stats["arrivals"][t] for t in topics if t in stats["arrivals"]]
                elapsed = max(arrivals) - committed
                worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - sum(cpu0)
                push_cpu = cpu_seconds(push.proc.pid) - push_cpu0
                after = encryption_rate(key.private_pem, key.public_pem)
                enc = (before + after) / 2
                figures = {
                    "messages_delivered": len(arrivals),
                    "duplicates": stats["duplicates"],
                    "seconds": round(elapsed, 2),
                    "messages_per_s": round(len(arrivals) / elapsed),
                    "encrypt_per_s": round(enc),
                    "ratio_to_encryption": round(len(arrivals) / elapsed / enc, 3),
                    "worker_cpu_us_per_message": round(worker_cpu / len(arrivals) * 1e6),
                    "encrypt_cpu_us": round(statistics.mean(ENCRYPT_CPU_US[-2:])),
                    # the same comparison in CPU time: what one message costs all worker processes
                    # against what one WebPush.get costs (less sensitive to other load)
                    "cpu_ratio_to_encryption": round(
                        statistics.mean(ENCRYPT_CPU_US[-2:]) / (worker_cpu / len(arrivals) * 1e6), 3
                    ),
                    "push_service_cpu_us_per_message": round(push_cpu / len(arrivals) * 1e6),
                }
                runs.append(figures)
                print(
                    f"run {run}: "
                    + ", ".join(f"{k} {v}" for k, v in figures.items())
                    + f" (encryption before {round(before)}, after {round(after)} msg/s)",
                    flush=True,
                )
            await db.dispose()
            for name in runs[0]:
                say(f"fanout_{kind}_{name}_median", statistics.median(r[name] for r in runs))
            say("fanout_settings", f"batch {args.batch}, concurrency {args.concurrency}, runs {args.repeat}")
        finally:
            for w in workers:
                w.stop()
            push.stop()
            await drop_database(url)


async def bench_latency(args: argparse.Namespace) -> None:
    push = PushService()
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database(args.pg, Path(tmp))
        settings = make_settings(url, Path(tmp))
        try:
            await populate(settings, push, args.samples)
            db = Database(settings)
            trail = AuditTrail(SECRET)
            async with db.session() as s:
                people = list(
                    (
                        await s.execute(
                            select(col(PushSubscription.person_id)).order_by(col(PushSubscription.id))
                        )
                    ).scalars()
                )
            async with Worker(db, settings, trail, name="latency") as worker:
                await until_done(worker, db)  # the set-up event
                stop = asyncio.Event()
                task = asyncio.create_task(worker.run(stop))
                committed: dict[str, float] = {}
                rng = random.Random(3)  # noqa: S311 - spacing, not secrets
                for person in people:
                    await asyncio.sleep(rng.uniform(0.05, 0.3))
                    async with db.session() as s:
                        event = await emit(
                            s,
                            "warning.raised",
                            subject_type="warning",
                            subject_id=2,
                            recipients={person: "subject"},
                            level="high",
                        )
                        await s.commit()
                        committed[topic(dedup_key(event.id or 0, person, "webpush"))] = time.time()
                for _ in range(200):
                    arrivals = push.stats()["arrivals"]
                    if all(t in arrivals for t in committed):
                        break
                    await asyncio.sleep(0.05)
                stop.set()
                await task
            await db.dispose()
            lat = sorted(arrivals[t] - c for t, c in committed.items() if t in arrivals)
            say("latency_samples", len(lat))
            say("latency_commit_to_push_p50", round(statistics.median(lat) * 1000), "ms")
            say("latency_commit_to_push_p95", round(lat[int(0.95 * (len(lat) - 1))] * 1000), "ms")
            say("latency_commit_to_push_max", round(lat[-1] * 1000), "ms")
            say("latency_poll_interval", round(settings.delivery_poll_seconds * 1000), "ms")
        finally:
            push.stop()
            await drop_database(url)


class WorkerProcess:
    """``probity serve --role worker`` on the bench database (the deployed command)."""

    def __init__(self, url: str, data_dir: str, **env: str) -> None:
        environ = {
            **os.environ,
            "PROBITY_DATABASE_URL": url,
            "PROBITY_DATA_DIR": data_dir,
            "PROBITY_SECRET_KEY": SECRET,
            "PROBITY_LOG_LEVEL": "INFO",
            "PROBITY_PUSH_ALLOW_PRIVATE": "true",
            **env,
        }
        probity = Path(sys.executable).parent / "probity"
        self.proc = subprocess.Popen(  # noqa: S603
            [str(probity), "serve", "--role", "worker"], env=environ, stderr=subprocess.PIPE, text=True
        )
        self.pid = self.proc.pid
        self._started = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "delivery worker" in line and "started" in line:
                self._started.set()
            elif " - WARNING - " in line or " - ERROR - " in line or "Traceback" in line:
                sys.stderr.write(line)

    async def ready(self, limit_s: float = 120) -> None:
        if not await asyncio.to_thread(self._started.wait, limit_s):
            raise RuntimeError("the worker process did not start")

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


async def wait_for(push: PushService, want: int, limit_s: float, every: float = 0.1) -> dict[str, Any]:
    """Poll the push service's counts (off the event loop) until ``want`` arrived; its full stats."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if (await asyncio.to_thread(push.count))["distinct"] >= want:
            break
        await asyncio.sleep(every)
    return push.stats()


async def bench_crash(args: argparse.Namespace) -> None:
    """``kill -9`` of the worker once a third arrived, then a new worker: over Web Push
    (``--channel webpush``) or a JSON SMS gateway (``--channel sms``). Counts what was sent again
    under its first key (on the wire: a receiver drops it by Topic / Idempotency-Key) apart from
    people told twice under different keys (nothing could drop those; must be 0)."""
    push = PushService()
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database(args.pg, Path(tmp))
        settings = make_settings(url, Path(tmp))
        try:
            if args.channel == "sms":
                people = await populate_sms(settings, SECRET, push.port, args.messages)
                db = Database(settings)
                await raise_warning(db, people)
                await db.dispose()
            else:
                await populate(settings, push, args.messages)
            env = {
                "PROBITY_DELIVERY_LEASE_SECONDS": "4",
                "PROBITY_DELIVERY_TIMEOUT_SECONDS": "1",
                "PROBITY_DELIVERY_BATCH": "100",
            }
            first = WorkerProcess(url, tmp, **env)
            stats = await wait_for(push, args.messages // 3, 120)
            first.kill()
            at_kill = push.stats()["distinct"]
            started = time.perf_counter()
            second = WorkerProcess(url, tmp, **env)
            stats = await wait_for(push, args.messages, 180)
            recovered = time.perf_counter() - started
            db = Database(settings)
            # what the killed worker sent but had not recorded is sent again once its lease runs
            # out: wait until nothing is open any more before counting repeats
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if not await outbox_open(db):
                    break
                await asyncio.sleep(0.2)
            stats = push.stats()
            second.stop()
            async with db.session() as s:
                delivered = (
                    await s.execute(select(func.count()).where(DeliveryRoute.state == "delivered"))  # type: ignore[arg-type]
                ).scalar_one()
            await db.dispose()
            kind = ("postgresql" if args.pg else "sqlite") + f"_{args.channel}"
            say(f"crash_{kind}_messages", args.messages)
            say(f"crash_{kind}_delivered_before_kill_9", at_kill)
            say(f"crash_{kind}_distinct_delivered_after_restart", stats["distinct"])
            say(f"crash_{kind}_missing", args.messages - stats["distinct"])
            say(f"crash_{kind}_sent_again_under_first_key", stats["duplicates"])
            say(f"crash_{kind}_duplicates_after_receiver_drops_repeated_keys", stats["people_told_twice"])
            say(f"crash_{kind}_routes_marked_delivered", delivered)
            say(f"crash_{kind}_restart_to_all_delivered", round(recovered, 2), "s")
        finally:
            push.stop()
            await drop_database(url)


async def bench_slow(args: argparse.Namespace) -> None:
    """A push service answering each message in ``--delay`` s (2), with a batch that one lease
    cannot hold at the concurrency (``batch / concurrency × delay`` > the lease): every message once
    on the wire — the lease is renewed while the batch is sent, and checked before each send."""
    push = PushService(delay=args.delay)
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database(args.pg, Path(tmp))
        settings = make_settings(url, Path(tmp))
        try:
            timeout = int(args.delay * 2) + 1  # a send answered in ``delay`` does not time out
            lease = 4 * timeout  # the shortest lease the settings accept with that timeout
            env = {
                "PROBITY_DELIVERY_LEASE_SECONDS": str(lease),
                "PROBITY_DELIVERY_TIMEOUT_SECONDS": str(timeout),
                "PROBITY_DELIVERY_BATCH": str(args.batch),
                "PROBITY_DELIVERY_CONCURRENCY": str(args.concurrency),
            }
            holds = lease / args.delay * args.concurrency
            await populate(settings, push, args.messages)
            started = time.perf_counter()
            worker = WorkerProcess(url, tmp, **env)
            stats = await wait_for(push, args.messages, 600)
            elapsed = time.perf_counter() - started
            worker.stop()
            kind = "postgresql" if args.pg else "sqlite"
            say(f"slow_{kind}_messages", args.messages)
            say(f"slow_{kind}_answer_delay", args.delay, "s")
            say(f"slow_{kind}_batch_vs_what_one_lease_holds", f"{args.batch} vs {holds:.0f}")
            say(f"slow_{kind}_distinct_delivered", stats["distinct"])
            say(f"slow_{kind}_duplicates", stats["duplicates"])
            say(f"slow_{kind}_seconds", round(elapsed, 2), "s")
        finally:
            push.stop()
            await drop_database(url)


async def bench_flaky(args: argparse.Namespace) -> None:
    push = PushService(flaky=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database(args.pg, Path(tmp))
        settings = make_settings(
            url,
            Path(tmp),
            delivery_backoff_seconds=0.05,
            delivery_backoff_max_seconds=0.5,
            delivery_max_attempts=10,
        )
        try:
            await populate(settings, push, args.messages, dead_fraction=0.1)
            dead = int(args.messages * 0.1)
            db = Database(settings)
            started = time.perf_counter()
            async with Worker(db, settings, AuditTrail(SECRET), name="flaky") as worker:
                await until_done(worker, db)
            elapsed = time.perf_counter() - started
            async with db.session() as s:
                left = list((await s.execute(select(col(PushSubscription.endpoint)))).scalars())
                states = dict(
                    (
                        await s.execute(
                            select(col(DeliveryRoute.state), func.count()).group_by(col(DeliveryRoute.state))
                        )
                    ).all()
                )
            await db.dispose()
            stats = push.stats()
            say("flaky_live_subscriptions", args.messages - dead)
            say("flaky_live_delivered", stats["distinct"])
            say("flaky_dead_subscriptions", dead)
            say("flaky_dead_removed", dead - sum(1 for e in left if "/dead" in e))
            say("flaky_answers", json.dumps(stats["statuses"], sort_keys=True))
            say("flaky_routes", json.dumps(states, sort_keys=True))
            say("flaky_seconds", round(elapsed, 2), "s")
        finally:
            push.stop()
            await drop_database(url)


async def bench_two_workers(args: argparse.Namespace) -> None:
    push = PushService()
    with tempfile.TemporaryDirectory() as tmp:
        url = await fresh_database(True, Path(tmp))
        settings = make_settings(url, Path(tmp))
        try:
            await populate(settings, push, args.messages)
            env = {"PROBITY_DELIVERY_BATCH": "50"}
            started = time.perf_counter()
            workers = [WorkerProcess(url, tmp, **env) for _ in (1, 2)]
            stats = await wait_for(push, args.messages, 180)
            elapsed = time.perf_counter() - started
            for w in workers:
                w.stop()
            say("two_workers_postgresql_messages", args.messages)
            say("two_workers_postgresql_distinct_delivered", stats["distinct"])
            say("two_workers_postgresql_duplicates", stats["duplicates"])
            say("two_workers_postgresql_posts", stats["posts"])
            say("two_workers_postgresql_seconds", round(elapsed, 2), "s")
        finally:
            push.stop()
            await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="bench", required=True)
    for name, default in (
        ("fanout", 10000),
        ("crash", 1000),
        ("flaky", 1000),
        ("two-workers", 1000),
        ("slow", 200),
    ):
        p = sub.add_parser(name)
        p.add_argument("--messages", type=int, default=default)
        p.add_argument("--pg", action="store_true")
        p.add_argument("--batch", type=int, default=500 if name != "slow" else 200)
        p.add_argument("--concurrency", type=int, default=64 if name != "slow" else 8)
        if name == "crash":
            p.add_argument("--channel", choices=["webpush", "sms"], default="webpush")
        if name == "slow":
            p.add_argument("--delay", type=float, default=2.0, help="seconds the push service takes")
        if name == "fanout":
            p.add_argument("--workers", type=int, default=1, help="worker processes")
            p.add_argument("--repeat", type=int, default=3, help="runs (medians are printed)")
    p = sub.add_parser("latency")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--pg", action="store_true")
    args = parser.parse_args()
    bench = {
        "fanout": bench_fanout,
        "latency": bench_latency,
        "crash": bench_crash,
        "flaky": bench_flaky,
        "two-workers": bench_two_workers,
        "slow": bench_slow,
    }[args.bench]
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
