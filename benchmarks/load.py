"""Writes under load (issue 15). Not a test: prints one line per figure.

    .venv/bin/python benchmarks/load.py [--users 300] [--seconds 120] [--warnings 100000]
        [--open-each 30] [--station-size 10] [--ramp 10] [--think-min 0.5] [--think-max 2.0]
        [--clients 1] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_load]

Builds a fresh SQLite database (or drops and rebuilds the PostgreSQL database ``--database-url``
names): the demo organisation, then ``--users`` people with accounts (password ``demo``) in new
supply stations of ``--station-size`` (one head, the others customer managers), made through the
services the demo loader uses. Each manager gets ``--open-each`` new warnings raised and announced
as a rule run does (the ``warning.raised`` events are the notifications of the person and of their
head), and ``--warnings`` closed warnings of the past year are spread over the managers (history
for the inbox, as in ``benchmarks/inbox.py``).

Then ``probity serve`` (the deployed command, ``PROBITY_ENV=production``: workers and scheduler
in the process) is started on that database. The simulated people sign in once each
(``POST /api/auth/login``), spread over ``--ramp`` seconds (their phones are signed in before the
morning starts: the sign-ins are reported apart). Then, for the ``--seconds`` of the measured
window, each, after a think time drawn between ``--think-min`` and ``--think-max`` seconds, does
one thing:

* a manager lists their inbox (``GET /api/warnings?view=mine&limit=20``), opens a warning from
  it (``GET /api/warnings/{id}``: its first look marks it read, a write), lists notifications
  (``GET /api/notifications?limit=50``), marks one read (``POST /api/notifications/{id}/read``)
  or replies to an open warning (``POST /api/warnings/{id}/verifications``, a fresh client id);
* a head lists the replies waiting (``GET /api/warnings?view=unit&state=submitted&limit=100``,
  the PWA's queue), opens one, lists and marks notifications, or confirms (three in four) or
  returns (with a reason) a reply (``POST /api/warnings/{id}/confirm`` / ``/return``).

The client is aiohttp, one session (one kept-alive connection) per person, in this process or
in ``--clients`` processes. Prints requests/s, errors by status and code (5xx and bodies saying
"database is locked" apart, and that phrase in the server's log), p50/p99 per kind and for reads
and writes, the CPU used by the server and by each client process, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import insert, literal, select  # noqa: E402
from sqlmodel import col  # noqa: E402

from backend.audit.service import AuditTrail  # noqa: E402
from backend.auth.models import AccountCreate  # noqa: E402
from backend.auth.service import AuthService, make_hasher  # noqa: E402
from backend.demo.org import load_demo_org  # noqa: E402
from backend.kernel.access import Actor, Channel  # noqa: E402
from backend.kernel.db import Database  # noqa: E402
from backend.kernel.settings import Settings  # noqa: E402
from backend.kernel.timeutil import utcnow  # noqa: E402
from backend.org.models import Person, PersonCreate, Specialty, UnitCreate, UnitKind  # noqa: E402
from backend.org.service import OrgService  # noqa: E402
from backend.warnings.models import LinkedMember, LinkedRule, LinkedState, LinkedWarning, Warning  # noqa: E402
from backend.warnings.routing import announce  # noqa: E402
from benchmarks.delivery_bench import free_port, tree_cpu_seconds  # noqa: E402
from benchmarks.inbox import fresh_postgres  # noqa: E402

SECRET = "load-benchmark-secret-key-long-enough-0123456789"  # noqa: S105 - a throwaway database
PASSWORD = "demo"  # noqa: S105 - the demo password
ACTOR = Actor.system(Channel.cli, "benchmarks/load.py")

READS = ("inbox", "queue", "detail", "notifications")
WRITES = ("mark-read", "reply", "decision")
KINDS = ("login", *READS, *WRITES)
#: what a manager / a head does after each think time, and how often
MANAGER_MIX = {"inbox": 0.30, "detail": 0.25, "notifications": 0.18, "mark-read": 0.12, "reply": 0.15}
HEAD_MIX = {"queue": 0.30, "detail": 0.20, "notifications": 0.20, "mark-read": 0.10, "decision": 0.20}
ANSWERABLE = {"raised", "delivered", "read", "returned"}
LOCKED = b"database is locked"


@dataclass(frozen=True)
class Account:
    username: str
    role: str  # "manager" or "head"


# --- the database --------------------------------------------------------------------------


def settings_for(tmp: Path, database_url: str | None) -> Settings:
    return Settings(
        _env_file=None,
        env="test",
        database_url=database_url or f"sqlite+aiosqlite:///{tmp / 'load.db'}",
        data_dir=tmp,
        secret_key=SECRET,
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        log_level="WARNING",
    )


async def make_people(db: Database, settings: Settings, users: int, station_size: int) -> list[Account]:
    """``users`` people in new stations (first of each: the head), each with an account."""
    trail, hasher = AuditTrail(SECRET), make_hasher(settings)
    accounts: list[Account] = []
    for k in range(math.ceil(users / station_size)):
        async with db.session() as s:
            org, auth = OrgService(s, trail), AuthService(s, settings, trail, hasher)
            code = f"L{k:03d}"
            await org.create_unit(
                UnitCreate(
                    code=code,
                    name=f"压测供电所{k:03d}",
                    kind=UnitKind.station,
                    specialty=Specialty.marketing,
                    parent_code=("C01", "C02")[k % 2],
                ),
                ACTOR,
                commit=False,
            )
            for j in range(min(station_size, users - len(accounts))):
                head = j == 0
                no = f"{code}{j:02d}"
                await org.create_person(
                    PersonCreate(
                        employee_no=no,
                        name=f"压测{k}-{j}",
                        unit_code=code,
                        post_code="SH" if head else "CM",
                        roles=["head", "employee"] if head else ["employee"],
                    ),
                    ACTOR,
                    commit=False,
                )
                username = f"load{no.lower()}"
                await auth.create_account(
                    AccountCreate.model_construct(employee_no=no, username=username, password=PASSWORD),
                    ACTOR,
                    must_change=False,
                    commit=False,
                    check_strength=False,
                )
                accounts.append(Account(username, "head" if head else "manager"))
            await s.commit()
    return accounts


async def counted_by_past_letters(s: Any, units: list[int], now: Any) -> None:
    """The year's letters: in a running installation each confirmation was evaluated for linked
    patterns as it came (``backend/warnings/linked.py``), so the history's true findings are
    already counted in the letters of the past. One closed letter per station stands for them and
    counts every closed warning for every pattern; without it the first confirmation of each
    station and topic swept a year of history into one letter (hundreds of members each), a
    catch-up no installation goes through."""
    for unit in units:
        letter = LinkedWarning(
            key=f"history:{unit}",
            rule=LinkedRule.repeat.value,
            unit_id=unit,
            level="medium",
            state=LinkedState.closed.value,
            raised_at=now - timedelta(days=30),
            report_due_at=now - timedelta(days=9),
        )
        s.add(letter)
        await s.flush()
        closed = select(col(Warning.id)).where(col(Warning.unit_id) == unit, col(Warning.state) == "closed")
        for rule in LinkedRule:
            await s.execute(
                insert(LinkedMember).from_select(
                    ["linked_id", "rule", "warning_id"],
                    select(literal(letter.id), literal(rule.value), closed.subquery().c.id),
                )
            )


async def make_warnings(db: Database, accounts: list[Account], history: int, open_each: int) -> int:
    """Closed warnings of the past year (``history``) and ``open_each`` new ones per manager,
    announced (deadline, ``warning.raised`` to the person, their head, inspectors), in batches."""
    managers = [f"{a.username[4:].upper()}" for a in accounts if a.role == "manager"]
    async with db.session() as s:
        rows = await s.execute(
            select(col(Person.id), col(Person.unit_id)).where(col(Person.employee_no).in_(managers))
        )
        people = sorted((int(p or 0), int(u)) for p, u in rows.all())
    now = utcnow()
    rng = random.Random(15)  # noqa: S311 - spread, not secrets
    serial = 0

    def row(pid: int, uid: int, raised: Any, **extra: Any) -> dict[str, Any]:
        nonlocal serial
        serial += 1
        return {
            "topic_id": 1 + serial % 6,
            "topic_code": f"T0{1 + serial % 6}",
            "rule_version_id": 1,
            "specialty": "marketing",
            "level": ("high", "medium", "low")[serial % 3],
            "trial": False,
            "person_id": pid,
            "unit_id": uid,
            "object_key": f"CUST-{serial:07d}",
            "period_key": "2026-11",
            "evidence": {"usage_before": 120.5, "usage_after": 0, "meter": f"M{serial}"},
            "raised_at": raised,
            "last_hit_at": raised,
            "hit_count": 1,
            "deadline_provisional": False,
            "submissions": 0,
            "chase_stage": 0,
            **extra,
        }

    batch: list[dict[str, Any]] = []
    async with db.session() as s:
        for i in range(history):
            pid, uid = people[i % len(people)]
            raised = now - timedelta(minutes=rng.randrange(60 * 24 * 30, 60 * 24 * 365))
            done = raised + timedelta(days=3)
            batch.append(
                row(
                    pid,
                    uid,
                    raised,
                    state="closed",
                    due_at=raised + timedelta(days=20),
                    delivered_at=raised,
                    read_at=raised,
                    submitted_at=done,
                    first_submitted_at=done,
                    confirmed_at=done,
                    closed_at=done,
                    finding="true",
                    submissions=1,
                )
            )
            if len(batch) == 5000:
                await s.execute(insert(Warning), batch)
                batch = []
        if batch:
            await s.execute(insert(Warning), batch)
        await counted_by_past_letters(s, sorted({u for _, u in people}), now)
        await s.commit()
    fresh = [
        row(pid, uid, now - timedelta(minutes=rng.randrange(1, 60 * 24 * 2)), state="raised")
        for _ in range(open_each)
        for pid, uid in people
    ]
    for start in range(0, len(fresh), 2000):
        async with db.session() as s:
            ids = (
                await s.execute(insert(Warning).returning(col(Warning.id)), fresh[start : start + 2000])
            ).scalars()
            await announce(s, AuditTrail(SECRET), [i for i in ids if i is not None])
            await s.commit()
    return len(fresh)


async def build(settings: Settings, args: argparse.Namespace) -> list[Account]:
    if not settings.is_sqlite:
        await fresh_postgres(settings.database_url)
    db = Database(settings)
    await db.upgrade()
    async with db.session() as s:
        await load_demo_org(s, settings, AuditTrail(SECRET), make_hasher(settings))
    accounts = await make_people(db, settings, args.users, args.station_size)
    fresh = await make_warnings(db, accounts, args.warnings, args.open_each)
    if not settings.is_sqlite:  # what autovacuum does soon after a bulk load
        async with db.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")
    await db.dispose()
    print(f"build: {fresh} open warnings announced, {args.warnings} closed ones of the past year", flush=True)
    return accounts


# --- the simulated people ------------------------------------------------------------------


@dataclass
class Tally:
    """What one client process saw: latencies (ms) per kind, answers by kind, status and code."""

    ms: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    answers: Counter[str] = field(default_factory=Counter)
    locked: int = 0
    first: float = math.inf
    last: float = 0.0
    cpu: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "ms": self.ms,
            "answers": dict(self.answers),
            "locked": self.locked,
            "first": self.first,
            "last": self.last,
            "cpu": self.cpu,
        }

    def merge(self, other: dict[str, Any]) -> None:
        for kind, values in other["ms"].items():
            self.ms[kind] += values
        self.answers.update(other["answers"])
        self.locked += other["locked"]
        self.first, self.last = min(self.first, other["first"]), max(self.last, other["last"])


class Phone:
    """One phone: signs in, then acts after each think time until the deadline."""

    def __init__(self, account: Account, base: str, tally: Tally, rng: random.Random) -> None:
        self.account, self.base, self.tally, self.rng = account, base, tally, rng
        self.headers: dict[str, str] = {}
        self.warnings: dict[int, str] = {}  # id -> state, as last seen
        self.unread: list[int] = []
        self.seen: list[int] = []  # notifications listed

    async def call(
        self, http: aiohttp.ClientSession, kind: str, method: str, path: str, body: Any = None
    ) -> Any:
        """One request, timed and tallied; its JSON when it succeeded and has a body, else None."""
        t0 = time.perf_counter()
        try:
            async with http.request(method, self.base + path, json=body, headers=self.headers) as r:
                raw = await r.read()
                status = r.status
        except TimeoutError:
            self.tally.answers[f"{kind} timeout"] += 1
            return None
        except aiohttp.ClientError as exc:
            self.tally.answers[f"{kind} {type(exc).__name__}"] += 1
            return None
        finally:
            if kind != "login":
                self.tally.last = max(self.tally.last, time.time())
        self.tally.ms[kind].append((time.perf_counter() - t0) * 1000)
        if LOCKED in raw:
            self.tally.locked += 1
        if status >= 300:
            code = ""
            try:
                code = str(json.loads(raw).get("code", ""))
            except (ValueError, AttributeError):
                code = raw[:60].decode(errors="replace")
            self.tally.answers[f"{kind} {status} {code}".rstrip()] += 1
            return None
        self.tally.answers[f"{kind} {status}"] += 1
        return json.loads(raw) if raw else {}

    async def run(self, sign_in_at: float, loop_at: float, until: float, think: tuple[float, float]) -> None:
        """Sign in at ``sign_in_at``, act from ``loop_at`` until ``until`` (wall-clock times, the
        same in every client process)."""
        timeout = aiohttp.ClientTimeout(total=60)
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await asyncio.sleep(max(0.0, sign_in_at - time.time()))
            signed = await self.call(
                http,
                "login",
                "POST",
                "/api/auth/login",
                {"username": self.account.username, "password": PASSWORD},
            )
            if signed is None:
                return
            self.headers = {"Authorization": f"Bearer {signed['access_token']}"}
            mix = MANAGER_MIX if self.account.role == "manager" else HEAD_MIX
            kinds, weights = list(mix), list(mix.values())
            await asyncio.sleep(max(0.0, loop_at - time.time()))
            while True:
                await asyncio.sleep(self.rng.uniform(*think))
                if time.time() >= until:
                    return
                await self.act(http, self.rng.choices(kinds, weights)[0])

    async def act(self, http: aiohttp.ClientSession, kind: str) -> None:
        rng = self.rng
        if kind == "mark-read" and not self.seen:
            kind = "notifications"
        if kind == "detail" and not self.warnings:
            kind = "inbox" if self.account.role == "manager" else "queue"
        if kind == "reply" and not [w for w, s in self.warnings.items() if s in ANSWERABLE]:
            kind = "inbox"
        if kind == "decision" and not [w for w, s in self.warnings.items() if s == "submitted"]:
            kind = "queue"
        if kind in ("inbox", "queue"):
            path = (
                "/api/warnings?view=mine&limit=20"
                if kind == "inbox"
                else "/api/warnings?view=unit&state=submitted&limit=100"
            )
            page = await self.call(http, kind, "GET", path)
            if page is not None:
                self.warnings = {w["id"]: w["state"] for w in page["items"]}
        elif kind == "detail":
            wid = rng.choice(list(self.warnings))
            detail = await self.call(http, kind, "GET", f"/api/warnings/{wid}")
            if detail is not None:
                self.warnings[wid] = detail["warning"]["state"]
        elif kind == "notifications":
            page = await self.call(http, kind, "GET", "/api/notifications?limit=50")
            if page is not None:
                self.seen = [n["id"] for n in page["items"]]
                self.unread = [n["id"] for n in page["items"] if n["read_at"] is None]
        elif kind == "mark-read":
            nid = self.unread.pop(rng.randrange(len(self.unread))) if self.unread else rng.choice(self.seen)
            await self.call(http, kind, "POST", f"/api/notifications/{nid}/read")
        elif kind == "reply":
            wid = rng.choice([w for w, s in self.warnings.items() if s in ANSWERABLE])
            true = rng.random() < 0.8
            body = {
                "client_id": uuid.uuid4().hex,
                "result": "true" if true else "not_true",
                "cause": "换表未抄底度，已核实" if true else "用户外出，电量属实为零",
                "measures": "已追补电费并对装表人员培训" if true else "",
            }
            if await self.call(http, kind, "POST", f"/api/warnings/{wid}/verifications", body) is not None:
                self.warnings[wid] = "submitted"
        else:  # decision
            wid = rng.choice([w for w, s in self.warnings.items() if s == "submitted"])
            if rng.random() < 0.75:
                answer = await self.call(http, kind, "POST", f"/api/warnings/{wid}/confirm", {})
            else:
                reason = {"reason": "请补充现场照片"}
                answer = await self.call(http, kind, "POST", f"/api/warnings/{wid}/return", reason)
            if answer is not None:
                self.warnings.pop(wid, None)


def timeline(start_at: float, args: argparse.Namespace) -> tuple[float, float]:
    """When the measured window starts (every sign-in given ``--ramp`` seconds, then a grace of
    ten) and when the people stop acting."""
    loop_at = start_at + args.ramp + 10
    return loop_at, loop_at + args.seconds


async def drive(
    base: str, accounts: list[Account], start_at: float, args: argparse.Namespace, seed: int
) -> Tally:
    """Every account in ``accounts`` as a phone: signing in over the ramp from ``start_at``, then
    acting through the measured window."""
    tally = Tally()
    rng = random.Random(seed)  # noqa: S311 - behaviour, not secrets
    loop_at, until = timeline(start_at, args)
    tally.first = loop_at
    think = (args.think_min, args.think_max)
    people = [Phone(a, base, tally, random.Random(rng.random())) for a in accounts]  # noqa: S311
    cpu: list[float] = []

    async def clock() -> None:
        await asyncio.sleep(max(0.0, loop_at - time.time()))
        cpu.append(time.process_time())

    await asyncio.gather(
        clock(), *[p.run(start_at + rng.uniform(0, args.ramp), loop_at, until, think) for p in people]
    )
    tally.cpu = time.process_time() - cpu[0]
    return tally


# --- reporting ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else math.nan


def report(tally: Tally, cpus: list[float], server: dict[str, Any]) -> None:
    """The figures of the measured window (sign-ins apart)."""
    elapsed = tally.last - tally.first
    total = sum(len(tally.ms[k]) for k in (*READS, *WRITES))
    failed = Counter({k: n for k, n in tally.answers.items() if not k.split()[1].startswith("2")})
    acting = Counter({k: n for k, n in failed.items() if not k.startswith("login ")})
    five = sum(n for k, n in acting.items() if k.split()[1].startswith("5"))
    log, at = server["log"].read_bytes(), server["log_at"]

    def said(text: bytes) -> str:
        return f"{log[at:].count(text)} (sign-in phase {log[:at].count(text)})"

    print(f"requests: {total} answered in {elapsed:.1f} s: {total / elapsed:.1f} req/s overall")
    print(
        f"errors: {sum(acting.values())} (5xx {five}; bodies saying 'database is locked' {tally.locked}); "
        f"in the server log: 'database is locked' {said(LOCKED)}, tracebacks {said(b'Traceback')}"
    )
    for key, n in sorted(failed.items()):
        print(f"errors {key}: {n}")
    for kind in KINDS:
        values = tally.ms[kind]
        print(
            f"{kind}: {len(values)} requests, p50 {pct(values, 0.5):.1f} ms, p99 {pct(values, 0.99):.1f} ms"
            + (" (the sign-in phase, before the window)" if kind == "login" else "")
        )
    for name, kinds in (("reads", READS), ("writes", WRITES)):
        values = [v for k in kinds for v in tally.ms[k]]
        print(
            f"{name} ({', '.join(kinds)}): {len(values)} requests, {len(values) / elapsed:.1f}/s, "
            f"p50 {pct(values, 0.5):.1f} ms, p99 {pct(values, 0.99):.1f} ms"
        )
    writes = [v for k in WRITES for v in tally.ms[k]]
    print(f"goal 0 errors: {'met' if not acting and not tally.locked else 'not met'}")
    print(f"goal write p99 <= 500 ms: {'met' if pct(writes, 0.99) <= 500 else 'not met'}")
    print(
        f"server CPU: {100 * server['cpu'] / elapsed:.0f} % of one core, "
        f"{1000 * server['cpu'] / max(total, 1):.1f} ms per answered request"
    )
    if not kind_is_sqlite(server) and server["db_cpu"] > 0:
        print(
            f"PostgreSQL CPU (its processes on this machine): {100 * server['db_cpu'] / elapsed:.0f} % of "
            f"one core, {1000 * server['db_cpu'] / max(total, 1):.1f} ms per answered request"
        )
    print("client CPU: " + ", ".join(f"{100 * c / elapsed:.0f} %" for c in cpus) + " of one core per process")
    print(server["load_before"])
    print(load_average("after"))


def kind_is_sqlite(server: dict[str, Any]) -> bool:
    return bool(server.get("sqlite"))


def postgres_cpu_seconds() -> float:
    """CPU time used so far by PostgreSQL on this machine (Linux), 0 if it cannot be read: the
    postmasters with the backends they reaped (a pool's overflow connections come and go) and the
    backends alive now. Where the database server runs beside the benchmark, its share of the cores."""
    procs: dict[int, tuple[int, list[int]]] = {}  # pid -> (parent, the stat fields after the name)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = [int(f) if f.lstrip("-").isdigit() else 0 for f in text.rsplit(")", 1)[1].split()]
            procs[int(stat.parent.name)] = (fields[1], fields)
    ticks = 0
    for _pid, (parent, fields) in procs.items():
        ticks += fields[11] + fields[12]  # its own user and system time
        if parent not in procs:
            ticks += fields[13] + fields[14]  # a postmaster: its reaped backends' time
    return ticks / os.sysconf("SC_CLK_TCK")


def load_average(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {when}: {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


# --- the processes --------------------------------------------------------------------------


def start_server(settings: Settings, tmp: Path, port: int, processes: int = 1) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROBITY_ENV": "production",
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(tmp),
        "PROBITY_SECRET_KEY": SECRET,
        "PROBITY_LOG_LEVEL": "WARNING",
        # the accounts' hash parameters: signing in does not rehash (and write) every password
        "PROBITY_PASSWORD_HASH_MEMORY_KIB": str(settings.password_hash_memory_kib),
        "PROBITY_PASSWORD_HASH_TIME_COST": str(settings.password_hash_time_cost),
    }
    probity = Path(sys.executable).parent / "probity"
    return subprocess.Popen(  # noqa: S603
        [str(probity), "serve", "--host", "127.0.0.1", "--port", str(port), "--processes", str(processes)],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "server.log").open("wb"),
    )


async def until_healthy(base: str, server: subprocess.Popen[bytes], log: Path, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped at start; see its log, {log}")
            try:
                async with http.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not answer /healthz in time")


def run_clients(
    base: str, accounts: list[Account], args: argparse.Namespace, tmp: Path, start_at: float
) -> tuple[Tally, list[float]]:
    if args.clients == 1:
        tally = asyncio.run(drive(base, accounts, start_at, args, seed=1))
        return tally, [tally.cpu]
    listed = tmp / "accounts.json"
    listed.write_text(json.dumps([[a.username, a.role] for a in accounts]))
    passed = [
        f"--{k.replace('_', '-')}={getattr(args, k)}" for k in ("seconds", "ramp", "think_min", "think_max")
    ]
    procs = [
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--drive",
                str(listed),
                "--base",
                base,
                "--part",
                f"{k}/{args.clients}",
                "--start-at",
                str(start_at),
                *passed,
            ],
            stdout=subprocess.PIPE,
        )
        for k in range(args.clients)
    ]
    tally, cpus = Tally(), []
    for proc in procs:
        out, _ = proc.communicate()
        part = json.loads(out)
        tally.merge(part)
        cpus.append(part["cpu"])
    return tally, cpus


def client_process(args: argparse.Namespace) -> None:
    """One of ``--clients`` processes: its share of the accounts; prints its tally as JSON."""
    k, n = (int(x) for x in args.part.split("/"))
    accounts = [Account(u, r) for u, r in json.loads(Path(args.drive).read_text())][k::n]
    tally = asyncio.run(drive(args.base, accounts, float(args.start_at), args, seed=1 + k))
    print(json.dumps(tally.to_json()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=300, help="simulated people (one in --station-size heads)")
    ap.add_argument("--seconds", type=float, default=120, help="the measured window: how long people act")
    ap.add_argument(
        "--ramp", type=float, default=30, help="the people sign in over this many seconds, before the window"
    )
    ap.add_argument("--think-min", type=float, default=0.5)
    ap.add_argument("--think-max", type=float, default=2.0)
    ap.add_argument("--station-size", type=int, default=10, help="people per new station, its head included")
    ap.add_argument("--warnings", type=int, default=100_000, help="closed warnings of the past year")
    ap.add_argument("--open-each", type=int, default=30, help="new warnings announced to each manager")
    ap.add_argument("--clients", type=int, default=1, help="client processes (if one cannot keep up)")
    ap.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    ap.add_argument(
        "--processes", type=int, default=1, help="the server's HTTP processes (serve --processes)"
    )
    ap.add_argument(
        "--database-url",
        help="a PostgreSQL database of the benchmark's own, dropped and rebuilt "
        "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/bench_load); default: a fresh SQLite file",
    )
    for hidden in ("--drive", "--base", "--part", "--start-at"):
        ap.add_argument(hidden, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        client_process(args)
        return
    tmp = Path(tempfile.mkdtemp(prefix="probity-load-"))
    settings = settings_for(tmp, args.database_url)
    kind = "SQLite" if settings.is_sqlite else "PostgreSQL"
    t0 = time.perf_counter()
    accounts = asyncio.run(build(settings, args))
    heads = sum(a.role == "head" for a in accounts)
    mean_think = (args.think_min + args.think_max) / 2
    print(
        f"load: {kind}, {len(accounts)} people ({len(accounts) - heads} managers, {heads} heads), "
        f"{args.seconds:g} s, ramp {args.ramp:g} s, think {args.think_min:g}-{args.think_max:g} s, "
        f"{args.processes} server process(es), {args.clients} client process(es) "
        f"(at most {len(accounts) / mean_think:.0f} req/s were answers "
        f"instant); built in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(settings, tmp, port, args.processes)
    try:
        asyncio.run(until_healthy(base, server, tmp / "server.log"))
        start_at = time.time() + 2
        seen: dict[str, Any] = {"log": tmp / "server.log", "sqlite": settings.is_sqlite}

        def window_opens() -> None:
            seen.update(
                cpu=tree_cpu_seconds(server.pid),
                db_cpu=postgres_cpu_seconds(),
                log_at=seen["log"].stat().st_size,
                load_before=load_average("at the window's start"),
            )

        threading.Timer(timeline(start_at, args)[0] - time.time(), window_opens).start()
        tally, cpus = run_clients(base, accounts, args, tmp, start_at)
        seen["cpu"] = tree_cpu_seconds(server.pid) - seen["cpu"]
        seen["db_cpu"] = postgres_cpu_seconds() - seen["db_cpu"]
    finally:
        server.terminate()
        server.wait(timeout=60)
    report(tally, cpus, seen)
    print(f"server log: {seen['log']}")


if __name__ == "__main__":
    main()
