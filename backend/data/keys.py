"""Key columns of a rule (employee number, object, period) as text, made in DuckDB.

A hit's keys are stored as the text Python's ``str()`` gave the values the DuckDB client returned
(how keys were made before DuckDB made them), so a warning raised again is found again. Key types
whose text would depend on DuckDB's version or session are refused when the rule is saved
(``backend.data.service.check_rule``) and, for rules saved before that check, when it runs.
"""

from __future__ import annotations

from backend.data.sandbox import RuleRejected
from backend.data.store import ident

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
