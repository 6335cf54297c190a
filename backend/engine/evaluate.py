"""One execution of a rule in DuckDB, levels and warning evidence made in SQL.

The rule's rows land in a temporary table with their level (a CASE over the thresholds); the
non-green ones leave DuckDB in pages (:class:`backend.engine.pages.HitPages`, ``fetchmany``),
each hit already the JSON of the warning to store: employee number, object, period, level and
the evidence object (measure, value, bound, rule version, the rule's other columns). Python never
parses a hit: the operational database reads each page in one INSERT … SELECT
(``backend.warnings.hits.store_payload``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from backend.data.keys import NATIVE_TYPES, key_text
from backend.data.store import ident, lit
from backend.engine.pages import LEVEL_RANK, HitPages
from backend.topics.models import Thresholds

KEY_COLUMNS = ("employee_no", "object_key", "period_key")
LEVEL_COLUMN = "level__"
#: hits per page when the settings do not say (``PROBITY_RULE_HIT_PAGE_SIZE``)
PAGE_SIZE = 5000


def level_case(thresholds: Thresholds) -> str:
    """The SQL CASE that maps the measure to high/medium/low/none (NULL is none)."""
    op = ">=" if thresholds.direction == "above" else "<="
    measure = ident(thresholds.measure)
    arms = [
        f"WHEN {measure} {op} {float(bound)!r} THEN '{name}'"
        for name, bound in (("high", thresholds.high), ("medium", thresholds.medium), ("low", thresholds.low))
        if bound is not None
    ]
    return f"CASE {' '.join(arms)} ELSE 'none' END"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def as_text(name: str, kinds: dict[str, str], width: int | None = None) -> str:
    """A key (``employee_no``, ``object_key``, ``period_key``) as text (:func:`key_text`, 'None'
    for NULL), cut to the column's width."""
    out = f"coalesce({key_text(name, kinds[name])}, 'None')"
    return f"left({out}, {width})" if width else out


def json_value(expr: str, kind: str) -> str:
    """A column's value as the evidence stores it: numbers and text as they are, dates and times
    in ISO form, decimals as floats, non-finite floats as null, anything else as text."""
    if kind in NATIVE_TYPES:
        return expr
    if kind in {"DOUBLE", "FLOAT"}:
        return f"CASE WHEN isfinite({expr}) THEN {expr} END"
    if kind.startswith("DECIMAL"):
        return f"CAST({expr} AS DOUBLE)"
    if kind == "TIMESTAMP":
        return (
            f"CASE WHEN microsecond({expr}) % 1000000 = 0 THEN strftime({expr}, '%Y-%m-%dT%H:%M:%S') "
            f"ELSE strftime({expr}, '%Y-%m-%dT%H:%M:%S.%f') END"
        )
    return f"CAST({expr} AS VARCHAR)"


def evidence_sql(columns: list[tuple[str, str]], thresholds: Thresholds, rule_version: int) -> str:
    """The evidence object of one hit, as a DuckDB struct (``to_json`` makes it an object)."""
    kinds = dict(columns)
    values = [
        f"{ident(name)} := {json_value(ident(name), kind)}"
        for name, kind in columns
        if name not in (*KEY_COLUMNS, LEVEL_COLUMN)
    ]
    measure = thresholds.measure
    value = (
        json_value(ident(measure), kinds[measure])
        if measure in kinds and measure not in (*KEY_COLUMNS, LEVEL_COLUMN)
        else "NULL"
    )
    packed = f"struct_pack({', '.join(values)})" if values else "MAP {}"
    bounds = " ".join(
        f"WHEN '{name}' THEN {float(bound)!r}"
        for name, bound in (("high", thresholds.high), ("medium", thresholds.medium), ("low", thresholds.low))
        if bound is not None
    )
    return (
        f"struct_pack(measure := {literal(measure)}, value := {value}, "
        f"direction := {literal(thresholds.direction)}, bound := CASE {LEVEL_COLUMN} {bounds} END, "
        f"rule_version := {int(rule_version)}, employee_no := {as_text('employee_no', kinds)}, "
        f'"values" := {packed})'
    )


@dataclass
class Outcome:
    #: rows per level, "none" included
    levels: dict[str, int] = field(default_factory=dict)
    #: non-green hits per (employee number, level): who is unknown, what a trial run reports
    by_employee: dict[tuple[str, str], int] = field(default_factory=dict)
    #: the non-green hits, in pages (None when there are none); whoever takes the outcome closes them
    pages: HitPages | None = None
    query_ms: int = 0

    def close(self) -> None:
        if self.pages is not None:
            self.pages.close()


