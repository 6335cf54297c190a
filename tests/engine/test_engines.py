"""DuckDB and Apache Spark run the same rules to the same hits (issue 21). All Spark tests live in
this module and share ONE SparkSession (``local[2]``, two shuffle partitions, no UI): starting one
costs seconds. Outside CI they are skipped when Java or pyspark is missing; in CI (CI=true, where
``.ci/run`` installs both) they must run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.data.parquet import ParquetStore, duckdb_reader
from backend.data.sandbox import RuleRejected, check_rule_sql
from backend.data.service import check_rule
from backend.data.store import BusinessStore
from backend.engine.demo import TABLES, TOPICS
from backend.engine.demo_data import Size, generate
from backend.engine.engines import DuckDBFileEngine, DuckDBParquetEngine, RuleJob, SparkEngine
from backend.engine.evaluate import Outcome
from backend.engine.models import RuleRun
from backend.engine.service import EngineService
from backend.kernel.settings import Settings
from backend.org.models import Person
from backend.topics.models import Thresholds
from backend.warnings.models import Warning
from tests.conftest import PG_URL
from tests.data.factories import ACTOR, GOOD, declare_readings, readings_csv, service
from tests.engine.helpers import HOSTILE_SQL, drain, month_rows, trail, zero_usage_topic

pytestmark = pytest.mark.xdist_group("spark")

#: rules beyond the built-in topics: windows, dates, FILTER, GROUP BY ALL, CASE, range joins, CTEs
CORPUS: dict[str, tuple[str, dict[str, Any], Thresholds]] = {
    "window_drop": (
        """
        WITH daily AS (
          SELECT a.manager_no, r.account_no, r.month, r.reading_date, r.kwh,
                 r.kwh - lag(r.kwh) OVER (PARTITION BY r.account_no ORDER BY r.reading_date) AS change,
                 row_number() OVER (PARTITION BY r.account_no, r.month ORDER BY r.kwh DESC, r.reading_date)
                   AS rank_in_month
          FROM meter_readings r JOIN accounts a USING (account_no))
        SELECT manager_no AS employee_no, account_no AS object_key, month AS period_key,
               min(change) AS biggest_drop, max(kwh) FILTER (WHERE rank_in_month = 1) AS top_day,
               count(*) AS days
        FROM daily GROUP BY ALL
        """,
        {},
        Thresholds(measure="biggest_drop", direction="below", high=-19, medium=-18, low=-17),
    ),
    "dates": (
        """
        SELECT installer_no AS employee_no, swap_id AS object_key, strftime(swap_date, '%Y-%m') AS period_key,
               swap_date, CAST(date_trunc('month', swap_date) AS DATE) AS month_start,
               date_diff('day', DATE '2026-09-01', swap_date) AS day_of_run,
               month(swap_date) AS month_no, CAST(swap_date + INTERVAL 7 DAY AS DATE) AS checked_by,
               CAST(swap_date AS TIMESTAMP) + INTERVAL 90 MINUTE AS visit_at
        FROM meter_swaps
        WHERE swap_date >= $since
        """,
        {"since": "2026-09-05"},
        Thresholds(measure="day_of_run", high=40, medium=30, low=20),
    ),
    "filter_case_group_by_all": (
        """
        SELECT a.manager_no AS employee_no, a.account_no AS object_key, r.month AS period_key,
               CASE WHEN a.voltage_kv >= 10 THEN 'high voltage' ELSE 'low voltage' END AS kind,
               count(*) FILTER (WHERE r.kwh < $low) AS low_days,
               sum(r.kwh) FILTER (WHERE r.kwh >= $low) AS normal_kwh,
               avg(r.kwh) AS mean_kwh, a.capacity_kva
        FROM accounts a JOIN meter_readings r ON r.account_no = a.account_no
        GROUP BY ALL
        HAVING count(*) FILTER (WHERE r.kwh < $low) > 0
        """,
        {"low": 3.5},
        Thresholds(measure="low_days", high=8, medium=5, low=2),
    ),
    "range_join": (
        """
        SELECT p.buyer_no AS employee_no, p.po_no AS object_key, p.month AS period_key,
               count(q.po_no) AS orders_near, sum(q.amount) AS amount_near, p.ordered_on
        FROM purchases p JOIN purchases q
          ON q.supplier_code = p.supplier_code AND q.po_no <> p.po_no
         AND q.ordered_on BETWEEN p.ordered_on - 3 AND p.ordered_on + 3
        GROUP BY p.buyer_no, p.po_no, p.month, p.ordered_on
        """,
        {},
        Thresholds(measure="orders_near", high=3, medium=2, low=1),
    ),
    "decimals_timestamps": (
        """
        SELECT mode(a.manager_no) AS employee_no, p.terminal_no AS object_key, p.month AS period_key,
               sum(p.amount) AS paid, max(p.paid_at) AS last_paid, min(p.paid_at) AS first_paid,
               count(DISTINCT p.card_no) AS cards, round(avg(p.amount), 2) AS mean_paid
        FROM payments p JOIN accounts a USING (account_no)
        GROUP BY p.terminal_no, p.month
        """,
        {},
        Thresholds(measure="cards", high=12, medium=10, low=8),
    ),
    "union_keys": (
        """
        SELECT leader_no AS employee_no, order_no AS object_key, month AS period_key, crew_size AS measure_v,
               finished_at, materials_recorded
        FROM repairs WHERE crew_size < 3
        UNION ALL
        SELECT buyer_no, po_no, month, CAST(amount / 10000 AS INTEGER), NULL, NULL
        FROM purchases WHERE amount > 150000
        """,
        {},
        Thresholds(measure="measure_v", direction="below", high=1, medium=2, low=20),
    ),
}
#: the sandbox's hostile SQL: refused on every engine
HOSTILE = [
    *HOSTILE_SQL,
    ("SELECT * FROM glob('/etc/*')", "glob"),
    ("SELECT employee_no, 'o' AS object_key, 'p' AS period_key, 1 AS m FROM other.main.readings", "declared"),
    ("SELECT current_setting('threads') AS employee_no", "current_setting"),
    ("PRAGMA database_list", "single SELECT"),
]
#: DuckDB SQL that Spark cannot run (to the same hits): refused on the Spark engine with the reason
SPARK_REFUSED = [
    (
        "SELECT employee_no, account_no AS object_key, month AS period_key, "
        "jaro_winkler_similarity(account_no, 'A001') AS m FROM readings",
        "Cannot resolve routine `JAROWINKLER_SIMILARITY`",
    ),
    (
        "SELECT employee_no, account_no AS object_key, month AS period_key, 1 AS m, "
        "reading_date + INTERVAL 7 DAY AS checked_by FROM readings",
        "checked_by is TIMESTAMP on DuckDB but DATE on Spark",
    ),
]


def _java() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="module")
def spark_conf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Start the module's one SparkSession (skipped without Java or pyspark, except in CI)."""
    from backend.data import spark

    missing = spark.available() or (
        None if _java() else "no Java runtime (apt-get install default-jre-headless)"
    )
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Spark tests: {missing}")
        pytest.skip(missing)
    conf = {
        "business_engine": "spark",
        "spark_master": "local[2]",
        "spark_conf": {
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.ui.enabled": "false",
            "spark.driver.memory": "1g",
        },
    }
    root = tmp_path_factory.mktemp("spark")
    spark.session(Settings(_env_file=None, data_dir=root, **conf))  # type: ignore[call-arg]
    yield conf
    spark.stop()


