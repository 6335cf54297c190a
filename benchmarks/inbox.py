"""Employee inbox benchmark (issue 4). Not a test: prints one line per figure.

    .venv/bin/python benchmarks/inbox.py [--warnings 100000] [--people 500] [--seconds 10]
        [--concurrency 64] [--rounds 3] [--database-url postgresql+asyncpg://…/bench_inbox]

Builds a fresh SQLite database (or rebuilds the PostgreSQL database ``--database-url`` names;
demo organisation, ``--people`` people in the demo stations, each
with an account, ``--warnings`` warnings spread over them), serves the app with uvicorn in a
subprocess (this script's ``--serve`` mode: the production app plus one benchmark-only route,
``/bench/hello``, a pure hello world with no database), signs every person in, and measures at
``--concurrency`` connections, ``--rounds`` times in turn: the hello world, and
``GET /api/warnings?limit=20`` (the employee inbox) as a random person per request. The client is
aiohttp in this process, or with ``--client wrk`` the C load generator wrk (Debian package ``wrk``),
whose own cost does not cap the hello world. Prints each round and the medians, and how many
inbox lists reached the trail of acts. Then the service call alone in-process (one session per
call). The server keeps rendered inbox pages (SQLite, ``PROBITY_INBOX_CACHE_PAGES``) while each
person's warnings are unchanged: ``--inbox-cache-pages 0`` measures every page made afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from backend.audit.service import AuditTrail  # noqa: E402
from backend.auth.models import Account  # noqa: E402
from backend.auth.service import make_hasher  # noqa: E402
from backend.demo.org import load_demo_org  # noqa: E402
from backend.kernel.access import Principal, Role  # noqa: E402
from backend.kernel.db import Database  # noqa: E402
from backend.kernel.settings import Settings  # noqa: E402
from backend.kernel.timeutil import utcnow  # noqa: E402
from backend.org.models import Person  # noqa: E402
from backend.warnings.models import Warning  # noqa: E402
from backend.warnings.schemas import InboxView  # noqa: E402
from backend.warnings.service import InboxFilters, WarningService  # noqa: E402

SECRET = "benchmark-secret-key-long-enough-0123456789abcdef"  # noqa: S105 - a throwaway database


def settings_for(tmp: Path, database_url: str | None = None) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        database_url=database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        data_dir=tmp,
        secret_key=SECRET,
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        log_level="WARNING",
    )


async def fresh_postgres(url: str) -> None:
    """Drop and create the database named in a PostgreSQL URL (a benchmark's own, never shared)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"--database-url must name a database of its own, not {name!r}")
    server = target.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(server.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def build(settings: Settings, n_warnings: int, n_people: int) -> list[int]:
    if not settings.is_sqlite:
        await fresh_postgres(settings.database_url)
    db = Database(settings)
    await db.upgrade()
    async with db.session() as s:
        await load_demo_org(s, settings, AuditTrail(SECRET), make_hasher(settings))
        people = [(p.id, p.unit_id) for p in (await s.execute(select(Person))).scalars()]
        extra = n_people - len(people)
        units = sorted({u for _, u in people})
        rows = [
            {
                "employee_no": f"B{i:05d}",
                "name": f"bench {i}",
                "unit_id": units[i % len(units)],
                "roles": ["employee"],
                "created_at": utcnow(),
            }
            for i in range(max(0, extra))
        ]
        if rows:
            await s.execute(insert(Person), rows)
        await s.commit()
        people = [(p.id, p.unit_id) for p in (await s.execute(select(Person))).scalars()]
        with_account = set((await s.execute(select(Account.person_id))).scalars())
        password_hash = make_hasher(settings).hash("demo")
        accounts = [
            {
                "person_id": pid,
                "username": f"bench{pid}",
                "password_hash": password_hash,
                "created_at": utcnow(),
            }
            for pid, _ in people
            if pid not in with_account
        ]
        if accounts:
            await s.execute(insert(Account), accounts)
        await s.commit()
        now = utcnow()
        rng = random.Random(4)  # noqa: S311
        batch: list[dict[str, Any]] = []
        for i in range(n_warnings):
            pid, uid = people[i % len(people)]
            raised = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            batch.append(
                {
                    "topic_id": 1 + i % 6,
                    "topic_code": f"T0{1 + i % 6}",
                    "rule_version_id": 1,
                    "specialty": "marketing",
                    "level": ("high", "medium", "low")[i % 3],
                    "trial": False,
                    "person_id": pid,
                    "unit_id": uid,
                    "object_key": f"CUST-{i:07d}",
                    "period_key": "2026-11",
                    "evidence": {"usage_before": 120.5, "usage_after": 0},
                    "state": "delivered",
                    "raised_at": raised,
                    "last_hit_at": raised,
                    "hit_count": 1,
                    "due_at": raised + timedelta(days=20),
                    "deadline_provisional": False,
                    "submissions": 0,
                    "chase_stage": 0,
                }
            )
            if len(batch) == 5000:
                await s.execute(insert(Warning), batch)
                batch = []
        if batch:
            await s.execute(insert(Warning), batch)
        await s.commit()
    if (
        not settings.is_sqlite
    ):  # what autovacuum does within a minute of a bulk load: statistics, visibility map
        async with db.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")
    await db.dispose()
    return [p for p, _ in people]


async def load(
    url: str, headers: list[dict[str, str]], seconds: float, concurrency: int, accept: str | None = None
) -> tuple[float, float]:
    """Requests/s and p99 (ms) at ``concurrency`` connections; each request as a random account
    (``accept``: the Accept-Encoding sent, else aiohttp's own, which asks for br and gzip)."""
    if accept is not None:
        headers = [{**h, "Accept-Encoding": accept} for h in headers or [{}]]
    latencies: list[float] = []
    rng = random.Random(11)  # noqa: S311
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(k: int) -> None:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                async with http.get(url, headers=rng.choice(headers) if headers else None) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*[worker(k) for k in range(concurrency)])
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1] * 1000


