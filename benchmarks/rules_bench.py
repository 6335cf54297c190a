"""Import and rule-run benchmark for the business data store (issue 3). Not a test.

    .venv/bin/python benchmarks/rules_bench.py                      # 1 M readings (quick)
    .venv/bin/python benchmarks/rules_bench.py --readings 10000000  # the issue's full size

Generates meter readings (accounts × 100 days) and meter swaps, then measures, printing one line
per figure: the import's own recorded duration vs DuckDB's read_csv into a table; the
meter-swap topic's recorded run vs the bare query (right before and right after the run, as the
load of a shared machine drifts); a full-scan rule (zero-usage days per
account over all readings) likewise; the CLI wall times (process start included) and the peak
memory of the rule-run process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlmodel import col

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.audit.service import AuditTrail  # noqa: E402
from backend.auth.service import make_hasher  # noqa: E402
from backend.data.models import DataImport  # noqa: E402
from backend.data.service import DataService  # noqa: E402
from backend.data.store import BusinessStore  # noqa: E402
from backend.demo.org import load_demo_org  # noqa: E402
from backend.engine.demo import SWAP_ZERO_SQL, TABLES  # noqa: E402
from backend.engine.demo_data import Size, generate  # noqa: E402
from backend.engine.models import RuleRun  # noqa: E402
from backend.kernel.access import Actor, Channel  # noqa: E402
from backend.kernel.db import Database  # noqa: E402
from backend.kernel.settings import Settings  # noqa: E402
from backend.topics.models import RuleDraft, Thresholds, TopicCreate, TopicState, Transition  # noqa: E402
from backend.topics.service import TopicService  # noqa: E402

SECRET = "benchmark-secret-key-0123456789-abcdefghij"  # noqa: S105 - throwaway benchmark database
ACTOR = Actor.system(Channel.cli, "benchmark")
#: CPU seconds (user + system) of the last CLI process: on a shared machine a steadier comparison
LAST_CPU = [0.0]
FULL_SCAN_SQL = """
SELECT a.manager_no AS employee_no, r.account_no AS object_key, r.month AS period_key,
       count(*) FILTER (WHERE r.kwh <= $max_kwh) AS zero_days, sum(r.kwh) AS kwh
