"""N writing requests at the same instant (issue 15: appends to the trail must not serialise
unrelated requests). Not a test: prints one line per figure.

    .venv/bin/python benchmarks/trail_writers.py [--writers 50] [--rounds 5] \
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_trail]

Builds the database as ``benchmarks/load.py`` does (default PostgreSQL, dropped and rebuilt;
``--database-url sqlite`` for a fresh SQLite file) with ``--writers`` customer managers, each with
open warnings, and starts ``probity serve`` on it. Each round, every manager first picks an open
warning from their inbox (not timed), then all of them reply (``POST /api/warnings/{id}/
verifications``) at the same instant. Prints per round the time until the last reply was answered
and the replies' p50/p99, and on PostgreSQL the most backends seen waiting for a lock meanwhile
(``pg_stat_activity``, sampled every 5 ms): before the trail's records were sealed apart, every
reply's transaction waited for the one chain-head row, so all but one waited. That count, unlike
the times, does not depend on how busy the machine is. Compare two commits by running this file
on each (e.g. ``PYTHONPATH=<a checkout of the other commit>``).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from benchmarks.delivery_bench import free_port  # noqa: E402
from benchmarks.load import PASSWORD, build, pct, settings_for, start_server, until_healthy  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_trail"
ANSWERABLE = {"raised", "delivered", "read", "returned"}


async def lock_waiters(url: str, stop: asyncio.Event, seen: list[int]) -> None:
    """Sample how many backends of this database wait for a lock, until ``stop``."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        while not stop.is_set():
            seen.append(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            await asyncio.sleep(0.005)
    finally:
        await conn.close()


async def sign_in(http: aiohttp.ClientSession, base: str, username: str) -> dict[str, str]:
    async with http.post(f"{base}/api/auth/login", json={"username": username, "password": PASSWORD}) as r:
        body = await r.json()
        assert r.status == 200, body
    return {"Authorization": f"Bearer {body['access_token']}"}


async def pick(http: aiohttp.ClientSession, base: str, headers: dict[str, str], used: set[int]) -> int | None:
    async with http.get(f"{base}/api/warnings?view=mine&limit=50", headers=headers) as r:
        page = await r.json()
    for item in page["items"]:
        if item["state"] in ANSWERABLE and item["id"] not in used:
            used.add(item["id"])
            return int(item["id"])
    return None


async def reply(
    http: aiohttp.ClientSession, base: str, headers: dict[str, str], wid: int
) -> tuple[float, int]:
    body = {
        "client_id": uuid.uuid4().hex,
        "result": "true",
        "cause": "换表未抄底度，已核实",
        "measures": "已追补电费并对装表人员培训",
    }
    t0 = time.perf_counter()
    async with http.post(f"{base}/api/warnings/{wid}/verifications", json=body, headers=headers) as r:
        await r.read()
        return (time.perf_counter() - t0) * 1000, r.status


async def run(base: str, usernames: list[str], args: argparse.Namespace, pg_url: str | None) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        headers = [await sign_in(http, base, u) for u in usernames]
        used: set[int] = set()
        every: list[float] = []
        for round_no in range(1, args.rounds + 1):
            picked = [await pick(http, base, h, used) for h in headers]
            pairs = [(h, w) for h, w in zip(headers, picked, strict=True) if w is not None]
            stop, seen = asyncio.Event(), [0]
            sampler = asyncio.create_task(lock_waiters(pg_url, stop, seen)) if pg_url else None
            await asyncio.sleep(0.05)
            t0 = time.perf_counter()
            answers = await asyncio.gather(*[reply(http, base, h, w) for h, w in pairs])
            wall = (time.perf_counter() - t0) * 1000
            stop.set()
            if sampler is not None:
                await sampler
            ms = [m for m, _ in answers]
            every += ms
            bad = sum(1 for _, s in answers if s >= 300)
            waiting = f", most backends waiting for a lock {max(seen)}" if pg_url else ""
            print(
                f"round {round_no}: {len(pairs)} replies at once, all answered in {wall:.0f} ms, "
                f"p50 {pct(ms, 0.5):.0f} ms, p99 {pct(ms, 0.99):.0f} ms, errors {bad}{waiting}",
                flush=True,
            )
            await asyncio.sleep(args.pause)
        print(
            f"all rounds: {len(every)} replies, p50 {pct(every, 0.5):.0f} ms, p99 {pct(every, 0.99):.0f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writers", type=int, default=50, help="managers replying at the same instant")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between rounds")
    ap.add_argument(
        "--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}; 'sqlite': a fresh file"
    )
    args = ap.parse_args()
    url = None if args.database_url == "sqlite" else args.database_url
    tmp = Path(tempfile.mkdtemp(prefix="probity-trail-writers-"))
    settings = settings_for(tmp, url)
    users = math.ceil(args.writers * 10 / 9)  # one in ten of each station is its head
    built: Any = argparse.Namespace(users=users, station_size=10, warnings=0, open_each=args.rounds + 2)
    accounts = asyncio.run(build(settings, built))
    managers = [a.username for a in accounts if a.role == "manager"][: args.writers]
    one, five, _ = os.getloadavg()
    print(
        f"trail writers: {'SQLite' if url is None else 'PostgreSQL'}, {len(managers)} managers, "
        f"{args.rounds} rounds; load average {one:.2f}, {five:.2f} ({os.cpu_count()} cores)",
        flush=True,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(settings, tmp, port)
    try:
        asyncio.run(until_healthy(base, server, tmp / "server.log"))
        asyncio.run(run(base, managers, args, url))
    finally:
        server.terminate()
        server.wait(timeout=60)
    one, five, _ = os.getloadavg()
    print(f"load average after: {one:.2f}, {five:.2f}; server log: {tmp / 'server.log'}")


if __name__ == "__main__":
    main()
