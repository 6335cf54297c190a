# ruff: noqa: S608  -- generator SQL built from our own constants and integers
"""Synthetic business data for the six built-in topics, generated inside DuckDB (no per-row Python).

Anomalies are planted by formula so every colour appears and lands on known demo people:
the meter swap of account 0 (manager E0005) and of the next account (manager2 E0006) are red, …
``scale`` grows accounts and days for benchmarks (``readings = accounts × days``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

#: customer managers, meter installers, repair crew leaders, buyers of the demo organisation
MANAGERS = ["E0005", "E0006", "E0101", "E0102", "E0103", "E0110", "E0111", "E0112", "E0117", "E0133",
            "E0134", "E0139", "E0140", "E0141", "E0145"]  # fmt: skip
INSTALLERS = ["E0104", "E0105", "E0113", "E0135", "E0142"]
REPAIRERS = ["E0108", "E0116", "E0129", "E0130", "E0131", "E0132", "E0137"]
BUYERS = ["E0125", "E0126", "E0127", "E0148", "E0149"]
START = "2026-09-01"


@dataclass(frozen=True)
class Size:
    accounts: int = 200
    days: int = 60
    swaps: int = 40

    @classmethod
    def for_readings(cls, readings: int, swaps: int = 5000, days: int = 100) -> Size:
        return cls(accounts=max(readings // days, 200), days=days, swaps=swaps)


def _list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def generate(target: Path, size: Size, tables: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Write one CSV per business table into ``target``; returns {table: path}."""
    target.mkdir(parents=True, exist_ok=True)
    n, days, swaps = size.accounts, size.days, min(size.swaps, size.accounts)
    managers, installers = _list(MANAGERS), _list(INSTALLERS)
    queries = {
        "accounts": f"""
            SELECT 'A' || lpad(i::VARCHAR, 7, '0') AS account_no, '客户' || i AS customer_name,
                   {managers}[i % {len(MANAGERS)} + 1] AS manager_no,
                   CASE WHEN i % 10 = 0 THEN 10.0 ELSE 0.4 END AS voltage_kv,
                   200 + (i % 7) * 100 AS capacity_kva, 25.0 AS tariff
            FROM range({n}) t(i)""",
        "meter_swaps": f"""
            SELECT 'SW' || lpad(k::VARCHAR, 6, '0') AS swap_id,
                   'A' || lpad(((k * 7919) % {n})::VARCHAR, 7, '0') AS account_no,
                   DATE '{START}' + (10 + (k * 31) % ({days} - 20))::INTEGER AS swap_date,
                   strftime(DATE '{START}' + (10 + (k * 31) % ({days} - 20))::INTEGER, '%Y-%m') AS month,
                   {installers}[k % {len(INSTALLERS)} + 1] AS installer_no,
                   {managers}[k % {len(MANAGERS)} + 1] AS manager_no
            FROM range({swaps}) t(k)""",
        "meter_readings": f"""
            WITH planted AS (
                SELECT (k * 7919) % {n} AS i, 10 + (k * 31) % ({days} - 20) AS swap_day,
                       CASE k % 20 WHEN 0 THEN 7 WHEN 1 THEN 7 WHEN 2 THEN 5 WHEN 5 THEN 5
                                   WHEN 3 THEN 3 WHEN 8 THEN 3 WHEN 15 THEN 3 ELSE 0 END AS zero_days
                FROM range({swaps}) t(k))
            SELECT 'A' || lpad(a.i::VARCHAR, 7, '0') AS account_no,
                   DATE '{START}' + d.d::INTEGER AS reading_date,
                   strftime(DATE '{START}' + d.d::INTEGER, '%Y-%m') AS month,
                   CASE WHEN d.d > p.swap_day AND d.d <= p.swap_day + p.zero_days THEN 0.0
                        ELSE round(3 + (hash(a.i * 100003 + d.d) % 1000) / 50.0, 1) END AS kwh
            FROM range({n}) a(i) CROSS JOIN range({days}) d(d) LEFT JOIN planted p ON p.i = a.i""",
        "billing": f"""
            SELECT 'A' || lpad(i::VARCHAR, 7, '0') AS account_no, m.month,
                   round((200 + (i % 7) * 100) * 25.0 * CASE WHEN m.last THEN
                       CASE i % 40 WHEN 0 THEN 0.4 WHEN 20 THEN 0.45 WHEN 30 THEN 0.65
                                   WHEN 10 THEN 0.85 ELSE 1 END
                       ELSE 1 END, 2) AS basic_fee_billed
            FROM range({n}) t(i),
                 (VALUES ('2026-09', false), ('2026-10', true)) m(month, last)
            WHERE i % 10 = 0""",
        "payments": f"""
            SELECT TIMESTAMP '2026-10-05 09:00:00' + INTERVAL (i % 600) MINUTE AS paid_at,
                   'M' || (100 + i % 5) AS merchant_code, 'T' || (1000 + i % 20) AS terminal_no,
                   round(50 + (hash(i) % 5000) / 10.0, 2) AS amount,
                   CASE WHEN i % 15 = 1 AND i < 135 THEN 'C9000001'
                        WHEN i % 15 = 0 AND i < 90 THEN 'C9000002'
                        WHEN i % 15 = 2 AND i < 45 THEN 'C9000003'
                        ELSE 'C' || lpad(i::VARCHAR, 7, '0') END AS card_no,
                   'A' || lpad(i::VARCHAR, 7, '0') AS account_no, 'success' AS result, '2026-10' AS month
            FROM range({n}) t(i)""",
        "repairs": f"""
            SELECT 'RO' || lpad(j::VARCHAR, 5, '0') AS order_no, '2026-10' AS month,
                   {_list(REPAIRERS)}[j % {len(REPAIRERS)} + 1] AS leader_no,
                   CASE WHEN j IN (0, 8) THEN 1 ELSE 2 + j % 3 END AS crew_size,
                   j NOT IN (0, 16) AS materials_recorded,
                   TIMESTAMP '2026-10-01 08:00:00' + INTERVAL (j * 7) HOUR AS finished_at
            FROM range(60) t(j)""",
        "purchases": f"""
            SELECT 'PO' || lpad(j::VARCHAR, 5, '0') AS po_no,
                   CASE WHEN j < 9 THEN 'S00' || (1 + (j >= 4)::INTEGER + (j >= 7)::INTEGER)
                        ELSE 'S' || (100 + j % 13) END AS supplier_code,
                   CASE WHEN j < 4 THEN 'E0125' WHEN j < 7 THEN 'E0126' WHEN j < 9 THEN 'E0148'
                        ELSE {_list(BUYERS)}[j % {len(BUYERS)} + 1] END AS buyer_no,
                   CASE WHEN j < 9 THEN 190000 + j * 1000 ELSE 10000 + (hash(j) % 140000) END AS amount,
                   DATE '2026-10-01' + (j % 28)::INTEGER AS ordered_on, '2026-10' AS month
            FROM range(80) t(j)""",
    }
    out: dict[str, Path] = {}
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    try:
        for table, query in queries.items():
            if tables is not None and table not in tables:
                continue
            path = target / f"{table}.csv"
            con.execute(f"COPY ({query}) TO '{path}' (HEADER, DELIMITER ',')")
            out[table] = path
    finally:
        con.close()
    return out
