"""Employee inbox benchmark (issue 4). Not a test: prints one line per figure.

    .venv/bin/python benchmarks/inbox.py [--warnings 100000] [--people 500] [--seconds 10] [--concurrency 64]

Builds a fresh SQLite database (demo organisation, ``--people`` people in the demo stations,
``--warnings`` warnings spread over them), serves the app with uvicorn in a subprocess, and
measures with aiohttp at ``--concurrency`` connections: a hello-world route of the same app
(``/healthz``) and ``GET /api/warnings?limit=20`` as the demo accounts (signed in once). Then the
service call alone in-process (one session per call) for random people of the ``--people``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
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
USERS = ["manager", "manager2", "head", "head2", "inspector", "inspector2", "committee", "expert"]


def settings_for(tmp: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        data_dir=tmp,
        secret_key=SECRET,
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        log_level="WARNING",
    )


async def build(settings: Settings, n_warnings: int, n_people: int) -> list[int]:
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
    await db.dispose()
    return [p for p, _ in people]


async def load(
    url: str, headers: list[dict[str, str]], seconds: float, concurrency: int
) -> tuple[float, float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(k: int) -> None:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                async with http.get(url, headers=headers[k % len(headers)] if headers else None) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*[worker(k) for k in range(concurrency)])
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1] * 1000


async def tokens(base: str) -> list[dict[str, str]]:
    out = []
    async with aiohttp.ClientSession() as http:
        for user in USERS:
            async with http.post(f"{base}/api/auth/login", json={"username": user, "password": "demo"}) as r:
                body = await r.json()
                out.append({"Authorization": f"Bearer {body['access_token']}"})
    return out


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
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="probity-inbox-"))
    settings = settings_for(tmp)
    t0 = time.perf_counter()
    people = asyncio.run(build(settings, args.warnings, args.people))
    print(f"build: {args.warnings} warnings over {len(people)} people in {time.perf_counter() - t0:.1f} s")
    env = {
        **os.environ,
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(tmp),
        "PROBITY_SECRET_KEY": SECRET,
        "PROBITY_ENV": "test",
        "PROBITY_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(args.port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                asyncio.run(load(f"{base}/healthz", [], 0.05, 1))
                break
            except Exception:
                time.sleep(0.2)
        hello_rps, hello_p99 = asyncio.run(load(f"{base}/healthz", [], args.seconds, args.concurrency))
        print(f"hello-world (/healthz): {hello_rps:.0f} req/s, p99 {hello_p99:.1f} ms")
        headers = asyncio.run(tokens(base))
        inbox_rps, inbox_p99 = asyncio.run(
            load(f"{base}/api/warnings?limit=20", headers, args.seconds, args.concurrency)
        )
        print(f"inbox (/api/warnings, 20 per page): {inbox_rps:.0f} req/s, p99 {inbox_p99:.1f} ms")
        print(f"inbox / hello-world: {100 * inbox_rps / hello_rps:.1f} %")
    finally:
        server.terminate()
        server.wait(timeout=30)
    svc_rps, svc_p99 = asyncio.run(service_only(settings, people, 2000))
    print(
        f"inbox service call alone (random of {len(people)} people, sequential): "
        f"{svc_rps:.0f} calls/s, p99 {svc_p99:.2f} ms"
    )


if __name__ == "__main__":
    main()
