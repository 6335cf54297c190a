# ruff: noqa: S608  -- identifiers and literals are quoted by ident() and lit(); the rule is checked
"""The engines that run a rule: one interface, DuckDB (embedded, the default) and Apache Spark.

``PROBITY_BUSINESS_ENGINE`` picks one; both take the rule as the expert wrote it (DuckDB SQL,
checked by :func:`backend.data.sandbox.check_rule_sql`) and give the same :class:`Outcome`: rows per
level, non-green hits per employee, and the warnings' JSON array with their evidence.

* DuckDB over its own file (:class:`backend.data.store.BusinessStore`, the laptop) or over the
  shared Parquet store (:func:`backend.data.parquet.duckdb_reader`): the rule and its levels in one
  statement, :func:`backend.engine.evaluate.evaluate`.
* Spark over the shared Parquet store: the rule and its level CASE are one Spark SQL query (sqlglot's
  rendering of the checked tree), whose rows Spark writes to the store as Parquet partitioned by
  level (``_runs/<id>/level__=high/…``, on the cluster, never collected to the driver). The keys and
  the evidence are then made from those files by the very SQL the DuckDB engine uses
  (:func:`backend.engine.evaluate.summarise`), so both engines give the same text for the same
  values, and the run's files are removed.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb

from backend.data.parquet import ParquetStore, duckdb_reader
from backend.data.rulesql import to_spark
from backend.data.sandbox import CheckedRule, _reject
from backend.data.store import BusinessStore, RuleTimeout, StoreUnavailable, lit
from backend.engine.evaluate import LEVEL_COLUMN, Outcome, evaluate, level_case, summarise
from backend.kernel.settings import Settings
from backend.topics.models import Thresholds


@dataclass(frozen=True)
class RuleJob:
    checked: CheckedRule
    params: dict[str, Any]
    thresholds: Thresholds
    rule_version: int
    timeout: float


class RuleEngine(Protocol):
    #: what the run record says ran it: ``duckdb`` or ``spark``
    name: str

    async def run(self, job: RuleJob) -> tuple[Outcome, float]:
        """The outcome (``__scanned__`` among its levels: rows of the tables read) and the seconds
        spent waiting for the store, which the run's clock leaves out."""
        ...


class DuckDBFileEngine:
    name = "duckdb"

    def __init__(self, store: BusinessStore) -> None:
        self.store = store

    async def run(self, job: RuleJob) -> tuple[Outcome, float]:
        opening = time.perf_counter()
        await asyncio.to_thread(self.store.acquire)
        waited = time.perf_counter() - opening
        try:
            counts = await asyncio.to_thread(self.store.row_counts, list(job.checked.tables))
            outcome = await asyncio.to_thread(
                self.store.run,
                evaluate(job.checked.sql, job.params, job.thresholds, job.rule_version),
                job.timeout,
            )
        finally:
            self.store.release()
        outcome.levels["__scanned__"] = sum(counts.values())
        return outcome, waited


async def _on_store(
    store: ParquetStore, work: Callable[[RuleJob], Outcome], job: RuleJob
) -> tuple[Outcome, float]:
    """Run ``work`` in a thread; the rows scanned are the tables' rows in the store's manifests."""
    outcome = await asyncio.to_thread(work, job)
    outcome.levels["__scanned__"] = sum(store.row_counts(list(job.checked.tables)).values())
    return outcome, 0.0


class DuckDBParquetEngine:
    name = "duckdb"

    def __init__(self, store: ParquetStore, memory_limit: str) -> None:
        self.store = store
        self.memory_limit = memory_limit

    def _run(self, job: RuleJob) -> Outcome:
        con = duckdb_reader(self.store, self.memory_limit)
        timer = threading.Timer(job.timeout, con.interrupt)
        started = time.monotonic()
        try:
            timer.start()
            outcome = evaluate(job.checked.sql, job.params, job.thresholds, job.rule_version)(con)
        except duckdb.InterruptException as exc:
            raise RuleTimeout(
                f"the query was stopped after {time.monotonic() - started:.1f} s (limit {job.timeout:g} s)",
                extra={"timeout_seconds": job.timeout},
            ) from exc
        finally:
            timer.cancel()
            con.close()
        return outcome

    async def run(self, job: RuleJob) -> tuple[Outcome, float]:
        return await _on_store(self.store, self._run, job)


def spark_rule_sql(job: RuleJob) -> str:
    """The rule and its level CASE as one Spark SQL query (the checked DuckDB tree, transpiled)."""
    wrapped = (
        f"SELECT rule.*, {level_case(job.thresholds)} AS {LEVEL_COLUMN} FROM ({job.checked.sql}) AS rule"
    )
    return to_spark(wrapped, job.params, _reject)


class SparkEngine:
    name = "spark"

    def __init__(self, settings: Settings, store: ParquetStore) -> None:
        self.settings = settings
        self.store = store

    def _run(self, job: RuleJob) -> Outcome:
        from backend.data import spark

        started = time.perf_counter()
        query = spark_rule_sql(job)
        target = self.store.root / "_runs" / uuid.uuid4().hex
        try:
            spark.run(
                self.settings,
                self.store,
                lambda s: s.sql(query).write.partitionBy(LEVEL_COLUMN).parquet(f"file://{target}"),
                job.timeout,
            )
            outcome = self._summarise(target, job)
        finally:
            shutil.rmtree(target, ignore_errors=True)
        outcome.query_ms = round((time.perf_counter() - started) * 1000)
        return outcome

    def _summarise(self, target: Any, job: RuleJob) -> Outcome:
        """Keys and evidence from the rows Spark wrote, by the DuckDB engine's own SQL."""
        if not any(target.glob(f"{LEVEL_COLUMN}=*/*.parquet")):
            return Outcome()
        con = duckdb.connect(":memory:")
        try:
            files = lit(str(target / f"{LEVEL_COLUMN}=*" / "*.parquet"))
            con.execute(
                f"CREATE VIEW run_hits AS SELECT * FROM read_parquet({files}, hive_partitioning = true, "
                "hive_types_autocast = false)"
            )
            con.execute(f"SET allowed_directories=[{lit(str(target) + '/')}]")
            con.execute("SET enable_external_access=false")
            return summarise(con, job.thresholds, job.rule_version)
        finally:
            con.close()

    async def run(self, job: RuleJob) -> tuple[Outcome, float]:
        return await _on_store(self.store, self._run, job)


def rule_engine(settings: Settings) -> RuleEngine:
    """The engine the settings name, over the store they name."""
    if settings.business_store is None:
        if settings.business_engine == "spark":
            raise StoreUnavailable(
                "the Spark engine reads the shared store: set PROBITY_BUSINESS_STORE=file:///… (README "
                '"Running at province scale")'
            )
        return DuckDBFileEngine(BusinessStore.for_settings(settings))
    store = ParquetStore.for_settings(settings)
    if settings.business_engine == "spark":
        return SparkEngine(settings, store)
    return DuckDBParquetEngine(store, settings.duckdb_memory_limit)
