"""A hit's keys, level and evidence made in Spark SQL, the same text and values as on DuckDB.

The Spark counterpart of :mod:`backend.engine.evaluate` and :func:`backend.data.keys.key_text`:
keys are Python's ``str()`` of the value (as DuckDB makes them: ``True``, ``1e-05``,
``2026-01-01 08:30:00.5`` → ``…08:30:00.500000``, ``1.00E-8`` …), the evidence the same JSON object
(``to_json`` with null fields kept). The column types are the DuckDB names of the rule's Spark
result (:func:`backend.data.spark.duck_type`); key types DuckDB refuses are refused here too.
"""

from __future__ import annotations

from backend.data.keys import INTEGER_TYPES, NATIVE_TYPES
from backend.data.sandbox import RuleRejected
from backend.engine.evaluate import KEY_COLUMNS, LEVEL_COLUMN
from backend.topics.models import Thresholds

#: the columns of a run's hits as Spark writes them to the store (none rows: only the level)
HIT_COLUMNS = ("e", "o", "p", "hit")


def sident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def slit(text: str) -> str:
    """A Spark SQL string literal (backslash escapes are on by default)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _finite(expr: str) -> str:
    return f"NOT isnan({expr}) AND abs({expr}) <> double('Infinity')"


def double_text(expr: str) -> str:
    """Python's ``repr`` of a double: the fewest significant digits that read back as the same
    double (Java 17's ``Double.toString`` sometimes gives more), plain between 1e-4 and 1e16, else
    ``1.5e+20`` / ``1e-05``; ``nan``, ``inf``, ``-inf``, ``-0.0``."""
    shortest = " ".join(
        f"WHEN CAST(format_string('%.{p - 1}e', {expr}) AS DOUBLE) = {expr} "
        f"THEN format_string('%.{p - 1}e', {expr})"
        for p in range(1, 18)
    )
    text = f"CASE {shortest} END"
    mantissa = f"substring_index({text}, 'e', 1)"
    exponent = f"CAST(substring_index({text}, 'e', -1) AS INT)"
    sign = f"CASE WHEN left(CAST({expr} AS STRING), 1) = '-' THEN '-' ELSE '' END"
    raw = f"replace(replace({mantissa}, '-', ''), '.', '')"
    digits = f"coalesce(nullif(regexp_replace({raw}, '0+$', ''), ''), '0')"
    rest = f"substr({digits}, 2)"
    scientific = (
        f"{sign} || left({digits}, 1) || CASE WHEN length({digits}) > 1 THEN '.' || {rest} ELSE '' END "
        f"|| 'e' || CASE WHEN {exponent} < 0 THEN '-' ELSE '+' END "
        f"|| CASE WHEN abs({exponent}) < 10 THEN '0' ELSE '' END || CAST(abs({exponent}) AS STRING)"
    )
    small = f"{sign} || '0.' || repeat('0', -{exponent} - 1) || {digits}"
    large = (
        f"{sign} || CASE WHEN length({digits}) <= {exponent} + 1 "
        f"THEN rpad({digits}, {exponent} + 1, '0') || '.0' "
        f"ELSE left({digits}, {exponent} + 1) || '.' || substr({digits}, {exponent} + 2) END"
    )
    return (
        f"CASE WHEN isnan({expr}) THEN 'nan' WHEN {expr} = double('Infinity') THEN 'inf' "
        f"WHEN {expr} = double('-Infinity') THEN '-inf' WHEN {expr} = 0 THEN {sign} || '0.0' "
        f"WHEN {exponent} BETWEEN -4 AND -1 THEN {small} "
        f"WHEN {exponent} BETWEEN 0 AND 15 THEN {large} ELSE {scientific} END"
    )


def _timestamp_text(expr: str, separator: str) -> str:
    whole = f"date_format({expr}, {slit(f'yyyy-MM-dd{separator}HH:mm:ss')})"
    return (
        f"CASE WHEN date_format({expr}, 'SSSSSS') = '000000' THEN {whole} "
        f"ELSE date_format({expr}, {slit(f'yyyy-MM-dd{separator}HH:mm:ss.SSSSSS')}) END"
    )


def key_text(name: str, kind: str) -> str:
    """:func:`backend.data.keys.key_text` in Spark SQL (Spark has no infinite dates)."""
    expr = sident(name)
    if kind == '"NULL"':
        return "CAST(NULL AS STRING)"
    if kind in INTEGER_TYPES or kind in {"VARCHAR", "DATE"}:
        return f"CAST({expr} AS STRING)"
    if kind == "BOOLEAN":
        return f"CASE {expr} WHEN true THEN 'True' WHEN false THEN 'False' END"
    if kind in {"DOUBLE", "FLOAT"}:
        return double_text(f"CAST({expr} AS DOUBLE)")
    if kind.startswith("DECIMAL(") and kind.endswith(")"):
        return f"CAST({expr} AS STRING)"  # Java's BigDecimal text: Python's Decimal text
    if kind == "TIMESTAMP":
        return _timestamp_text(expr, " ")
    raise RuleRejected(
        f"rule rejected: the key column {name} is {kind}; cast it to VARCHAR in the rule "
        "(keys are VARCHAR, integers, BOOLEAN, DATE, TIMESTAMP, DECIMAL, DOUBLE or FLOAT)",
        extra={"column": name, "type": kind},
    )


def as_text(name: str, kinds: dict[str, str], width: int | None = None) -> str:
    out = f"coalesce({key_text(name, kinds[name])}, 'None')"
    return f"left({out}, {width})" if width else out


def json_value(expr: str, kind: str) -> str:
    """:func:`backend.engine.evaluate.json_value` in Spark SQL."""
    if kind in NATIVE_TYPES:
        return expr
    if kind in {"DOUBLE", "FLOAT"}:
        return f"CASE WHEN {_finite(expr)} THEN {expr} END"
    if kind.startswith("DECIMAL"):
        return f"CAST({expr} AS DOUBLE)"
    if kind == "TIMESTAMP":
        return _timestamp_text(expr, "'T'")
    return f"CAST({expr} AS STRING)"


def evidence(columns: list[tuple[str, str]], thresholds: Thresholds, rule_version: int) -> str:
    """The evidence object of one hit as a Spark struct (the fields of the DuckDB one, in order)."""
    kinds = dict(columns)
    values = [
        f"{slit(name)}, {json_value(sident(name), kind)}"
        for name, kind in columns
        if name not in (*KEY_COLUMNS, LEVEL_COLUMN)
    ]
    measure = thresholds.measure
    value = (
        json_value(sident(measure), kinds[measure])
        if measure in kinds and measure not in (*KEY_COLUMNS, LEVEL_COLUMN)
        else "NULL"
    )
    packed = f"named_struct({', '.join(values)})" if values else "map()"
    bounds = " ".join(
        f"WHEN '{name}' THEN {float(bound)!r}D"
        for name, bound in (("high", thresholds.high), ("medium", thresholds.medium), ("low", thresholds.low))
        if bound is not None
    )
    return (
        f"named_struct('measure', {slit(measure)}, 'value', {value}, "
        f"'direction', {slit(thresholds.direction)}, 'bound', CASE {LEVEL_COLUMN} {bounds} END, "
        f"'rule_version', {int(rule_version)}, 'employee_no', {as_text('employee_no', kinds)}, "
        f"'values', {packed})"
    )


def hit_columns(columns: list[tuple[str, str]], thresholds: Thresholds, rule_version: int) -> list[str]:
    """The expressions over the rule's rows (with their level) that Spark writes for a run: the
    level, and for non-green rows the keys as text and the hit's JSON (``e o p l v``, as on
    DuckDB)."""
    kinds = dict(columns)
    hit = (
        f"named_struct('e', {as_text('employee_no', kinds)}, 'o', {as_text('object_key', kinds, 128)}, "
        f"'p', {as_text('period_key', kinds, 32)}, 'l', {LEVEL_COLUMN}, "
        f"'v', {evidence(columns, thresholds, rule_version)})"
    )
    green = f"{LEVEL_COLUMN} = 'none'"
    return [
        LEVEL_COLUMN,
        f"CASE WHEN {green} THEN NULL ELSE {as_text('employee_no', kinds)} END AS e",
        f"CASE WHEN {green} THEN NULL ELSE {as_text('object_key', kinds, 128)} END AS o",
        f"CASE WHEN {green} THEN NULL ELSE {as_text('period_key', kinds, 32)} END AS p",
        f"CASE WHEN {green} THEN NULL ELSE to_json({hit}, map('ignoreNullFields', 'false')) END AS hit",
    ]
