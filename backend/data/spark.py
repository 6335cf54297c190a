"""Apache Spark over the shared Parquet store (the ``spark`` extra: ``pip install -e '.[spark]'``).

One SparkSession per process, started on first use with ``PROBITY_SPARK_MASTER`` and the settings
of ``PROBITY_SPARK_CONF`` passed through as they are (after Probity's defaults, so they win). Each
rule run or probe works in its own ``newSession()`` (its own temporary views, the same cluster):
every declared table a view over the files its manifest lists, with the declared column types.
Rules arrive as DuckDB SQL already checked (:mod:`backend.data.sandbox`) and are run as the Spark
SQL sqlglot makes of the same tree (:func:`backend.data.rulesql.to_spark`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from backend.data.parquet import ParquetStore
from backend.data.sandbox import RuleRejected
from backend.data.store import RuleTimeout, StoreUnavailable
from backend.kernel.errors import AppError
from backend.kernel.settings import Settings

T = TypeVar("T")
#: Probity's Spark defaults: DuckDB's semantics where they differ (NULL on a bad cast or a division
#: by zero, timestamps without a time zone, UTC), no web UI; PROBITY_SPARK_CONF overrides them
DEFAULTS = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionOverwriteMode": "static",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
}
_session: Any = None
_lock = threading.Lock()
#: DuckDB column types → Spark SQL types (declared business columns)
_TYPES = {
    "VARCHAR": "STRING",
    "TEXT": "STRING",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "REAL": "FLOAT",
    "INTEGER": "INT",
    "INT": "INT",
    "BIGINT": "BIGINT",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP_NTZ",
}
#: Spark result types → DuckDB type names (what the key and evidence formatting know)
_BACK = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "float": "FLOAT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "void": '"NULL"',
}


def available() -> str | None:
    """None when pyspark can be imported, else why not."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"pyspark is not installed (pip install -e '.[spark]'): {exc}"
    return None


def spark_type(duck: str) -> str:
    kind = duck.strip().upper()
    if kind.startswith(("DECIMAL", "NUMERIC")):
        return kind.replace("NUMERIC", "DECIMAL")
    return _TYPES.get(kind, "STRING")


def duck_type(spark: str) -> str:
    if spark.startswith("decimal"):
        return spark.upper()
    return _BACK.get(spark, spark.upper())


def session(settings: Settings) -> Any:
    """The process's SparkSession, started on first use."""
    global _session
    with _lock:
        if _session is None:
            reason = available()
            if reason:
                raise StoreUnavailable(f"the Spark engine cannot start: {reason}")
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.master(settings.spark_master).appName("probity")
            for key, value in {**DEFAULTS, **settings.spark_conf}.items():
                builder = builder.config(key, value)
            _session = builder.getOrCreate()
            _session.sparkContext.setLogLevel("ERROR")
            # pyspark logs each analysis error with the JVM's stack; a refused rule is an answer
            logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
        return _session


def stop() -> None:
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None


def with_tables(settings: Settings, store: ParquetStore) -> Any:
    """A new Spark session (same cluster) with every business table as a temporary view."""
    spark = session(settings).newSession()
    for table in store.tables():
        schema = ", ".join(f"`{n}` {spark_type(t)}" for n, t in store.columns(table))
        files = [f"file://{f}" for f in store.files(table)]
        frame = spark.read.schema(schema).parquet(*files) if files else spark.createDataFrame([], schema)
        frame.createOrReplaceTempView(table)
    return spark


@contextlib.contextmanager
def time_limit(spark: Any, timeout: float | None) -> Iterator[None]:
    """Cancel this thread's Spark jobs past ``timeout`` seconds (:class:`RuleTimeout`)."""
    group = f"probity-{uuid.uuid4().hex}"
    context = spark.sparkContext
    context.setJobGroup(group, "probity rule", interruptOnCancel=True)
    fired = threading.Event()

    def cancel() -> None:
        fired.set()
        context.cancelJobGroup(group)

    timer = threading.Timer(timeout, cancel) if timeout else None
    if timer is not None:
        timer.start()
    try:
        yield
    except Exception as exc:
        if fired.is_set():
            raise RuleTimeout(
                f"the query was stopped after {timeout:g} s (limit {timeout:g} s)",
                extra={"timeout_seconds": timeout},
            ) from exc
        raise
    finally:
        if timer is not None:
            timer.cancel()
        context.setLocalProperty("spark.jobGroup.id", None)


def refused(exc: Exception) -> RuleRejected:
    """A Spark analysis error as the reason a rule is refused (first line, without the plan)."""
    text = str(getattr(exc, "getMessage", lambda: str(exc))() or exc)
    text = re.sub(r"\s*;?\s*\n.*", "", text.strip(), flags=re.S)
    reason = f"Spark cannot run this rule: {text[:500]}"
    return RuleRejected(f"rule rejected: {reason}", extra={"reason": reason})


def columns_of(settings: Settings, store: ParquetStore, spark_sql: str, timeout: float) -> dict[str, str]:
    """The columns a rule returns on Spark (analysed, not run), as DuckDB type names."""
    from pyspark.errors import PySparkException

    spark = with_tables(settings, store)
    try:
        with time_limit(spark, timeout):
            fields = spark.sql(spark_sql).schema.fields
    except PySparkException as exc:
        raise refused(exc) from exc
    return {f.name: duck_type(f.dataType.simpleString()) for f in fields}


class SparkFailed(AppError):
    status = 503
    code = "spark_failed"


@contextlib.contextmanager
def failures() -> Iterator[None]:
    """Spark's errors as :class:`SparkFailed` (the first line: no stack reaches the caller)."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        text = re.sub(r"\s*\n.*", "", str(exc).strip(), flags=re.S)[:500]
        raise SparkFailed(f"the Spark engine failed: {text}") from exc


def run(settings: Settings, store: ParquetStore, work: Callable[[Any], T], timeout: float | None) -> T:
    """``work(spark)`` with the tables as views and a time limit; Spark's errors become
    :class:`SparkFailed` (the run records the reason; no stack reaches the caller)."""
    with failures():
        spark = with_tables(settings, store)
        with time_limit(spark, timeout):
            return work(spark)
