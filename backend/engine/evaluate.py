"""One execution of a rule in DuckDB, levels and warning evidence made in SQL.

The rule's rows land in a temporary table with their level (a CASE over the thresholds); the
non-green ones leave DuckDB as *one* JSON array, each element the warning to store: employee
number, object, period, level and the evidence object (measure, value, bound, rule version,
the rule's other columns). Python never touches the hits one by one: the operational database
reads the array in one INSERT … SELECT (``backend.warnings.hits.store_payload``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from backend.data.keys import NATIVE_TYPES, key_text
from backend.data.store import ident
from backend.topics.models import Thresholds

KEY_COLUMNS = ("employee_no", "object_key", "period_key")
LEVEL_COLUMN = "level__"


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
    #: the non-green hits as one JSON array (None when there are none)
    payload: str | None = None
    query_ms: int = 0


def evaluate(
    sql: str, params: dict[str, Any], thresholds: Thresholds, rule_version: int
) -> Callable[[duckdb.DuckDBPyConnection], Outcome]:
    """Work for :meth:`BusinessStore.run`: one execution of the rule, levels and evidence in SQL."""

    def work(cur: duckdb.DuckDBPyConnection) -> Outcome:
        started = time.perf_counter()
        cur.execute(
            f"CREATE TEMP TABLE run_hits AS SELECT rule.*, {level_case(thresholds)} AS {LEVEL_COLUMN} "  # noqa: S608
            f"FROM ({sql}) AS rule",
            params,
        )
        try:
            out = summarise(cur, thresholds, rule_version)
        finally:
            cur.execute("DROP TABLE run_hits")
        out.query_ms = round((time.perf_counter() - started) * 1000)
        return out

    return work


def summarise(cur: duckdb.DuckDBPyConnection, thresholds: Thresholds, rule_version: int) -> Outcome:
    """Levels, hits per employee and the warnings' JSON array from ``run_hits`` (the rule's rows
    with their level: a table here, a view over the Spark engine's output in
    :mod:`backend.engine.engines`)."""
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
        row = cur.execute(
            f"SELECT CAST(to_json(list({hit})) AS VARCHAR) FROM run_hits "  # noqa: S608
            f"WHERE {LEVEL_COLUMN} <> 'none'"
        ).fetchone()
        out.payload = str(row[0]) if row and row[0] is not None else None
    return out
