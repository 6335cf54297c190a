"""The database's plan for a statement, as text (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's
EXPLAIN): for tests that a query keeps using the index that keeps it short as history grows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def analyze(session: AsyncSession) -> None:
    """The planner's statistics taken now (PostgreSQL's autovacuum takes them whenever it likes)."""
    await session.execute(text("ANALYZE"))
    await session.commit()


async def plan_of(session: AsyncSession, stmt: Any) -> str:
    dialect = session.get_bind().dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "sqlite":
        rows = await session.execute(text("EXPLAIN QUERY PLAN " + sql))
        return "\n".join(str(row[-1]) for row in rows)
    return "\n".join(str(row[0]) for row in await session.execute(text("EXPLAIN " + sql)))
