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


async def test_requests_beyond_the_admitted_wait_in_order_and_in_time_get_503(
    shared_app, settings, client, sessions
):
    """At most ``max_active_requests`` work with the database at once; the others wait in arrival
    order before taking anything, and one that waits longer than the pool timeout gets 503."""
    import asyncio

    from backend.kernel.admission import Admission

    headers = await sessions.headers("manager")
    busy = make_settings(
        settings.data_dir.parent,
        settings.database_url,
        max_active_requests=1,
        database_pool_timeout_seconds=0.3,
    )
    shared_app.state.update(app_state(busy))
    admission: Admission = shared_app.state.admission
    async with admission.admitted():  # a request is working
        answer = await client.get("/api/notifications", headers=headers)
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "server_busy"
    assert (await client.get("/api/notifications", headers=headers)).status_code == 200

    order: list[int] = []
    gate = Admission(1, 5.0)

    async def one(n: int) -> None:
        async with gate.admitted():
            assert gate.active == 1  # never two at once
            order.append(n)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(one(n) for n in range(5)))
    assert order == [0, 1, 2, 3, 4]  # in arrival order
    await shared_app.state.db.engine.dispose()
    shared_app.state.update(app_state(settings))