WRK_SCRIPT = """
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
math.randomseed(11)
local accept = os.getenv("BENCH_ACCEPT_ENCODING")
request = function()
  local headers = {}
  if accept ~= nil and accept ~= "" then headers["Accept-Encoding"] = accept end
  if #tokens > 0 then headers["Authorization"] = tokens[math.random(#tokens)] end
  return wrk.format("GET", wrk.path, headers)
end
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %f %f %d\\n", summary.requests / seconds,
    latency:percentile(99) / 1000, bad))
end
"""


def load_wrk(
    url: str, headers: list[dict[str, str]], seconds: float, concurrency: int, tmp: Path, accept: str | None
) -> tuple[float, float]:
    """As ``load``, with wrk (a C load generator, one thread) as the client: the Python client's own
    cost no longer caps the hello world. Non-2xx answers or socket errors fail the round."""
    script, token_file = tmp / "inbox.lua", tmp / "tokens.txt"
    script.write_text(WRK_SCRIPT)
    token_file.write_text("".join(h["Authorization"] + "\n" for h in headers))
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "-s", str(script), url],  # noqa: S607
        env={**os.environ, "BENCH_TOKENS": str(token_file), "BENCH_ACCEPT_ENCODING": accept or ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    _, rps, p99, bad = line.split()
    if int(bad):
        raise SystemExit(f"wrk: {bad} failed requests at {url}\n{out}")
    return float(rps), float(p99)


async def tokens(base: str, usernames: list[str]) -> list[dict[str, str]]:
    """Sign every account in once (a few at a time)."""
    gate = asyncio.Semaphore(2)
    async with aiohttp.ClientSession() as http:

        async def one(user: str) -> dict[str, str]:
            async with (
                gate,
                http.post(f"{base}/api/auth/login", json={"username": user, "password": "demo"}) as r,
            ):
                body = await r.json()
                assert r.status == 200, body
                return {"Authorization": f"Bearer {body['access_token']}"}

        return list(await asyncio.gather(*[one(u) for u in usernames]))


async def warm(url: str, headers: list[dict[str, str]]) -> None:
    """Every account's inbox once (compiled statements, pools, the principal cache)."""
    gate = asyncio.Semaphore(8)
    async with aiohttp.ClientSession() as http:

        async def one(h: dict[str, str]) -> None:
            async with gate, http.get(url, headers=h) as r:
                await r.read()

        await asyncio.gather(*[one(h) for h in headers])


async def usernames(settings: Settings) -> list[str]:
    db = Database(settings)
    async with db.session() as s:
        names = list((await s.execute(select(Account.username))).scalars())
    await db.dispose()
    return names


def serve(port: int) -> None:
    """The production app (settings from the environment) plus a benchmark-only hello world."""
    import uvicorn
    from litestar import MediaType, get

    from backend.app import create_app

    @get("/bench/hello", media_type=MediaType.TEXT, include_in_schema=False)
    async def hello() -> str:
        return "hello, world"

    row = b'{"evidence":{"usage_before":120.5},"x":"' + b"y" * 400 + b'"}'
    blob = b'{"items":[' + b",".join([row] * 20) + b"]}"

    @get("/bench/blob", media_type=MediaType.JSON, include_in_schema=False)
    async def sized() -> bytes:
        """As large as an inbox page, no work: what the client side costs (diagnosis, --path)."""
        return blob

    settings = Settings()  # type: ignore[call-arg]
    app = create_app(settings)
    app.register(hello)
    app.register(sized)
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, loop=settings.server_loop
    )


