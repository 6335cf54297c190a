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

from backend.data.sandbox import RuleRejected
from backend.data.store import ident
from backend.topics.models import Thresholds

KEY_COLUMNS = ("employee_no", "object_key", "period_key")
LEVEL_COLUMN = "level__"
#: DuckDB types whose values are JSON numbers, booleans or strings as they are
NATIVE_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "BOOLEAN",
        "VARCHAR",
    }
)


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


#: integer types: their text is Python's ``str()`` of the int already
INTEGER_TYPES = frozenset(NATIVE_TYPES - {"BOOLEAN", "VARCHAR"})
#: timestamps Python receives as ``datetime`` (TIMESTAMP_NS cut to microseconds toward zero)
TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})
#: ``str()`` of what Python receives for an infinite DATE / TIMESTAMP (date.max, datetime.min …)
INFINITE = {
    "DATE": ("'9999-12-31'", "'0001-01-01'"),
    "TIMESTAMP": ("'9999-12-31 23:59:59.999999'", "'0001-01-01 00:00:00'"),
}


def _decimal_text(expr: str, scale: int) -> str:
    """Python's ``str(Decimal)`` of a DECIMAL(p, s): DuckDB's text, but scientific (``1.00E-8``,
    ``0E-10``) where the adjusted exponent is below -6, which only a scale above 6 allows."""
    text = f"CAST({expr} AS VARCHAR)"
    if scale <= 6:
        return text
    digits = f"coalesce(nullif(ltrim(replace(replace({text}, '-', ''), '.', ''), '0'), ''), '0')"
    adjusted = f"(length({digits}) - 1 - {scale})"
    scientific = (
        f"CASE WHEN {expr} < 0 THEN '-' ELSE '' END || left({digits}, 1) "
        f"|| CASE WHEN length({digits}) > 1 THEN '.' || substr({digits}, 2) ELSE '' END "
        f"|| 'E' || CAST({adjusted} AS VARCHAR)"
    )
    return f"CASE WHEN {adjusted} < -6 THEN {scientific} ELSE {text} END"


def key_text(name: str, kind: str) -> str:
    """A key column's value as text, exactly as Python's ``str()`` of the value the DuckDB client
    returns (as keys were made before DuckDB made them): VARCHAR, UUID and integers as they are,
    BOOLEAN 'True'/'False', DATE and TIMESTAMP as ``date``/``datetime`` print (microseconds only
    when there are some, six digits), DOUBLE and FLOAT as Python floats print, DECIMAL as
    ``Decimal`` prints. Other types (TIMESTAMP WITH TIME ZONE, TIME, INTERVAL, BLOB, nested …)
    would give text that depends on DuckDB's version or session: the rule is rejected and must
    cast such a key to VARCHAR itself. NULL (of any type) is 'None'."""
    expr = ident(name)
    if kind == '"NULL"':
        return "NULL"
    if kind in INTEGER_TYPES or kind in {"VARCHAR", "UUID"}:
        return f"CAST({expr} AS VARCHAR)"
    if kind == "BOOLEAN":
        return f"CASE {expr} WHEN true THEN 'True' WHEN false THEN 'False' END"
    if kind == "DOUBLE":
        return f"CAST({expr} AS VARCHAR)"
    if kind == "FLOAT":
        return f"CAST(CAST({expr} AS DOUBLE) AS VARCHAR)"
    if kind.startswith("DECIMAL(") and kind.endswith(")"):
        return _decimal_text(expr, int(kind[len("DECIMAL(") : -1].split(",")[1]))
    if kind == "DATE":
        text = f"CAST({expr} AS VARCHAR)"
    elif kind in TIMESTAMP_TYPES:
        ts = {
            "TIMESTAMP": expr,
            "TIMESTAMP_NS": f"make_timestamp(epoch_ns({expr}) // 1000)",
        }.get(kind, f"CAST({expr} AS TIMESTAMP)")
        text = (
            f"CASE WHEN microsecond({ts}) % 1000000 = 0 THEN strftime({ts}, '%Y-%m-%d %H:%M:%S') "
            f"ELSE strftime({ts}, '%Y-%m-%d %H:%M:%S.%f') END"
        )
        kind = "TIMESTAMP"
    else:
        raise RuleRejected(
            f"rule rejected: the key column {name} is {kind}; cast it to VARCHAR in the rule "
            "(keys are VARCHAR, integers, BOOLEAN, DATE, TIMESTAMP, DECIMAL, DOUBLE or FLOAT)",
            extra={"column": name, "type": kind},
        )
    later, earlier = INFINITE[kind]
    infinite = f"CASE WHEN {expr} > DATE '2000-01-01' THEN {later} ELSE {earlier} END"
    return f"CASE WHEN isinf({expr}) THEN {infinite} ELSE {text} END"


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
        out = Outcome()
        cur.execute(
            f"CREATE TEMP TABLE run_hits AS SELECT rule.*, {level_case(thresholds)} AS {LEVEL_COLUMN} "  # noqa: S608
            f"FROM ({sql}) AS rule",
            params,
        )
        try:
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
        finally:
            cur.execute("DROP TABLE run_hits")
        out.query_ms = round((time.perf_counter() - started) * 1000)
        return out

    return work
