"""Helpers for tests of the change watch (PostgreSQL, backend/kernel/watch.py)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from backend.kernel.watch import CHANNEL, ChangeWatch, change_watch


def watching(settings: Any) -> Any:
    """The test's settings with the watch on (PostgreSQL; skips on SQLite, which needs none)."""
    if settings.is_sqlite:
        pytest.skip("the change watch is PostgreSQL's (SQLite reads inline and keeps by its triggers)")
    return settings.model_copy(update={"watch_changes": True})


async def listening(app: Any) -> ChangeWatch:
    """The app's watch, once it listens."""
    watch = change_watch(app.state.db.engine)
    assert watch is not None
    async with asyncio.timeout(10):
        await watch.ready.wait()
    return watch


async def behind_the_app(settings: Any, sql: str, *params: Any) -> None:
    """A write by another process (a rule run from the CLI, psql): the app is only notified."""
    conn = await asyncpg.connect(settings.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql, *params)
    finally:
        await conn.close()


async def all_heard(settings: Any, watch: ChangeWatch) -> None:
    """Until the watch has heard every notification committed so far (a sign-in's, which a busy
    machine may deliver after the test's first request): PostgreSQL delivers notifications in
    commit order, so once one sent now is heard, the earlier ones were."""
    mark = uuid.uuid4().hex
    await behind_the_app(settings, "SELECT pg_notify($1, $2)", CHANNEL, f"test-sync:{mark}")
    async with asyncio.timeout(10):
        await watch.until(lambda: watch.version("test-sync", mark) != watch.version("test-sync", "none"))