def on(settings: Settings, engine: str, conf: dict[str, Any], store: Path) -> Settings:
    """The test's settings on the shared Parquet store, with the DuckDB or the Spark engine."""
    return settings.model_copy(update={**conf, "business_engine": engine, "business_store": store.as_uri()})


def hits(outcome: Outcome) -> list[dict[str, Any]]:
    return sorted(drain(outcome), key=lambda h: (h["e"], h["o"], h["p"], h["l"]))


def _first_difference(a: Any, b: Any) -> str:
    if isinstance(a, list) and isinstance(b, list):
        for x, y in zip(a, b, strict=False):
            if x != y:
                return f"duckdb {x} / other {y}"
        return f"{len(a)} against {len(b)} hits"
    return f"duckdb {a} / other {b}"


async def _load_everywhere(db: Any, settings: Settings, parquet: Settings, tmp_path: Path) -> None:
    """The demo tables and the same generated files in the DuckDB file and in the Parquet store."""
    files = generate(tmp_path / "csv", Size(accounts=200, days=60, swaps=40))
    async with db.session() as session:
        for declaration in TABLES:
            await service(session, settings).declare(declaration, ACTOR)
            ParquetStore.for_settings(parquet).create_table(
                declaration.name, [(c.name, c.type) for c in declaration.columns], declaration.period_column
            )
        for table, path in files.items():
            for target in (settings, parquet):
                record = await service(session, target).import_file(table, path, path.name, ACTOR)
                assert record.status == "done", record.error


