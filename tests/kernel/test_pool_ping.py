"""PostgreSQL's pooled connections are checked before use only after an idle spell (db.py
``ping_when_idle``): a connection the server closed meanwhile is replaced unseen, and one given
back moments ago is used without the three round trips of a check."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from backend.kernel.db import Database
from tests.watching import behind_the_app


def postgres_only(settings: Any, **update: Any) -> Any:
    if settings.is_sqlite:
        pytest.skip("a pool of server connections is PostgreSQL's (SQLite opens files)")
    return settings.model_copy(update=update)


async def backend_pid(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_the_server_closed_while_idle_is_replaced_unseen(settings):
    db = Database(postgres_only(settings, database_ping_idle_seconds=0.05))
    try:
        first = await backend_pid(db)
        # the server ends it while it waits in the pool (a restart, an idle timeout, a firewall)
        await behind_the_app(settings, "SELECT pg_terminate_backend($1)", first)
        await asyncio.sleep(0.2)
        assert await backend_pid(db) != first  # answered, on a new connection
    finally:
        await db.dispose()


@pytest.mark.parametrize(("idle_seconds", "checks"), [(60.0, 0), (0.0, 4)])
async def test_a_connection_given_back_moments_ago_is_not_checked(
    settings, monkeypatch, idle_seconds, checks
):
    db = Database(postgres_only(settings, database_ping_idle_seconds=idle_seconds))
    pings: list[Any] = []
    real = db.engine.dialect.do_ping

    def counted(dbapi: Any) -> bool:
        pings.append(dbapi)
        return bool(real(dbapi))

    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    try:
        pids = {await backend_pid(db) for _ in range(5)}
        assert len(pids) == 1  # one pooled connection, used five times
        assert len(pings) == checks  # never (idle 60 s), or at each use but the first (0)
    finally:
        await db.dispose()
