# ruff: noqa: S608  -- identifiers and literals are quoted by ident() and lit(); the rule is checked
"""The engines that run a rule: one interface, DuckDB (embedded, the default) and Apache Spark.

``PROBITY_BUSINESS_ENGINE`` picks one; both take the rule as the expert wrote it (DuckDB SQL,
checked by :func:`backend.data.sandbox.check_rule_sql`) and give the same :class:`Outcome`: rows per
level, non-green hits per employee, and the hits in pages (:class:`backend.engine.pages.HitPages`),
each hit the JSON of the warning with its evidence, made by the engine.

* DuckDB over its own file (:class:`backend.data.store.BusinessStore`, the laptop) or over the
  shared Parquet store (:func:`backend.data.parquet.duckdb_reader`): the rule and its levels in one
  statement, :func:`backend.engine.evaluate.evaluate`; the hits are read with ``fetchmany``: over
  the shared store from the run's private connection, which stays open until the pages are
  closed; from the DuckDB file, from a sorted Parquet file in the staging directory, so that the
  file (which other processes take turns with) is let go before the warnings are stored.
* Spark over the shared Parquet store: the rule, its level CASE, the keys as text and each hit's
  JSON (:mod:`backend.engine.spark_hits`) are one Spark SQL query (sqlglot's rendering of the
  checked tree, then the hit columns over it), whose rows Spark writes to the store as Parquet
  partitioned by level (``_runs/<id>/level__=high/…``, on the cluster, never collected to the
  driver). Levels and hits per employee are counted from those files by Spark; the hits come back
  sorted, one partition at a time (``toLocalIterator``), and the files are removed when the pages
  are closed.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb

from backend.data.parquet import ParquetStore, duckdb_reader
from backend.data.rulesql import to_spark
from backend.data.sandbox import CheckedRule, _reject
from backend.data.store import BusinessStore, RuleTimeout, StoreUnavailable
from backend.engine.evaluate import LEVEL_COLUMN, PAGE_SIZE, Outcome, evaluate, level_case
from backend.engine.pages import LEVEL_RANK, HitPages
from backend.engine.spark_hits import hit_columns
from backend.kernel.settings import Settings
from backend.topics.models import Thresholds


@dataclass(frozen=True)
class RuleJob:
    checked: CheckedRule
    params: dict[str, Any]
    thresholds: Thresholds
    rule_version: int
    timeout: float
    #: hits per page handed to the run (``PROBITY_RULE_HIT_PAGE_SIZE``)
    page_size: int = PAGE_SIZE

    def work(self, spool: Path | None = None) -> Callable[[duckdb.DuckDBPyConnection], Outcome]:
        return evaluate(
            self.checked.sql, self.params, self.thresholds, self.rule_version, self.page_size, spool
        )


class RuleEngine(Protocol):
    #: what the run record says ran it: ``duckdb`` or ``spark``
    name: str

    async def run(self, job: RuleJob) -> tuple[Outcome, float]:
        """The outcome (``__scanned__`` among its levels: rows of the tables read) and the seconds
        spent waiting for the store, which the run's clock leaves out. The caller closes the
        outcome (:meth:`Outcome.close`) when it has read the hits' pages."""
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
            # the sorted hits go to a file in the staging directory, read in pages once the DuckDB
            # file is let go: the file is never held while the operational database stores them
            spool = self.store.staging_dir / f"run-{uuid.uuid4().hex}.parquet"
            outcome = await asyncio.to_thread(self.store.run, job.work(spool), job.timeout)
        finally:
            self.store.release()
        outcome.levels["__scanned__"] = sum(counts.values())
        return outcome, waited


def _closing(outcome: Outcome, close: Callable[[], None]) -> None:
    """``close`` once the outcome's pages are closed, or now when there are no hits."""
    if outcome.pages is None:
        close()
    else:
        outcome.pages.on_close(close)


async def _on_store(
    store: ParquetStore, work: Callable[[RuleJob], Outcome], job: RuleJob
) -> tuple[Outcome, float]:
    """Run ``work`` in a thread; the rows scanned are the tables' rows in the store's manifests."""
    outcome = await asyncio.to_thread(work, job)
    try:
        outcome.levels["__scanned__"] = sum(store.row_counts(list(job.checked.tables)).values())
    except BaseException:
        await asyncio.to_thread(outcome.close)
        raise
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
            outcome = job.work()(con)
        except duckdb.InterruptException as exc:
            con.close()
            raise RuleTimeout(
                f"the query was stopped after {time.monotonic() - started:.1f} s (limit {job.timeout:g} s)",
                extra={"timeout_seconds": job.timeout},
            ) from exc
        except BaseException:
            con.close()
            raise
        finally:
            timer.cancel()
        _closing(outcome, con.close)
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
        url = f"file://{target}"
        remove = lambda: shutil.rmtree(target, ignore_errors=True)  # noqa: E731

        def work(s: Any) -> Outcome:
            rows = s.sql(query)
            columns = [(f.name, spark.duck_type(f.dataType.simpleString())) for f in rows.schema.fields]
            hit_sql = hit_columns(columns, job.thresholds, job.rule_version)
            rows.selectExpr(*hit_sql).write.partitionBy(LEVEL_COLUMN).parquet(url)
            out = Outcome()
            if not any(target.glob(f"{LEVEL_COLUMN}=*/*.parquet")):
                return out
            written = s.read.parquet(url)
            out.levels = {str(r[0]): int(r[1]) for r in written.groupBy(LEVEL_COLUMN).count().collect()}
            hits = written.where(f"{LEVEL_COLUMN} <> 'none'")
            out.by_employee = {
                (str(r[0]), str(r[1])): int(r[2]) for r in hits.groupBy("e", LEVEL_COLUMN).count().collect()
            }
            if out.by_employee:
                rank = LEVEL_RANK.format(level=LEVEL_COLUMN)
                ordered = hits.selectExpr("o", "p", "hit", f"{rank} AS rank__", "e").orderBy(
                    "o", "p", s_desc("rank__"), "e"
                )
                out.pages = HitPages(_batches(ordered.toLocalIterator()), job.page_size)
            return out

        try:
            outcome = spark.run(self.settings, self.store, work, job.timeout)
        except BaseException:
            remove()
            raise
        _closing(outcome, remove)
        outcome.query_ms = round((time.perf_counter() - started) * 1000)
        return outcome

    async def run(self, job: RuleJob) -> tuple[Outcome, float]:
        return await _on_store(self.store, self._run, job)


def s_desc(column: str) -> Any:
    from pyspark.sql import functions

    return functions.col(column).desc()


def _batches(rows: Iterator[Any]) -> Callable[[int], list[tuple[Any, ...]]]:
    """``fetch(n)`` over Spark's row iterator (one partition on the driver at a time); Spark's
    errors while reading become :class:`backend.data.spark.SparkFailed`."""
    from backend.data import spark

    def fetch(n: int) -> list[tuple[Any, ...]]:
        with spark.failures():
            return [(r[0], r[1], r[2]) for r in itertools.islice(rows, n)]

    return fetch


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