def evaluate(
    sql: str,
    params: dict[str, Any],
    thresholds: Thresholds,
    rule_version: int,
    page_size: int = PAGE_SIZE,
    spool: Path | None = None,
) -> Callable[[duckdb.DuckDBPyConnection], Outcome]:
    """Work for :meth:`BusinessStore.run`: one execution of the rule, levels and evidence in SQL.
    The hits' pages read from ``cur`` and drop its ``run_hits`` when closed: ``cur`` stays open
    until then. With ``spool``, the sorted hits are written to that Parquet file instead and the
    pages read it (a private DuckDB): ``cur`` is free when this returns (the DuckDB file is not held
    while the operational database stores the hits)."""

    def work(cur: duckdb.DuckDBPyConnection) -> Outcome:
        started = time.perf_counter()
        cur.execute(
            f"CREATE TEMP TABLE run_hits AS SELECT rule.*, {level_case(thresholds)} AS {LEVEL_COLUMN} "  # noqa: S608
            f"FROM ({sql}) AS rule",
            params,
        )
        try:
            out = summarise(cur, thresholds, rule_version, page_size, spool)
        except BaseException:
            cur.execute("DROP TABLE IF EXISTS run_hits")
            raise

        def drop() -> None:
            cur.execute("DROP TABLE IF EXISTS run_hits")

        if out.pages is None or spool is not None:
            drop()
        else:
            out.pages.on_close(drop)
        out.query_ms = round((time.perf_counter() - started) * 1000)
        return out

    return work


def summarise(
    cur: duckdb.DuckDBPyConnection,
    thresholds: Thresholds,
    rule_version: int,
    page_size: int = PAGE_SIZE,
    spool: Path | None = None,
) -> Outcome:
    """Levels, hits per employee and the hits' pages from ``run_hits`` (the rule's rows with their
    level). The hits' query is sorted before this returns (inside the run's time limit); its rows
    are fetched a page at a time (from ``cur``, or from the ``spool`` file it was written to)."""
    out = Outcome()
    counts = cur.execute(f"SELECT {LEVEL_COLUMN}, count(*) FROM run_hits GROUP BY ALL")  # noqa: S608
    out.levels = {str(level): int(n) for level, n in counts.fetchall()}
    if sum(n for level, n in out.levels.items() if level != "none"):
        columns = [(str(r[0]), str(r[1])) for r in cur.execute("DESCRIBE run_hits").fetchall()]
        kinds = dict(columns)
        employee = as_text("employee_no", kinds)
        out.by_employee = {
            (str(no), str(level)): int(n)
            for no, level, n in cur.execute(
                f"SELECT {employee}, {LEVEL_COLUMN}, count(*) FROM run_hits "  # noqa: S608
                f"WHERE {LEVEL_COLUMN} <> 'none' GROUP BY ALL"
            ).fetchall()
        }
        hit = (
            f"struct_pack(e := {employee}, o := {as_text('object_key', kinds, 128)}, "
            f"p := {as_text('period_key', kinds, 32)}, l := {LEVEL_COLUMN}, "
            f"v := {evidence_sql(columns, thresholds, rule_version)})"
        )
        query = (
            f"SELECT hit.o AS o, hit.p AS p, CAST(to_json(hit) AS VARCHAR) AS j FROM (SELECT {hit} AS hit "  # noqa: S608
            f"FROM run_hits WHERE {LEVEL_COLUMN} <> 'none') ORDER BY hit.o, hit.p, "
            f"{LEVEL_RANK.format(level='hit.l')} DESC, hit.e"
        )
        if spool is None:
            cur.execute(query)
            out.pages = HitPages(cur.fetchmany, page_size)
        else:
            try:
                cur.execute(f"COPY ({query}) TO {lit(str(spool))} (FORMAT parquet)")
                out.pages = spooled(spool, page_size)
            except BaseException:
                spool.unlink(missing_ok=True)
                raise
    return out


def spooled(path: Path, page_size: int) -> HitPages:
    """Pages over a run's sorted hits written to ``path`` (read in the file's order), removed when
    the pages are closed."""
    con = duckdb.connect(":memory:")
    con.execute(f"SELECT o, p, j FROM read_parquet({lit(str(path))})")  # noqa: S608

    def close() -> None:
        con.close()
        path.unlink(missing_ok=True)

    return HitPages(con.fetchmany, page_size, close)