@pytest.mark.skipif(
    bool(PG_URL), reason="compares the engines, not the operational database: runs in the SQLite pass"
)
async def test_topics_and_rule_corpus_give_the_same_hits_on_duckdb_and_spark(
    db, settings, tmp_path, spark_conf
):
    store = tmp_path / "shared"
    spark_settings = on(settings, "spark", spark_conf, store)
    await _load_everywhere(db, settings, spark_settings, tmp_path)
    parquet = ParquetStore.for_settings(spark_settings)
    engines = {
        "duckdb file": DuckDBFileEngine(BusinessStore.for_settings(settings)),
        "duckdb parquet": DuckDBParquetEngine(parquet, "1GB"),
        "spark": SparkEngine(spark_settings, parquet),
    }
    rules = {t.code: (t.rule.sql, dict(t.rule.params), t.rule.thresholds) for t in TOPICS if t.rule}
    assert len(rules) == 5 and len(TOPICS) == 6  # the sixth built-in topic is checked on site
    names = {t.name for t in TABLES}
    differences: list[str] = []
    seen_levels: set[str] = set()
    for name, (sql, params, thresholds) in {**rules, **CORPUS}.items():
        job = RuleJob(check_rule_sql(sql, names), params, thresholds, 3, 120.0)
        outcomes = {engine: (await runner.run(job))[0] for engine, runner in engines.items()}
        base = outcomes["duckdb file"]
        assert base.pages, f"{name}: the data must give hits"
        seen_levels |= {level for level, n in base.levels.items() if n and level != "__scanned__"}
        found = {engine: hits(outcome) for engine, outcome in outcomes.items()}
        for engine, outcome in outcomes.items():
            for what, a, b in (
                ("levels", base.levels, outcome.levels),
                ("hits per employee", base.by_employee, outcome.by_employee),
                ("hits and evidence", found["duckdb file"], found[engine]),
            ):
                if a != b:
                    differences.append(f"{name} on {engine}: {what} differ: {_first_difference(a, b)}")
    assert not differences, "\n".join(differences)
    assert seen_levels == {"high", "medium", "low", "none"}


async def test_refused_rules_are_refused_on_both_engines_with_a_reason(db, settings, tmp_path, spark_conf):
    await declare_readings(db, settings)
    spark_settings = on(settings, "spark", spark_conf, tmp_path / "shared")
    duck_parquet = on(settings, "duckdb", spark_conf, tmp_path / "shared")
    ParquetStore.for_settings(spark_settings).create_table(
        "readings", [("account_no", "VARCHAR"), ("reading_date", "DATE"), ("month", "VARCHAR"),
                     ("kwh", "DOUBLE"), ("employee_no", "VARCHAR")], "month",
    )  # fmt: skip
    async with db.session() as session:
        for target in (settings, duck_parquet, spark_settings):
            for sql, reason in HOSTILE:
                with pytest.raises(RuleRejected) as refused:
                    await check_rule(service(session, target), sql, {}, "m")
                assert reason in refused.value.detail, (target.business_engine, sql, refused.value.detail)
        for sql, reason in SPARK_REFUSED:
            accepted = await check_rule(service(session, settings), sql, {}, "m")
            assert accepted.tables == ("readings",)
            with pytest.raises(RuleRejected) as refused:
                await check_rule(service(session, spark_settings), sql, {}, "m")
            assert "Spark cannot run this rule" in refused.value.detail
            assert reason in refused.value.detail


def _rows(settings: Settings) -> list[tuple[Any, ...]]:
    con = duckdb_reader(ParquetStore.for_settings(settings), "1GB")
    try:
        return con.execute("SELECT account_no, month, kwh FROM readings ORDER BY ALL").fetchall()
    finally:
        con.close()


