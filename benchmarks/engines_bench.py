"""DuckDB against Apache Spark on the same rules over the same shared Parquet store (issue 21). Not a test.

    .venv/bin/python benchmarks/engines_bench.py                       # 10 M readings (the issue's size)
    .venv/bin/python benchmarks/engines_bench.py --readings 2000000    # quicker

Generates meter readings (accounts × 100 days), accounts and meter swaps, imports them into a
Parquet store (``PROBITY_BUSINESS_STORE`` layout, through the store's own checked import), then runs
the meter-swap topic (MK-001) and the full-scan rule of ``rules_bench.py`` (zero-usage days per
account and month over every reading) twice each — on DuckDB over the Parquet files, and on Spark
``local[2]`` — each engine in a child process of its own, printing one line per figure: the
Spark session's start and each query's planning apart from its run (the fixed cost), the run
times (first and second: the JVM warms up), and the peak memory (DuckDB: the process; Spark: the
Python driver and the JVM, each its own peak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from rules_bench import FULL_SCAN_SQL, figure  # noqa: E402

from backend.data.parquet import ParquetStore  # noqa: E402
from backend.data.sandbox import check_rule_sql  # noqa: E402
from backend.data.store import LoadSpec  # noqa: E402
from backend.engine.demo import SWAP_ZERO_SQL, TABLES  # noqa: E402
from backend.engine.demo_data import Size, generate  # noqa: E402
from backend.engine.engines import DuckDBParquetEngine, RuleJob, SparkEngine, spark_rule_sql  # noqa: E402
from backend.engine.evaluate import Outcome  # noqa: E402
from backend.kernel.settings import Settings  # noqa: E402
from backend.topics.models import Thresholds  # noqa: E402

BENCH_TABLES = ("accounts", "meter_readings", "meter_swaps")
RULES = {
    "meter_swap": (
        SWAP_ZERO_SQL,
        {"min_kwh_before": 0},
        Thresholds(measure="zero_days_after", high=7, low=3),
    ),
    "full_scan": (FULL_SCAN_SQL, {"max_kwh": 0}, Thresholds(measure="zero_days", high=7, medium=5, low=3)),
}


def settings_for(store: Path, engine: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=store.parent / "data",
        business_engine=engine,
        business_store=store.as_uri(),
        spark_master="local[2]",
        duckdb_memory_limit="4GB",
        spark_conf={"spark.driver.memory": "4g", "spark.sql.shuffle.partitions": "4"},
    )


def prepare(work: Path, readings: int) -> Path:
    """CSV files made by DuckDB, imported into the Parquet store by its checked import."""
    started = time.perf_counter()
    files = generate(work / "csv", Size.for_readings(readings), BENCH_TABLES)
    figure("generate_csv", time.perf_counter() - started, "s")
    store = ParquetStore(work / "store", work / "staging", "4GB")
    for number, declaration in enumerate(t for t in TABLES if t.name in BENCH_TABLES):
        columns = [(c.name, c.type) for c in declaration.columns]
        store.create_table(declaration.name, columns, declaration.period_column)
        started = time.perf_counter()
        result = store.load_csv(
            LoadSpec(
                table=declaration.name,
                header=[(c.name, c.name, c.type) for c in declaration.columns],
                required=[c.name for c in declaration.columns if c.required],
                key=list(declaration.key),
                period_column=declaration.period_column,
                path=files[declaration.name],
                delimiter=",",
                import_id=number + 1,
                take_good_rows=False,
            )
        )
        assert result.committed, result.errors[:3]
        figure(f"import_{declaration.name} ({result.rows_taken} rows)", time.perf_counter() - started, "s")
    return work / "store"


def jobs() -> dict[str, RuleJob]:
    names = set(BENCH_TABLES)
    return {
        name: RuleJob(check_rule_sql(sql, names), params, thresholds, 1, 3600.0)
        for name, (sql, params, thresholds) in RULES.items()
    }


def hit_count(outcome: Outcome) -> int:
    """Non-green hits (high + medium + low): the same on both engines."""
    return sum(n for level, n in outcome.levels.items() if level not in ("none", "__scanned__"))


def read_pages(outcome: Outcome) -> int:
    """Read the hits' pages as a run does (each page a JSON array of up to PAGE_SIZE hits and the
    rest of the last hit's object and period), then close them; the number of pages."""
    try:
        while outcome.pages is not None and outcome.pages.next() is not None:
            pass
        return outcome.pages.pages if outcome.pages is not None else 0
    finally:
        outcome.close()


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process (all its threads) so far: steadier than wall time
    on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid: int | str = "self") -> float:
    """A process's peak resident memory (VmHWM: its own, not inherited across exec like ru_maxrss)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child_duckdb(store_dir: Path) -> None:
    settings = settings_for(store_dir, "duckdb")
    engine = DuckDBParquetEngine(ParquetStore.for_settings(settings), settings.duckdb_memory_limit)
    for name, job in jobs().items():
        for attempt in ("first", "second"):
            started, cpu = time.perf_counter(), cpu_seconds()
            outcome = engine._run(job)
            pages = read_pages(outcome)
            figure(
                f"duckdb {name} {attempt} run (query, evidence, {pages} page(s))",
                time.perf_counter() - started,
                "s",
            )
            figure(f"duckdb {name} {attempt} run, CPU", cpu_seconds() - cpu, "s")
        figure(f"duckdb {name} hits", hit_count(outcome), "")
    figure("duckdb peak RSS", peak_mib(), "MiB")


def child_spark(store_dir: Path) -> None:
    from backend.data import spark

    settings = settings_for(store_dir, "spark")
    store = ParquetStore.for_settings(settings)
    started = time.perf_counter()
    session = spark.session(settings)
    figure("spark fixed: session start (JVM, context)", time.perf_counter() - started, "s")
    jvm = session._jvm.java.lang.ProcessHandle.current().pid()
    figure("spark fixed: session start, CPU (JVM)", cpu_seconds(jvm), "s")
    engine = SparkEngine(settings, store)
    for name, job in jobs().items():
        for attempt in ("first", "second"):
            started = time.perf_counter()
            with_tables = spark.with_tables(settings, store)
            frame = with_tables.sql(spark_rule_sql(job))
            frame._jdf.queryExecution().executedPlan()  # analysis, optimisation, physical planning
            figure(f"spark fixed: {name} {attempt} tables + planning", time.perf_counter() - started, "s")
            started, cpu = time.perf_counter(), cpu_seconds(jvm) + cpu_seconds()
            outcome = engine._run(job)
            pages = read_pages(outcome)
            took, spent = time.perf_counter() - started, cpu_seconds(jvm) + cpu_seconds() - cpu
            figure(
                f"spark {name} {attempt} run (plan again, scan, write hits + evidence, {pages} page(s))",
                took,
                "s",
            )
            figure(f"spark {name} {attempt} run, CPU (JVM + driver)", spent, "s")
        figure(f"spark {name} hits", hit_count(outcome), "")
    figure("spark peak RSS, Python driver", peak_mib(), "MiB")
    figure("spark peak RSS, JVM (driver + local executors)", peak_mib(jvm), "MiB")
    spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--child", choices=["duckdb", "spark"])
    parser.add_argument("--store", type=Path)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    if args.child:
        (child_duckdb if args.child == "duckdb" else child_spark)(args.store)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        store = prepare(work, args.readings)
        counts = ParquetStore(store, work / "staging", "1GB").row_counts(list(BENCH_TABLES))
        print(json.dumps({"rows": counts, "cpus": os.cpu_count()}), flush=True)
        size = sum(f.stat().st_size for f in (store / "meter_readings").rglob("*.parquet"))
        figure("meter_readings as Parquet (zstd)", size / 2**20, "MiB")
        for engine in ("duckdb", "spark"):
            started = time.perf_counter()
            subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--child", engine, "--store", str(store)], check=True
            )
            figure(
                f"{engine} child process wall time (start, runs, stop)", time.perf_counter() - started, "s"
            )


if __name__ == "__main__":
    main()
