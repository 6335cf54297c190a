"""Object and period keys of hits are Python's str() of the value the DuckDB client returns, as
they were when Python made them: a rule's keys keep matching the warnings of earlier runs."""

from __future__ import annotations

import duckdb
import pytest

from backend.data.sandbox import RuleRejected
from backend.engine.evaluate import evaluate
from backend.topics.models import Thresholds
from tests.engine.helpers import drain

THRESHOLDS = Thresholds(measure="m", direction="above", high=1)

VALUES = [
    "'A-001 王'",
    "''",
    "42",
    "-7::TINYINT",
    "4611686018427387904::BIGINT",
    "170141183460469231731687303715884105727::HUGEINT",
    "18446744073709551615::UBIGINT",
    "true",
    "false",
    "NULL::BOOLEAN",
    "NULL",
    "DATE '2026-01-01'",
    "DATE '0099-01-02'",
    "'infinity'::DATE",
    "'-infinity'::DATE",
    "TIMESTAMP '2026-01-01 00:00:00'",
    "TIMESTAMP '2026-01-01 00:00:00.5'",
    "TIMESTAMP '2026-01-01 08:30:00.000001'",
    "TIMESTAMP '2026-01-01 08:30:00.123456'",
    "TIMESTAMP '0099-01-02 03:04:05.25'",
    "TIMESTAMP '1969-12-31 23:59:59.75'",
    "'infinity'::TIMESTAMP",
    "'-infinity'::TIMESTAMP",
    "TIMESTAMP_S '2026-01-01 00:00:01'",
    "TIMESTAMP_MS '2026-01-01 00:00:00.123'",
    "TIMESTAMP_NS '2026-01-01 00:00:00.123456789'",
    "TIMESTAMP_NS '2026-01-01 00:00:00.000000999'",
    "TIMESTAMP_NS '1969-12-31 23:59:59.999999999'",
    "12.50::DECIMAL(10, 2)",
    "-0.05::DECIMAL(10, 2)",
    "12::DECIMAL(10, 0)",
    "0.000001::DECIMAL(18, 6)",
    "0.00000001::DECIMAL(18, 10)",
    "0::DECIMAL(18, 10)",
    "-0.00000123::DECIMAL(18, 10)",
    "-0.000000123::DECIMAL(18, 10)",
    "123.5::DECIMAL(38, 10)",
    "1.5::DOUBLE",
    "3.0::DOUBLE",
    "-0.0::DOUBLE",
    "1e16::DOUBLE",
    "1e15::DOUBLE",
    "1e-05::DOUBLE",
    "'nan'::DOUBLE",
    "'-inf'::DOUBLE",
    "0.1::FLOAT",
    "'6b2f3c1e-9a57-4e0b-8d0c-2f1b7a1c9e11'::UUID",
]


def keys_of(cur: duckdb.DuckDBPyConnection, value: str) -> tuple[str, str]:
    """(object key, period key) of the one hit of a rule returning ``value`` as both keys."""
    sql = f"SELECT 'E0005' AS employee_no, {value} AS object_key, {value} AS period_key, 2 AS m"
    (hit,) = drain(evaluate(sql, {}, THRESHOLDS, 1)(cur))
    return hit["o"], hit["p"]


@pytest.mark.parametrize("value", VALUES)
def test_a_key_is_pythons_str_of_the_value(value):
    with duckdb.connect() as cur:
        (python,) = cur.execute(f"SELECT {value}").fetchone()
        assert keys_of(cur, value) == (str(python)[:128], str(python)[:32])


@pytest.mark.parametrize(
    "value", ["TIMESTAMPTZ '2026-01-01 08:00:00+08'", "TIME '08:30:00.5'", "INTERVAL 3 DAY", "[1, 2]"]
)
def test_a_key_of_another_type_is_refused_with_the_column_named(value):
    with duckdb.connect() as cur, pytest.raises(RuleRejected, match="object_key") as refused:
        keys_of(cur, value)
    assert "VARCHAR" in refused.value.detail
