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


async def test_acts_waiting_are_admitted_before_reads_waiting_with_them():
    """Past capacity a reply or a decision goes before the lists waiting with it; each kind keeps
    its arrival order."""
    import asyncio

    from backend.kernel.admission import Admission

    gate = Admission(1, 5.0)
    order: list[str] = []
    release = asyncio.Event()

    async def one(name: str, act: bool) -> None:
        async with gate.admitted(act):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(one("first", False))
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(one(name, act))
        for name, act in [("read 1", False), ("reply", True), ("read 2", False), ("decision", True)]
    ]
    await asyncio.sleep(0)  # each runs up to its wait
    assert gate.waiting == 4
    release.set()
    await asyncio.gather(first, *waiting)
    assert order == ["first", "reply", "decision", "read 1", "read 2"]
    assert gate.active == 0 and gate.waiting == 0


async def test_a_slot_handed_to_a_waiter_that_is_cancelled_meanwhile_passes_on():
    """The slot is handed over when the holder finishes; if the waiter is cancelled (its client
    went away, or its wait ran out) before it resumes, it gives the slot to the next one: none is
    lost, so the process does not slowly stop admitting anyone."""
    import asyncio

    from backend.kernel.admission import Admission

    gate = Admission(1, 5.0)
    admitted: list[str] = []

    async def one(name: str) -> None:
        async with gate.admitted():
            admitted.append(name)

    async with gate.admitted():  # this request holds the only slot
        gone = asyncio.create_task(one("gone"))
        later = asyncio.create_task(one("later"))
        await asyncio.sleep(0)  # both run up to their wait
        assert gate.waiting == 2
    # the slot was handed to "gone" as the block ended; its task is cancelled before it resumes
    gone.cancel()
    await asyncio.wait_for(later, 2.0)
    assert admitted == ["later"]
    assert gate.active == 0 and gate.waiting == 0


def test_the_number_admitted_at_once_follows_the_processors_unless_set(settings, monkeypatch):
    from backend.kernel import settings as settings_module

    automatic = settings.model_copy(update={"max_active_requests": 0})
    for processors, admitted in [(1, 4), (2, 4), (3, 6), (8, 16), (64, 32)]:
        monkeypatch.setattr(settings_module, "processors", lambda n=processors: n)
        assert automatic.active_limit == admitted, processors
    assert settings.model_copy(update={"max_active_requests": 7}).active_limit == 7


async def test_a_request_waiting_on_an_outside_service_gives_its_slot_back_meanwhile():
    """A sign-in waiting on the messenger's API holds no slot: another request is admitted
    meanwhile; after, the sign-in takes a slot again before the reads waiting. If it cannot in
    time it gets 503 and gives back nothing it does not hold."""
    import asyncio

    import pytest
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from backend.kernel.admission import Admission

    gate = Admission(1, 5.0)
    order: list[str] = []
    out, back, holder_done = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def sign_in() -> None:
        async with gate.admitted() as ticket:
            async with gate.stepped_out(ticket):
                out.set()
                await back.wait()  # the messenger's API
            order.append("sign-in")

    async def holder() -> None:
        async with gate.admitted():
            order.append("holder")
            await holder_done.wait()

    async def read() -> None:
        async with gate.admitted():
            order.append("read")

    signing = asyncio.create_task(sign_in())
    await out.wait()
    holding = asyncio.create_task(holder())
    await asyncio.sleep(0)
    assert order == ["holder"]  # admitted while the sign-in waits on the messenger
    reading = asyncio.create_task(read())
    await asyncio.sleep(0)
    back.set()  # the messenger answers: the sign-in waits for a slot again, as an act
    await asyncio.sleep(0)
    assert gate.waiting == 2
    holder_done.set()
    await asyncio.gather(signing, holding, reading)
    assert order == ["holder", "sign-in", "read"]
    assert gate.active == 0 and gate.waiting == 0

    # the slot cannot be taken again in time: 503, and the block releases nothing it does not hold
    gate = Admission(1, 0.05)
    busy = asyncio.Event()

    async def hog() -> None:
        async with gate.admitted():
            await busy.wait()

    with pytest.raises(PoolTimeout):
        async with gate.admitted() as ticket, gate.stepped_out(ticket):
            hogging = asyncio.create_task(hog())
            await asyncio.sleep(0)
    assert gate.active == 1  # the other request's slot, still held
    busy.set()
    await hogging
    assert gate.active == 0 and gate.waiting == 0