FROM meter_readings r JOIN accounts a USING (account_no)
GROUP BY ALL
"""
PEAK = (
    "import resource, sys\n"
    "from backend.cli import main\n"
    "try:\n    main()\nfinally:\n"
    "    print(f'peak_rss_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr)\n"
)


def figure(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.3f} {unit}", flush=True)


async def prepare(settings: Settings) -> None:
    db = Database(settings)
    try:
        await db.upgrade()
        trail = AuditTrail(SECRET)
        async with db.session() as session:
            await load_demo_org(session, settings, trail, make_hasher(settings))
            data = DataService(session, trail, settings)
            for declaration in TABLES:
                if declaration.name in {"accounts", "meter_readings", "meter_swaps"}:
                    await data.declare(declaration, ACTOR)
    finally:
        await db.dispose()
        BusinessStore.close_all()


async def add_topics(settings: Settings) -> None:
    db = Database(settings)
    try:
        async with db.session() as session:
            topics = TopicService(session, AuditTrail(SECRET), settings)
            for code, sql, params, thresholds in (
                (
                    "MK-001",
                    SWAP_ZERO_SQL,
                    {"min_kwh_before": 0},
                    Thresholds(measure="zero_days_after", high=7, medium=5, low=3),
                ),
                (
                    "MK-FULL",
                    FULL_SCAN_SQL,
                    {"max_kwh": 0},
                    Thresholds(measure="zero_days", high=7, medium=5, low=3),
                ),
            ):
                topic = await topics.create(
                    TopicCreate(
                        code=code,
                        name=code,
                        specialty="marketing",
                        rule=RuleDraft(sql=sql, params=params, thresholds=thresholds),
                    ),
                    ACTOR,
                )
                assert topic.id is not None
                await topics.transition(topic.id, Transition(to=TopicState.validating), ACTOR)
                await topics.transition(topic.id, Transition(to=TopicState.online), ACTOR)
    finally:
        await db.dispose()
        BusinessStore.close_all()


async def recorded(settings: Settings) -> tuple[list[DataImport], list[RuleRun]]:
    db = Database(settings)
    try:
        async with db.session() as session:
            imports = list((await session.execute(select(DataImport).order_by(col(DataImport.id)))).scalars())
            runs = list((await session.execute(select(RuleRun).order_by(col(RuleRun.id)))).scalars())
            return imports, runs
    finally:
        await db.dispose()


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def cli(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Run ``probity ARGS``: wall time, peak RSS (KiB) and stdout; CPU seconds go to ``LAST_CPU``."""
    started = time.perf_counter()
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", PEAK, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    LAST_CPU[0] = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    if done.returncode != 0:
        raise SystemExit(f"probity {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak = int(done.stderr.rsplit("peak_rss_kib=", 1)[1].split()[0])
    return wall, peak, done.stdout


def read_csv_into_table(csv: Path, database: Path) -> tuple[float, float]:
    """DuckDB's own ``read_csv`` into a table of a fresh database file: wall and CPU seconds."""
    con = duckdb.connect(str(database))
    con.execute("SET enable_progress_bar = false")
    try:
        started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
        con.execute(f"CREATE TABLE meter_readings AS FROM read_csv('{csv}')")
        return time.perf_counter() - started, cpu_seconds(resource.RUSAGE_SELF) - cpu
    finally:
        con.close()


RULES = {
    "swap": (SWAP_ZERO_SQL, {"min_kwh_before": 0}),
    "full": (FULL_SCAN_SQL, {"max_kwh": 0}),
}


def baseline(csv: dict[str, Path], work: Path) -> Path:
    """DuckDB on its own: the three tables read by read_csv into a database file of their own."""
    path = work / "baseline.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("SET enable_progress_bar = false")
        for table in ("accounts", "meter_swaps", "meter_readings"):
            con.execute(f"CREATE TABLE {table} AS FROM read_csv('{csv[table]}')")
    return path


def bare(path: Path, rule: str) -> float:
    """One rule's bare query, the database reopened as a CLI run opens the store: the file in
    the OS cache, DuckDB's buffers empty."""
    sql, params = RULES[rule]
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    try:
        started = time.perf_counter()
        con.execute(sql, params).fetchall()
        return time.perf_counter() - started
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--swaps", type=int, default=5000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="probity-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{work / 'probity.db'}",
        data_dir=work / "data",
        secret_key=SECRET,
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        log_level="WARNING",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(settings.data_dir),
        "PROBITY_SECRET_KEY": SECRET,
        "PROBITY_LOG_LEVEL": "WARNING",
    }
    size = Size.for_readings(args.readings, swaps=args.swaps, days=args.days)
    started = time.perf_counter()
    csv = generate(work / "csv", size, ("accounts", "meter_readings", "meter_swaps"))
    figure("generate_csv_s", time.perf_counter() - started, "s")
    figure("readings", size.accounts * size.days, "rows")
    figure("readings_csv_mib", csv["meter_readings"].stat().st_size / 2**20, "MiB")
    asyncio.run(prepare(settings))
    for table in ("accounts", "meter_swaps"):
        cli(env, "data", "import", table, str(csv[table]))
    # read_csv right before and right after the import: on a shared machine the load drifts
    before = read_csv_into_table(csv["meter_readings"], work / "read_csv_before.duckdb")
    import_wall, import_peak, _ = cli(env, "data", "import", "meter_readings", str(csv["meter_readings"]))
    import_cpu = LAST_CPU[0]
    after = read_csv_into_table(csv["meter_readings"], work / "read_csv_after.duckdb")
    read_csv_s, read_csv_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    cli(env, "data", "tables")  # the fixed cost of a CLI run: start, imports, databases opened
    start_cpu = LAST_CPU[0]
    asyncio.run(add_topics(settings))
    base_db = baseline(csv, work)
    # the bare query right before and right after each run (mean of both): the load drifts
    base: dict[str, tuple[float, float]] = {}
    before_swap = bare(base_db, "swap")
    swap_wall, swap_peak, swap_out = cli(env, "rules", "run", "MK-001")
    base["swap"] = (before_swap, bare(base_db, "swap"))
    before_full = bare(base_db, "full")
    full_wall, full_peak, full_out = cli(env, "rules", "run", "MK-FULL")
    base["full"] = (before_full, bare(base_db, "full"))
    imports, runs = asyncio.run(recorded(settings))

    imported = imports[-1]
    assert imported.status == "done" and imported.rows_taken == size.accounts * size.days, imported.error
    figure("import_recorded_s", imported.duration_ms / 1000, "s")
    figure("duckdb_read_csv_before_s", before[0], "s")
    figure("duckdb_read_csv_after_s", after[0], "s")
    figure("import_vs_read_csv", imported.duration_ms / 1000 / read_csv_s, "x (mean of both; goal <= 1.5)")
    figure("import_cli_wall_s", import_wall, "s")
    figure("import_cli_cpu_s", import_cpu, "s (process start included)")
    figure("cli_fixed_cpu_s", start_cpu, "s (probity data tables)")
    figure("duckdb_read_csv_cpu_s", read_csv_cpu, "s (mean of both)")
    figure(
        "import_cpu_vs_read_csv_cpu",
        (import_cpu - start_cpu) / read_csv_cpu,
        "x (CPU seconds, the CLI's fixed cost subtracted: steadier on a shared machine)",
    )
    figure("import_cli_peak_rss_mib", import_peak / 1024, "MiB")
    for name, run, wall, peak, key in (
        ("swap_rule", runs[-2], swap_wall, swap_peak, "swap"),
        ("full_scan_rule", runs[-1], full_wall, full_peak, "full"),
    ):
        assert run.status == "done", run.error
        recorded_s = run.duration_ms / 1000
        figure(f"{name}_run_recorded_s", recorded_s, "s")
        figure(f"{name}_query_in_run_s", run.query_ms / 1000, "s")
        bare_s = sum(base[key]) / 2
        figure(f"{name}_bare_query_before_s", base[key][0], "s")
        figure(f"{name}_bare_query_after_s", base[key][1], "s")
        figure(f"{name}_overhead_s", recorded_s - 1.5 * bare_s, "s beyond 1.5x bare (mean; goal <= 0.2)")
        figure(f"{name}_hits_non_green", run.hits_high + run.hits_medium + run.hits_low, "hits")
        figure(f"{name}_warnings_stored", run.warnings_created + run.warnings_updated, "warnings")
        figure(f"{name}_rows_scanned", run.rows_scanned, "rows")
        figure(f"{name}_cli_wall_s", wall, "s")
        figure(f"{name}_cli_peak_rss_mib", peak / 1024, "MiB (goal <= 2048)")
    print(f"# cli output: {swap_out.strip()} | {full_out.strip()}")
    print(f"# workdir: {work}")


if __name__ == "__main__":
    main()