async def test_an_import_replaces_exactly_its_period_and_a_failed_one_changes_nothing(
    db, settings, tmp_path, spark_conf
):
    shared = on(settings, "duckdb", spark_conf, tmp_path / "shared")
    await declare_readings(db, shared)
    store = ParquetStore.for_settings(shared)
    first = [*GOOD, ("A009", "2026-09-30", "2026-09", 4, "E0101")]
    second = [("A003", "2026-10-05", "2026-10", 1.5, "E0101")]
    async with db.session() as session:
        for name, rows in (("first.csv", first), ("second.csv", second)):
            (tmp_path / name).write_text(readings_csv(rows))
            record = await service(session, shared).import_file("readings", tmp_path / name, name, ACTOR)
            assert record.status == "done", record.error
    assert record.rows_replaced == 3 and record.periods == ["2026-10"]
    after = [("A003", "2026-10", 1.5), ("A009", "2026-09", 4.0)]
    assert _rows(shared) == after
    september = store.manifest("readings")["partitions"]["2026-09"]  # type: ignore[index]
    assert september["import_id"] == 1 and (store.root / "readings" / september["file"]).exists()
    files = sorted(p.name for p in (store.root / "readings").rglob("*.parquet"))

    bad = [("A004", "2026-10-06", "2026-10", 2, "E0101"), ("A005", "not a date", "2026-10", 2, "E0101")]
    (tmp_path / "bad.csv").write_text(readings_csv(bad))
    (tmp_path / "broken.csv").write_text('户号,reading_date,month,kwh,employee_no\n"A1,2026-10-01\n')
    async with db.session() as session:
        for name in ("bad.csv", "broken.csv"):
            record = await service(session, shared).import_file("readings", tmp_path / name, name, ACTOR)
            assert record.status != "done"
    assert _rows(shared) == after
    assert sorted(p.name for p in (store.root / "readings").rglob("*.parquet")) == files

    spark_settings = on(settings, "spark", spark_conf, tmp_path / "shared")
    from backend.data import spark

    seen = spark.run(
        spark_settings,
        store,
        lambda s: [
            tuple(r) for r in s.sql("SELECT account_no, month, kwh FROM readings ORDER BY 1").collect()
        ],
        60,
    )
    assert seen == after


async def test_a_run_on_spark_goes_through_the_scheduler_and_says_which_engine_ran_it(
    db, settings, tmp_path, spark_conf
):
    spark_settings = on(settings, "spark", spark_conf, tmp_path / "shared")
    await zero_usage_topic(db, spark_settings, tmp_path)
    async with db.session() as session:
        [queued] = await EngineService(session, trail(), spark_settings).run_codes(["MK-ZERO"], ACTOR)
    assert queued.status == "queued" and queued.engine == "spark"
    async with db.session() as session:
        [run] = await EngineService(session, trail(), spark_settings).run_queued()
    assert run.id == queued.id and run.status == "done", run.error
    assert (run.engine, run.hits_high, run.hits_medium, run.hits_low) == ("spark", 2, 1, 1)
    assert run.warnings_created == 3 and run.unassigned == 1
    async with db.session() as session:
        stored = (await session.execute(select(RuleRun).where(RuleRun.id == run.id))).scalar_one()
        warnings = (await session.execute(select(Warning))).scalars().all()
    assert stored.engine == "spark"
    assert sorted((w.object_key, w.level, w.evidence["value"]) for w in warnings) == [
        ("A001", "high", 3),
        ("A002", "medium", 2),
        ("A003", "low", 1),
    ]


async def test_a_queued_run_is_run_once_when_two_schedulers_look_at_the_queue(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path)
    async with db.session() as session:
        version = (await session.execute(select(RuleRun.version_id).limit(1))).scalar_one_or_none()
        topic = await EngineService(session, trail(), settings).topics.get(topic_id)
        queued = RuleRun(
            topic_id=topic_id,
            topic_code="MK-ZERO",
            version_id=version or topic.current_version_id or 0,
            trigger="manual",
            status="queued",
        )
        session.add(queued)
        await session.commit()
        run_id = queued.id

    both_read = asyncio.Barrier(2)

    async def scheduler() -> list[RuleRun]:
        """A scheduler that has read the queue when the other one has too (the race)."""
        async with db.session() as session:
            execute, first = session.execute, [True]

            async def in_step(*args: Any, **kwargs: Any) -> Any:
                result = await execute(*args, **kwargs)
                if first.pop() if first else False:
                    await both_read.wait()
                return result

            session.execute = in_step  # type: ignore[method-assign]
            return await EngineService(session, trail(), settings).run_queued()

    first, second = await asyncio.gather(scheduler(), scheduler())
    assert sorted(len(runs) for runs in (first, second)) == [0, 1]
    async with db.session() as session:
        done = (await session.execute(select(RuleRun).where(RuleRun.id == run_id))).scalar_one()
        recorded = (
            await session.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(AuditRecord.action == "rule.run", AuditRecord.object_id == str(run_id))
            )
        ).scalars()
        assert len(list(recorded)) == 1
    assert (done.status, done.engine, done.warnings_created) == ("done", "duckdb", 3)


