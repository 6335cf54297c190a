"""A burst beyond what the server can answer: a request that gets no database connection in time is
answered 503 ``server_busy`` with Retry-After (it did nothing; the PWA's outbox sends it again),
not 500 after 30 s."""

from __future__ import annotations

from contextlib import AsyncExitStack

from backend.app import app_state
from tests.conftest import make_settings


async def test_no_connection_in_time_is_503_with_retry_after(shared_app, settings, client, sessions):
    headers = await sessions.headers("manager")
    busy = make_settings(settings.data_dir.parent, settings.database_url, database_pool_timeout_seconds=0.3)
    shared_app.state.update(app_state(busy))  # a fresh pool (asyncpg connections keep their loop)
    engine = shared_app.state.db.engine
    async with AsyncExitStack() as held:  # every connection of the pool taken, as by a burst
        size = engine.pool.size() + engine.pool._max_overflow
        for _ in range(size):
            await held.enter_async_context(engine.connect())
        answer = await client.get("/api/notifications", headers=headers)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "server_busy"
        assert answer.headers["Retry-After"] == "5"
    await engine.dispose()
    shared_app.state.update(app_state(busy))
    again = await client.get("/api/notifications", headers=headers)
    assert again.status_code == 200
