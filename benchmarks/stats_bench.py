"""Statistics benchmark (issue 18). Not a test: prints one line per figure.

    .venv/bin/python benchmarks/stats_bench.py [--warnings 1000000] [--people 5000] [--units 200]
        [--topics 24] [--years 3] [--concurrency 16] [--calls 160] [--keep DIR]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_stats]

Builds a fresh SQLite database (or drops and rebuilds the PostgreSQL database ``--database-url``
names) at the current migration head: ``--units`` units (a company, counties, and stations under
them), ``--people`` people spread over the stations, ``--topics`` topics and ``--warnings``
warnings raised over the last ``--years`` years (levels 10/25/65 %, older ones mostly answered,
confirmed or closed, a third of the answers true, half of the true red ones interviewed), plus
risk notice letters and ladder cases. Rows are written in bulk (SQLAlchemy Core executemany),
not through the services.

Then the dashboard's statistics call (``StatsService.stats``, one session per call, the same call
``GET /api/stats`` makes, in this process) over the last complete month and its year (``--at``):
for the inspector of the first county, one caller at a
time and ``--calls`` times from ``--concurrency`` concurrent callers, each call computed
(``stats_cache_seconds=0``) and shared (the figures of one scope and period computed once while
callers wait, then kept ``PROBITY_STATS_CACHE_SECONDS``); the same from the inspectors of every
county at once; this month and this year; and the committee (every unit). Prints p50, p95 and max
per case, and calls/s. Also a county's monthly report made (PDF and XLSX) and the committee's
portrait of all posts for the quarter, twice each. ``--keep DIR`` keeps the
SQLite file in DIR and reuses it when it is there, ``--reuse`` the PostgreSQL database built by an
earlier run (the build takes minutes). The shared cases make ten times ``--calls`` calls: one
computation per scope every ``PROBITY_STATS_CACHE_SECONDS``, the rest read what it kept.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from backend.audit.service import AuditTrail  # noqa: E402
from backend.interviews.models import Interview, InterviewWarning  # noqa: E402
from backend.kernel.access import Principal, Role  # noqa: E402
from backend.kernel.db import Database  # noqa: E402
from backend.kernel.settings import Settings  # noqa: E402
from backend.kernel.timeutil import SHANGHAI, utcnow  # noqa: E402
from backend.ladder.models import LadderCase  # noqa: E402
from backend.org.models import Person, Post, Unit  # noqa: E402
from backend.portrait.service import PortraitService  # noqa: E402
from backend.reports.service import ReportService  # noqa: E402
from backend.stats.periods import PeriodKind, period_of  # noqa: E402
from backend.stats.service import SHARED, StatsService  # noqa: E402
from backend.topics.models import Topic  # noqa: E402
from backend.warnings.models import LinkedWarning, Warning  # noqa: E402
from benchmarks.inbox import fresh_postgres, settings_for  # noqa: E402

SPECIALTIES = ["marketing", "finance", "materials", "engineering", "operations", "general"]
BATCH = 20_000
#: the day whose month and year are measured: the last day of the last complete month (a whole
#: month of warnings; ``--at`` to choose another)
AT = utcnow().astimezone(SHANGHAI).date().replace(day=1) - timedelta(days=1)


async def build(settings: Settings, args: argparse.Namespace) -> None:
    if not settings.is_sqlite:
        await fresh_postgres(settings.database_url)
    db = Database(settings)
    await db.upgrade()
    rng = random.Random(18)  # noqa: S311 - synthetic data
    now = utcnow()
    started = time.perf_counter()
    async with db.session() as s:
        counties = max(1, (args.units - 1) // 25)
        stations_each = (args.units - 1 - counties) // counties
        await s.execute(
            insert(Unit), [{"id": 1, "code": "BP", "name": "省公司", "kind": "company", "path": "/"}]
        )
        units: list[dict[str, Any]] = []
        stations: list[int] = []
        next_id = 2
        for c in range(counties):
            county_id = next_id
            units.append(
                {
                    "id": county_id,
                    "code": f"B{c:02d}",
                    "name": f"第{c + 1}县公司",
                    "kind": "county",
                    "parent_id": 1,
                    "path": "/1/",
                }
            )
            next_id += 1
            for k in range(stations_each):
                units.append(
                    {
                        "id": next_id,
                        "code": f"B{c:02d}-{k:02d}",
                        "name": f"第{c + 1}县第{k + 1}供电所",
                        "kind": "station",
                        "parent_id": county_id,
                        "path": f"/1/{county_id}/",
                        "specialty": "marketing",
                    }
                )
                stations.append(next_id)
                next_id += 1
        await s.execute(insert(Unit), units)
        await s.execute(
            insert(Post),
            [{"id": i + 1, "code": f"BP{i}", "name": f"岗位{i + 1}", "risk_value": 50} for i in range(12)],
        )
        people = [(i + 1, stations[i % len(stations)]) for i in range(args.people)]
        await s.execute(
            insert(Person),
            [
                {
                    "id": p,
                    "employee_no": f"B{p:05d}",
                    "name": f"员工{p}",
                    "unit_id": u,
                    "post_id": 1 + p % 12,
                    "roles": ["employee"],
                    "created_at": now,
                }
                for p, u in people
            ],
        )
        await s.execute(
            insert(Topic),
            [
                {
                    "id": t + 1,
                    "code": f"BT{t:02d}",
                    "name": f"监督主题{t + 1}",
                    "specialty": SPECIALTIES[t % 6],
                    "state": "online",
                    "labels": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for t in range(args.topics)
            ],
        )
        await s.commit()
        span = args.years * 365 * 24 * 60
        true_red: list[tuple[int, int, int]] = []
        batch: list[dict[str, Any]] = []
        for i in range(args.warnings):
            pid, uid = people[rng.randrange(len(people))]
            t = rng.randrange(args.topics)
            level = rng.choices(("high", "medium", "low"), (10, 25, 65))[0]
            raised = now - timedelta(minutes=rng.randrange(span))
            due = raised + timedelta(days={"high": 14, "medium": 28, "low": 42}[level])
            age = (now - raised).days
            answered = rng.random() < (0.95 if age > 60 else 0.5)
            first = raised + timedelta(days=rng.randrange(1, 50)) if answered else None
            if first is not None and first > now:
                first = None
            finding = None
            if first is not None:
                state = rng.choices(("closed", "confirmed", "submitted"), (70, 20, 10))[0]
                finding = "true" if rng.random() < 0.33 else "not_true"
            else:
                state = rng.choice(("delivered", "read", "returned"))
            row = {
                "id": i + 1,
                "topic_id": t + 1,
                "topic_code": f"BT{t:02d}",
                "rule_version_id": 1,
                "specialty": SPECIALTIES[t % 6],
                "level": level,
                "trial": False,
                "person_id": pid,
                "unit_id": uid,
                "object_key": f"OBJ-{i:07d}",
                "period_key": f"{raised:%Y-%m}",
                "evidence": {},
                "state": state,
                "raised_at": raised,
                "last_hit_at": raised,
                "hit_count": 1,
                "due_at": due,
                "deadline_provisional": False,
                "first_submitted_at": first,
                "submitted_at": first,
                "finding": finding,
                "submissions": 1 if first else 0,
                "chase_stage": 0,
            }
            batch.append(row)
            if finding == "true" and level == "high" and rng.random() < 0.5:
                true_red.append((i + 1, pid, uid))
            if len(batch) == BATCH:
                await s.execute(insert(Warning), batch)
                batch = []
        if batch:
            await s.execute(insert(Warning), batch)
        await s.commit()
        interviews = [
            {
                "id": k + 1,
                "client_id": f"bench-{k}",
                "person_id": pid,
                "unit_id": uid,
                "interviewee_name": "某",
                "interviewee_unit": "所",
                "held_at": now,
                "place": "所",
                "q_true": "",
                "q_cause": "",
                "q_integrity": "",
                "c_collaboration": "",
                "c_control": "",
                "c_education": "",
                "suggestion": "",
                "follow_up": "",
                "interviewers": [],
                "signatures": [],
                "body_hash": "0" * 64,
                "recorded_by": pid,
                "created_at": now,
            }
            for k, (_w, pid, uid) in enumerate(true_red)
        ]
        for k in range(0, len(interviews), BATCH):
            await s.execute(insert(Interview), interviews[k : k + BATCH])
        links = [{"interview_id": k + 1, "warning_id": w} for k, (w, _p, _u) in enumerate(true_red)]
        for k in range(0, len(links), BATCH):
            await s.execute(insert(InterviewWarning), links[k : k + BATCH])
        letters = []
        for k in range(args.warnings // 500):
            raised = now - timedelta(minutes=rng.randrange(span))
            letters.append(
                {
                    "key": f"bench-{k}",
                    "rule": rng.choice(("repeat", "double_red", "relapse")),
                    "unit_id": rng.choice(stations),
                    "level": "high",
                    "warning_ids": [],
                    "state": rng.choice(("raised", "answered", "closed")),
                    "raised_at": raised,
                    "report_due_at": raised + timedelta(days=21),
                }
            )
        await s.execute(insert(LinkedWarning), letters)
        cases = []
        for _ in range(args.warnings // 2000):
            pid, uid = people[rng.randrange(len(people))]
            opened = now - timedelta(minutes=rng.randrange(span))
            cases.append(
                {
                    "person_id": pid,
                    "unit_id": uid,
                    "tier": rng.choice(("notice", "inquiry", "recommendation")),
                    "state": rng.choice(("open", "answered", "lifted")),
                    "subject": "说明",
                    "problem": "说明",
                    "warning_ids": [],
                    "opened_by": pid,
                    "opened_at": opened,
                    "due_at": opened + timedelta(days=10),
                }
            )
        await s.execute(insert(LadderCase), cases)
        await s.commit()
    if not settings.is_sqlite:
        async with db.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")
    else:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
    await db.dispose()
    print(
        f"built: {args.warnings} warnings, {args.people} people, {len(units) + 1} units, "
        f"{args.topics} topics, {len(true_red)} interviews in {time.perf_counter() - started:.0f} s"
    )


async def principal_of(db: Database, county_code: str | None) -> Principal:
    roles = frozenset({Role.inspector, Role.employee}) if county_code else frozenset({Role.committee})
    async with db.session() as s:
        unit = (await s.execute(select(Unit).where(Unit.code == (county_code or "BP")))).scalar_one()
        below = (
            await s.execute(select(Unit.id).where(Unit.path.startswith(f"{unit.path}{unit.id}/")))
        ).scalars()
        subtree = frozenset({unit.id, *below})
        person = (
            await s.execute(select(Person.id).where(Person.unit_id.in_(sorted(subtree))).limit(1))
        ).scalar()
    assert unit.id is not None and person is not None
    return Principal(
        account_id=0,
        session_id="bench",
        person_id=person,
        unit_id=unit.id,
        roles=roles,
        subtree_unit_ids=subtree,
    )


async def measure(
    db: Database,
    settings: Settings,
    callers: list[Principal],
    kind: PeriodKind,
    calls: int,
    concurrency: int,
) -> list[float]:
    """``calls`` statistics calls from ``concurrency`` concurrent callers, the k-th caller being
    ``callers[k % len(callers)]``."""
    period = period_of(kind, AT)
    trail = AuditTrail(settings.secret_key.get_secret_value())
    times: list[float] = []
    left = iter(range(calls))

    async def caller(who: Principal) -> None:
        for _ in left:
            start = time.perf_counter()
            async with db.session() as s:
                body = await StatsService(s, settings, trail).stats(who, period)
            times.append(time.perf_counter() - start)
            assert body.totals.raised > 0

    await asyncio.gather(*(caller(callers[k % len(callers)]) for k in range(concurrency)))
    return times


async def others(db: Database, settings: Settings, inspector: Principal, committee: Principal) -> None:
    """A county's monthly report (PDF and XLSX, kept), and the committee's portrait of all posts."""
    trail = AuditTrail(settings.secret_key.get_secret_value())
    for _ in range(2):
        start = time.perf_counter()
        async with db.session() as s:
            row = await ReportService(s, settings, trail).generate(
                inspector, inspector.unit_id, period_of(PeriodKind.month, AT), key=None, created_by=None
            )
            await s.rollback()
        print(
            f"county monthly report (PDF {len(row.pdf) // 1024} KB + XLSX {len(row.xlsx) // 1024} KB): "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
    for _ in range(2):
        start = time.perf_counter()
        async with db.session() as s:
            body = await PortraitService(s, settings, trail).portrait(
                committee, "post", period_of(PeriodKind.quarter, AT)
            )
        print(
            f"portrait of all posts ({len(body.rows)}), quarter: "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )


def line(name: str, times: list[float], wall: float) -> None:
    ordered = sorted(times)

    def pick(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    print(
        f"{name}: n={len(times)} p50={statistics.median(ordered) * 1000:.0f} ms p95={pick(0.95):.0f} ms "
        f"p99={pick(0.99):.0f} ms max={ordered[-1] * 1000:.0f} ms ({len(times) / wall:.1f} calls/s)"
    )


async def run(args: argparse.Namespace) -> None:
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="stats-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    settings = settings_for(tmp, args.database_url)
    if (settings.is_sqlite and (tmp / "bench.db").exists()) or (not settings.is_sqlite and args.reuse):
        print("reusing the database built before")
        db = Database(settings)
        await db.upgrade()
        await db.dispose()
    else:
        await build(settings, args)
    db = Database(settings)
    try:
        inspector = await principal_of(db, "B00")
        counties = [await principal_of(db, f"B{c:02d}") for c in range(args.units // 25 - 1 or 1)]
        committee = await principal_of(db, None)
        print(f"database: {db.engine.dialect.name}; inspector's units: {len(inspector.subtree_unit_ids)}")
        cold = settings.model_copy(update={"stats_cache_seconds": 0})
        cases: list[tuple[str, Settings, list[Principal], PeriodKind, int, int]] = [
            (
                "county inspector, month, 1 caller, each call computed",
                cold,
                [inspector],
                PeriodKind.month,
                20,
                1,
            ),
            (
                "county inspector, year, 1 caller, each call computed",
                cold,
                [inspector],
                PeriodKind.year,
                5,
                1,
            ),
            (
                "committee (all units), month, 1 caller, each call computed",
                cold,
                [committee],
                PeriodKind.month,
                5,
                1,
            ),
            (
                f"county inspector, month, {args.concurrency} callers, each call computed",
                cold,
                [inspector],
                PeriodKind.month,
                args.calls,
                args.concurrency,
            ),
            (
                f"county inspector, month, {args.concurrency} callers, shared "
                f"({settings.stats_cache_seconds:g} s)",
                settings,
                [inspector],
                PeriodKind.month,
                args.calls * 10,
                args.concurrency,
            ),
            (
                f"{len(counties)} county inspectors, month, {args.concurrency} callers, shared",
                settings,
                counties,
                PeriodKind.month,
                args.calls * 10,
                args.concurrency,
            ),
            (
                f"county inspector, year, {args.concurrency} callers, shared",
                settings,
                [inspector],
                PeriodKind.year,
                args.calls * 10,
                args.concurrency,
            ),
        ]
        await measure(db, cold, [inspector], PeriodKind.month, 4, 1)  # warm the caches
        await others(db, cold, inspector, committee)
        for name, used, who, kind, calls, concurrency in cases:
            SHARED.kept.clear()
            start = time.perf_counter()
            times = await measure(db, used, who, kind, calls, concurrency)
            line(name, times, time.perf_counter() - start)
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warnings", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--topics", type=int, default=24)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--calls", type=int, default=160)
    parser.add_argument("--keep", default=os.environ.get("PROBITY_STATS_BENCH_DIR"))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--at", default=None, help="a day (YYYY-MM-DD): measure its month and year")
    parser.add_argument("--reuse", action="store_true", help="PostgreSQL: measure the database built before")
    args = parser.parse_args()
    if args.at:
        global AT
        AT = date.fromisoformat(args.at)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