async def listed_reads(settings: Settings) -> int:
    """How many inbox lists the server wrote to the trail (each answered list is a read)."""
    from sqlalchemy import func

    from backend.audit.models import AuditRecord

    db = Database(settings)
    async with db.session() as s:
        n = (await s.execute(select(func.count()).where(AuditRecord.action == "warning.list"))).scalar_one()
    await db.dispose()
    return int(n)


async def service_only(settings: Settings, people: list[int], calls: int) -> tuple[float, float]:
    db = Database(settings)
    trail = AuditTrail(SECRET)
    rng = random.Random(7)  # noqa: S311
    times = []
    for _ in range(calls):
        pid = rng.choice(people)
        principal = Principal(0, "", pid, 0, frozenset({Role.employee}), frozenset())
        t0 = time.perf_counter()
        async with db.session() as s:
            await WarningService(s, trail, settings).inbox(
                principal, InboxView.mine, InboxFilters(), limit=20
            )
        times.append(time.perf_counter() - t0)
    await db.dispose()
    times.sort()
    return calls / sum(times), times[int(len(times) * 0.99) - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warnings", type=int, default=100_000)
    ap.add_argument("--people", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--client",
        choices=("aiohttp", "wrk"),
        default="aiohttp",
        help="load generator: aiohttp in this process, or wrk (Debian package wrk)",
    )
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--principal-cache-seconds",
        type=float,
        default=Settings.model_fields["principal_cache_seconds"].default,
        help="PROBITY_PRINCIPAL_CACHE_SECONDS of the server (default: the setting's default)",
    )
    ap.add_argument(
        "--inbox-cache-pages",
        type=int,
        default=Settings.model_fields["inbox_cache_pages"].default,
        help="PROBITY_INBOX_CACHE_PAGES of the server: 0 makes every page afresh (the cold path)",
    )
    ap.add_argument(
        "--server-loop",
        choices=("asyncio", "uvloop"),
        default=Settings.model_fields["server_loop"].default,
        help="PROBITY_SERVER_LOOP of the server (default: the setting's default)",
    )
    ap.add_argument(
        "--accept-encoding",
        help="Accept-Encoding sent with every request, e.g. 'gzip, deflate, br, zstd' as a phone's "
        "browser does (default: the client's own: none for wrk, gzip and br for aiohttp)",
    )
    ap.add_argument("--path", default="/api/warnings?limit=20", help="the measured route (diagnosis)")
    ap.add_argument(
        "--database-url",
        help="a PostgreSQL database of the benchmark's own, dropped and rebuilt "
        "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/bench_inbox); default: a fresh SQLite file",
    )
    args = ap.parse_args()
    if args.serve:
        serve(args.port)
        return
    tmp = Path(tempfile.mkdtemp(prefix="probity-inbox-"))
    settings = settings_for(tmp, args.database_url)
    t0 = time.perf_counter()
    people = asyncio.run(build(settings, args.warnings, args.people))
    print(
        f"build: {args.warnings} warnings over {len(people)} people in {time.perf_counter() - t0:.1f} s "
        f"({'SQLite' if settings.is_sqlite else 'PostgreSQL'})"
    )
    env = {
        **os.environ,
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(tmp),
        "PROBITY_SECRET_KEY": SECRET,
        "PROBITY_ENV": "test",
        "PROBITY_LOG_LEVEL": "WARNING",
        # the accounts' hash parameters: signing in does not rehash (and write) every password
        "PROBITY_PASSWORD_HASH_MEMORY_KIB": str(settings.password_hash_memory_kib),
        "PROBITY_PASSWORD_HASH_TIME_COST": str(settings.password_hash_time_cost),
        "PROBITY_PRINCIPAL_CACHE_SECONDS": str(args.principal_cache_seconds),
        "PROBITY_INBOX_CACHE_PAGES": str(args.inbox_cache_pages),
        "PROBITY_SERVER_LOOP": args.server_loop,
        # env=test would leave PostgreSQL's pages and sessions unkept (tests read behind the app)
        "PROBITY_WATCH_CHANGES": "true",
        # env=test keeps workers and jobs out of the process; the heap settles as in production
        "PROBITY_SETTLE_HEAP": "true",
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, str(Path(__file__).resolve()), "--serve", "--port", str(args.port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "server.log").open("wb"),
    )
    base = f"http://127.0.0.1:{args.port}"
    hello_url, inbox_url = f"{base}/bench/hello", f"{base}{args.path}"
    try:
        for _ in range(150):
            try:
                asyncio.run(load(hello_url, [], 0.05, 1))
                break
            except Exception:
                time.sleep(0.2)
        headers = asyncio.run(tokens(base, asyncio.run(usernames(settings))))
        print(f"signed in {len(headers)} accounts; server loop: {args.server_loop}")
        asyncio.run(warm(inbox_url, headers))
        hellos, inboxes = [], []

        def measure(url: str, hs: list[dict[str, str]]) -> tuple[float, float]:
            if args.client == "wrk":
                return load_wrk(url, hs, args.seconds, args.concurrency, tmp, args.accept_encoding)
            return asyncio.run(load(url, hs, args.seconds, args.concurrency, args.accept_encoding))

        for k in range(args.rounds):
            hellos.append(measure(hello_url, []))
            inboxes.append(measure(inbox_url, headers))
            (h_rps, h_p99), (i_rps, i_p99) = hellos[-1], inboxes[-1]
            print(
                f"round {k + 1}: hello-world {h_rps:.0f} req/s (p99 {h_p99:.1f} ms); "
                f"inbox {i_rps:.0f} req/s (p99 {i_p99:.1f} ms); {100 * i_rps / h_rps:.1f} %"
            )
        hello_rps, hello_p99 = (statistics.median(x[i] for x in hellos) for i in (0, 1))
        inbox_rps, inbox_p99 = (statistics.median(x[i] for x in inboxes) for i in (0, 1))
        ratios = [100 * i / h for (i, _), (h, _) in zip(inboxes, hellos, strict=True)]
        print(f"hello-world (/bench/hello), median: {hello_rps:.0f} req/s, p99 {hello_p99:.1f} ms")
        print(
            f"inbox (/api/warnings, 20 per page, random of {len(headers)} people), median: "
            f"{inbox_rps:.0f} req/s, p99 {inbox_p99:.1f} ms"
        )
        print(f"inbox / hello-world, median of rounds: {statistics.median(ratios):.1f} %")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"inbox lists in the trail of acts: {asyncio.run(listed_reads(settings))}")
    svc_rps, svc_p99 = asyncio.run(service_only(settings, people, 2000))
    print(
        f"inbox service call alone (random of {len(people)} people, sequential): "
        f"{svc_rps:.0f} calls/s, p99 {svc_p99:.2f} ms"
    )


if __name__ == "__main__":
    main()
