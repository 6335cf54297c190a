# ruff: noqa: S608  -- the indicator SQL is checked on its parse tree (backend/data/sandbox.py) first
"""Base indicators over business data: each indicator's SELECT is checked like a topic's rule
(one SELECT, declared business tables only, named parameters) and run on the sandboxed business
store with a time limit. It returns ``employee_no`` and ``value``; ``$period_start`` and
``$period_end`` are the round's period (DATE)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.data.parquet import ParquetStore, duckdb_reader
from backend.data.sandbox import RuleRejected, check_rule_sql
from backend.data.service import DataService
from backend.data.store import BusinessStore
from backend.evaluation.schemas import IndicatorDef
from backend.kernel.settings import Settings
from backend.org.models import Person

PARAMS = frozenset({"period_start", "period_end"})
COLUMNS = ("employee_no", "value")


async def check_indicators(
    session: AsyncSession, trail: AuditTrail, settings: Settings, indicators: Sequence[IndicatorDef]
) -> None:
    """Refuse (422 ``rule_rejected``) an indicator whose SQL is not a checked SELECT returning
    ``employee_no`` and ``value``, or that names a parameter other than the period's."""
    data = DataService(session, trail, settings)
    known = await data.table_names()
    for ind in indicators:
        checked = check_rule_sql(ind.sql, known)
        extra = sorted(set(checked.parameters) - PARAMS)
        if extra:
            raise RuleRejected(
                f"indicator {ind.code}: only $period_start and $period_end may be used, "
                f"not {', '.join(extra)}",
                extra={"indicator": ind.code},
            )
        params: dict[str, object] = {p: date(2000, 1, 1) for p in checked.parameters}

        def probe(
            cur: duckdb.DuckDBPyConnection, sql: str = checked.sql, bound: dict[str, object] = params
        ) -> list[str]:
            try:
                return [
                    str(d[0]) for d in cur.execute(f"SELECT * FROM ({sql}) AS ind LIMIT 0", bound).description
                ]
            except duckdb.Error as exc:
                raise RuleRejected(f"rule rejected: {exc}", extra={"reason": str(exc)}) from exc

        columns = await _on_store(data.store, settings, probe)
        missing = [c for c in COLUMNS if c not in columns]
        if missing:
            raise RuleRejected(
                f"indicator {ind.code}: the SELECT must return {', '.join(missing)}",
                extra={"indicator": ind.code},
            )


async def indicator_values(
    session: AsyncSession,
    trail: AuditTrail,
    settings: Settings,
    indicators: Sequence[IndicatorDef],
    start: date,
    end: date,
) -> dict[str, dict[int, float]]:
    """{indicator code: {person id: value}} over the period (people found by employee number)."""
    if not indicators:
        return {}
    data = DataService(session, trail, settings)
    known = await data.table_names()
    checked = [(ind.code, check_rule_sql(ind.sql, known)) for ind in indicators]
    store = data.store

    def work(cur: duckdb.DuckDBPyConnection) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for code, rule in checked:
            params = {p: (start if p == "period_start" else end) for p in rule.parameters}
            rows = cur.execute(
                f"SELECT CAST(employee_no AS VARCHAR), sum(CAST(value AS DOUBLE)) FROM ({rule.sql}) AS ind "
                "WHERE employee_no IS NOT NULL GROUP BY 1",
                params,
            ).fetchall()
            out[code] = {str(no): float(v or 0) for no, v in rows}
        return out

    by_no = await _on_store(store, settings, work)
    numbers = {no for values in by_no.values() for no in values}
    ids: dict[str, int] = {}
    if numbers:
        stmt = select(col(Person.employee_no), col(Person.id)).where(
            col(Person.employee_no).in_(sorted(numbers))
        )
        ids = {str(no): int(i or 0) for no, i in (await session.execute(stmt)).all()}
    return {code: {ids[no]: v for no, v in values.items() if no in ids} for code, values in by_no.items()}


async def _on_store(store: BusinessStore | ParquetStore, settings: Settings, work: Any) -> Any:
    """``work(cursor)`` on the business data: the DuckDB file (taking this process's turn), or a
    DuckDB reader over the shared Parquet store (where rules run on Spark, indicators — small, per
    round — still run on DuckDB over the same files)."""
    if isinstance(store, ParquetStore):

        def read() -> Any:
            con = duckdb_reader(store, settings.duckdb_memory_limit)
            timer = threading.Timer(settings.rule_timeout_seconds, con.interrupt)
            timer.start()
            try:
                return work(con)
            finally:
                timer.cancel()
                con.close()

        return await asyncio.to_thread(read)
    await asyncio.to_thread(store.acquire)
    try:
        return await asyncio.to_thread(store.run, work, settings.rule_timeout_seconds)
    finally:
        store.release()