def _two_people_per_account() -> list[Any]:
    """B001…B009: E0005 high (3 zero days) and E0006 low (1) on the same account and month;
    A001…A003 before them: E0101 medium (2). 21 hits on 12 (object, period) pairs, so that a page of
    4 would end between the two hits of B001."""
    rows: list[Any] = []
    for n in range(1, 10):
        account = f"B{n:03d}"
        rows += month_rows(account, "E0005", 3)
        rows += [(account, f"2026-10-{day}", "2026-10", 0 if day == 11 else 5, "E0006") for day in (11, 12)]
    for n in range(1, 4):
        rows += month_rows(f"A{n:03d}", "E0101", 2)
    return rows


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
async def test_a_run_with_more_hits_than_a_page_stores_each_warning_once(
    db, settings, tmp_path, engine, request, monkeypatch
):
    from backend.engine import service as engine_service

    if engine == "spark":
        target = on(settings, "spark", request.getfixturevalue("spark_conf"), tmp_path / "shared")
    else:
        target = settings
    target = target.model_copy(update={"rule_hit_page_size": 4})
    pages: list[int] = []
    store_payload = engine_service.store_payload

    async def counted(session: Any, payload: str | None, info: Any) -> Any:
        pages.append(len(json.loads(payload or "[]")))
        return await store_payload(session, payload, info)

    monkeypatch.setattr(engine_service, "store_payload", counted)
    await zero_usage_topic(db, target, tmp_path, rows=_two_people_per_account())
    async with db.session() as session:
        [run] = await EngineService(session, trail(), target).run_codes(["MK-ZERO"], ACTOR)
        if engine == "spark":
            [run] = await EngineService(session, trail(), target).run_queued()
    assert (run.status, run.engine, run.error) == ("done", engine, None)
    assert (run.hits_high, run.hits_medium, run.hits_low) == (9, 3, 9)
    # pages of 4 hits, or 5 not to split an account's month between two pages: each hit stored once
    assert pages == [5, 4, 4, 4, 4], pages
    assert (run.warnings_created, run.warnings_updated) == (12, 0)
    # what the engine kept for the pages is gone: the spooled hits (DuckDB file), the run's files (Spark)
    assert not [*(target.data_dir / "staging").glob("run-*"), *(tmp_path / "shared" / "_runs").glob("*")]
    async with db.session() as session:
        warnings = (await session.execute(select(Warning))).scalars().all()
        people = dict(
            (await session.execute(select(Person.id, Person.employee_no))).all()  # type: ignore[call-overload]
        )
    assert sorted((w.object_key, w.level, people[w.person_id], w.hit_count) for w in warnings) == [
        *[(f"A{n:03d}", "medium", "E0101", 1) for n in range(1, 4)],
        *[(f"B{n:03d}", "high", "E0005", 1) for n in range(1, 10)],
    ]


#: values of each key type and Python's str() of them (what DuckDB makes of them, tests/engine/test_keys.py)
SPARK_KEYS = [
    ("DOUBLE", v, str(v))
    for v in (1.5, 3.0, -0.0, 1e16, 1e15, 1e-05, 0.0001, 0.00015, 12345678.9, 1.2345678901234567e17,
              -2.5e-7, 1e22, 0.1, 2e-3, 1e23, 5e-324, 1.7976931348623157e308, -123.456, 0.30000000000000004,
              float("nan"), float("-inf"))
]  # fmt: skip
SPARK_KEYS += [
    ("FLOAT", 0.1, "0.10000000149011612"),
    ("BOOLEAN", True, "True"),
    ("BOOLEAN", None, "None"),
    ("BIGINT", 4611686018427387904, "4611686018427387904"),
    ("DECIMAL(10,2)", "-0.05", "-0.05"),
    ("DECIMAL(18,10)", "0.00000001", "1.00E-8"),
    ("DECIMAL(18,10)", "0", "0E-10"),
    ("DATE", "2026-01-01", "2026-01-01"),
    ("TIMESTAMP", "2026-01-01 00:00:00", "2026-01-01 00:00:00"),
    ("TIMESTAMP", "2026-01-01 08:30:00.5", "2026-01-01 08:30:00.500000"),
    ("TIMESTAMP", "2026-01-01 08:30:00.000001", "2026-01-01 08:30:00.000001"),
]


def test_spark_makes_keys_as_pythons_str_of_the_value(spark_conf, tmp_path):
    """Spark makes the keys in its SQL: the same text as DuckDB, so a warning is found again
    whichever engine raised it."""
    from backend.data import spark
    from backend.engine.spark_hits import as_text

    session = spark.session(Settings(_env_file=None, data_dir=tmp_path, **spark_conf))  # type: ignore[call-arg]
    wrong = []
    for kind, value, python in SPARK_KEYS:
        source = "CAST(NULL AS BOOLEAN)" if value is None else f"CAST('{value}' AS {spark.spark_type(kind)})"
        (made,) = session.sql(f"SELECT {as_text('k', {'k': kind})} FROM (SELECT {source} AS k)").first()
        if made != python:
            wrong.append(f"{kind} {value!r}: Spark {made!r}, Python {python!r}")
    assert not wrong, "\n".join(wrong)
