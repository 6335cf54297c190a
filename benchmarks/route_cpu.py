"""Server CPU per request, route by route (issue 15). Not a test: prints one line per route.

    .venv/bin/python benchmarks/route_cpu.py /tmp/probity-load-XXXX [--requests 300] [--only reply]

Takes the directory a run of ``benchmarks/load.py`` left (its SQLite database of people in
stations, a year of closed warnings and open announced ones), copies the database, starts
``probity serve`` on the copy (migrated to this checkout's schema first) and sends, one at a time,
``--requests`` requests of each kind the load benchmark mixes: a manager's inbox, a warning's
detail, notifications, a head's queue of replies, and replies. It prints the server process's CPU
time per request (user + system, from /proc: the figure that decides how many requests a core
answers, and is less sensitive to other load than wall time) and the wall time. The CPU includes
what the request sets off in the process (deliveries, linked warnings), as under load. Compare
two commits by running it on each with the same directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from benchmarks.delivery_bench import cpu_seconds, free_port  # noqa: E402
from benchmarks.load import PASSWORD, SECRET, postgres_cpu_seconds  # noqa: E402

OPEN = ("raised", "delivered", "read", "returned")
Call = tuple[dict[str, str], str, str, dict[str, Any] | None]


def start_server(tmp: str, database_url: str | None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROBITY_ENV": "production",
        "PROBITY_DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp}/load.db",
        "PROBITY_DATA_DIR": tmp,
        "PROBITY_SECRET_KEY": SECRET,
        "PROBITY_LOG_LEVEL": "WARNING",
        "PROBITY_PASSWORD_HASH_MEMORY_KIB": "64",
        "PROBITY_PASSWORD_HASH_TIME_COST": "1",
    }
    return subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "probity"), "serve", "--migrate", "--port", env_port(tmp)],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def postgres_counts(database_url: str | None) -> tuple[float, float, float]:
    """PostgreSQL's CPU seconds on this machine, its transactions in the benchmark's database and
    the statements pg_stat_statements counted there (0 where the extension is not loaded): read
    before and after each kind, the differences are what the kind cost the database server. The
    counting queries themselves run on a connection of their own (a few statements per kind)."""
    if not database_url:
        return (0.0, 0.0, 0.0)
    import asyncpg

    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        xacts = await conn.fetchval(
            "select xact_commit + xact_rollback from pg_stat_database where datname = current_database()"
        )
        try:
            calls = await conn.fetchval(
                "select coalesce(sum(calls), 0) from pg_stat_statements s join pg_database d "
                "on d.oid = s.dbid where d.datname = current_database()"
            )
        except asyncpg.PostgresError:
            calls = 0
    finally:
        await conn.close()
    return (postgres_cpu_seconds(), float(xacts), float(calls))


def env_port(tmp: str) -> str:
    return (Path(tmp) / "port").read_text()


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="probity-cpu-") as tmp:
        if not args.database_url:
            shutil.copyfile(Path(args.directory) / "load.db", Path(tmp) / "load.db")
        port = free_port()
        (Path(tmp) / "port").write_text(str(port))
        server = start_server(tmp, args.database_url)
        try:
            asyncio.run(measure(f"http://127.0.0.1:{port}", server.pid, args))
        finally:
            server.terminate()
            server.wait(30)


async def measure(base: str, pid: int, args: argparse.Namespace) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(base + "/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)

        async def login(username: str) -> dict[str, str]:
            async with http.post(
                base + "/api/auth/login", json={"username": username, "password": PASSWORD}
            ) as r:
                return {"Authorization": "Bearer " + (await r.json())["access_token"]}

        async def call(headers: dict[str, str], method: str, path: str, body: Any = None) -> tuple[int, Any]:
            async with http.request(method, base + path, headers=headers, json=body) as r:
                return r.status, (await r.json() if r.content_type == "application/json" else None)

        # the load benchmark's people: station s has head loadl{s:03d}00 and managers …01 to …09
        managers = [await login(f"loadl{s:03d}{k:02d}") for s in range(4) for k in range(1, 10)]
        heads = [await login(f"loadl{s:03d}00") for s in range(4)]
        open_of: list[list[int]] = []
        for headers in managers:
            _, page = await call(headers, "GET", "/api/warnings?view=mine&limit=20")
            items = page["items"]
            open_of.append([w["id"] for w in items if w["state"] in OPEN] or [w["id"] for w in items])
        rng = random.Random(1)  # noqa: S311 - which warning to open, not a secret

        def reply(i: int) -> Call:
            mine = open_of[i % len(managers)]
            body = {
                "client_id": uuid.uuid4().hex,
                "result": "true",
                "cause": "换表未抄底度，已核实",
                "measures": "已追补电费",
            }
            return (
                managers[i % len(managers)],
                "POST",
                f"/api/warnings/{mine[(i // len(managers)) % len(mine)]}/verifications",
                body,
            )

        kinds: dict[str, Callable[[int], Call]] = {
            "inbox": lambda i: (managers[i % len(managers)], "GET", "/api/warnings?view=mine&limit=20", None),
            "detail": lambda i: (
                managers[i % len(managers)],
                "GET",
                f"/api/warnings/{rng.choice(open_of[i % len(managers)])}",
                None,
            ),
            "notifications": lambda i: (
                managers[i % len(managers)],
                "GET",
                "/api/notifications?limit=50",
                None,
            ),
            "queue": lambda i: (
                heads[i % len(heads)],
                "GET",
                "/api/warnings?view=unit&state=submitted&limit=100",
                None,
            ),
            "reply": reply,
        }
        for kind, make in kinds.items():
            if args.only and kind != args.only:
                continue
            statuses: Counter[int] = Counter()
            pg0 = await postgres_counts(args.database_url)
            cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
            for i in range(args.requests):
                statuses[(await call(*make(i)))[0]] += 1
            cpu, wall = cpu_seconds(pid) - cpu0, time.perf_counter() - wall0
            pg = [b - a for a, b in zip(pg0, await postgres_counts(args.database_url), strict=True)]
            per = args.requests
            print(
                f"{kind}: {cpu / per * 1000:.1f} ms server CPU per request, "
                f"{wall / per * 1000:.1f} ms wall, answers {dict(statuses)}"
                + (
                    f"; PostgreSQL {pg[0] / per * 1000:.1f} ms CPU, {pg[1] / per:.1f} transactions, "
                    f"{pg[2] / per:.1f} statements per request"
                    if args.database_url
                    else ""
                ),
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", help="the directory a run of benchmarks/load.py left (holds load.db)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--database-url",
        help="the PostgreSQL database a PostgreSQL run of benchmarks/load.py built (used in place, "
        "replies change it); prints PostgreSQL's CPU, transactions and statements per request too",
    )
    parser.add_argument("--only", choices=["inbox", "detail", "notifications", "queue", "reply"])
    main(parser.parse_args())
