"""Once, under leases: a late report moves nothing, a lost lease is an attempt (and the last one
wakes the next channel), a claim records as lost only what it really took over, a batch that
outlives one lease is not sent twice, and outcomes are written as each message finishes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.delivery.claimed import Outcome
from backend.delivery.models import Delivery, DeliveryAttempt, DeliveryRoute
from backend.delivery.outbox import Outbox
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from tests.conftest import make_settings
from tests.delivery.conftest import TRAIL, World, new_browser
from tests.delivery.fakes import FakePushService, HttpReceiver


async def rows(world: World, model):
    async with world.db.session() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())


async def claim(world: World, worker: str, now, settings: Settings | None = None):
    async with world.db.session() as s:
        return await Outbox(s, settings or world.settings, TRAIL).claim(worker, now=now)


async def test_a_late_report_of_sent_closes_nothing_the_new_owner_holds(
    world: World, push: FakePushService, receiver: HttpReceiver
):
    """The first worker's lease ran out and a second worker holds the delivery: the first one's
    late "sent" neither marks the route delivered nor skips its fallback channel."""
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.policy("P00", "sms", url=f"json://127.0.0.1:{receiver.port}/sms?:phone={{address}}")
    await world.address(manager, "sms", "13900000005")
    await world.order(manager, ["webpush", "sms"])
    await world.event({manager: "subject"})
    now = utcnow()
    async with world.db.session() as s:
        await Outbox(s, world.settings, TRAIL).route_new(now=now)
    [old] = await claim(world, "first", now)
    later = now + timedelta(seconds=world.settings.delivery_lease_seconds + 1)
    [new] = await claim(world, "second", later)
    assert new.delivery_id == old.delivery_id and new.lease != old.lease

    async with world.db.session() as s:
        await Outbox(s, world.settings, TRAIL).complete([Outcome(old, "sent")], "first", now=later)

    by_channel = {d.channel: d for d in await rows(world, Delivery)}
    assert by_channel["webpush"].state == "leased" and by_channel["webpush"].lease_owner == new.lease
    assert by_channel["sms"].state == "waiting"  # still there should web push fail
    [route] = await rows(world, DeliveryRoute)
    assert route.state == "routing"

    async with world.db.session() as s:  # the holder's own report does move it on
        await Outbox(s, world.settings, TRAIL).complete([Outcome(new, "failed")], "second", now=later)
    by_channel = {d.channel: d for d in await rows(world, Delivery)}
    assert by_channel["webpush"].state == "failed" and by_channel["sms"].state == "pending"


async def test_a_claim_records_as_lost_only_the_leases_it_really_took_over(
    world: World, push: FakePushService
):
    """Two workers pick the same expired lease; the second takes it over between the first one's
    read and its update. Only the one that took it records a lost attempt (and sends it)."""
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.event({manager: "subject"})
    now = utcnow()
    async with world.db.session() as s:
        await Outbox(s, world.settings, TRAIL).route_new(now=now)
    assert len(await claim(world, "dead", now)) == 1  # its worker dies: the lease runs out
    later = now + timedelta(seconds=world.settings.delivery_lease_seconds + 1)

    taken_meanwhile: list = []
    async with world.db.session() as slow:
        execute = slow.execute
        calls = 0

        async def pause_after_reading(*args, **kwargs):
            nonlocal calls
            result = await execute(*args, **kwargs)
            calls += 1
            if calls == 1:  # the slow worker has read what is due: the quick one claims it now
                taken_meanwhile.extend(await claim(world, "quick", later))
            return result

        slow.execute = pause_after_reading  # type: ignore[method-assign]
        slow_jobs = await Outbox(slow, world.settings, TRAIL).claim("slow", now=later)

    quick_jobs = taken_meanwhile
    assert len(slow_jobs) + len(quick_jobs) == 1  # one of them holds it (PostgreSQL: SKIP LOCKED)
    lost = [a for a in await rows(world, DeliveryAttempt) if a.outcome == "lost"]
    assert len(lost) == 1
    [d] = await rows(world, Delivery)
    assert d.attempts == 1
    holder = (slow_jobs or quick_jobs)[0]
    assert d.lease_owner == holder.lease
    assert lost[0].worker == holder.lease.split(":")[0]


async def test_a_message_that_kills_its_worker_is_not_sent_for_ever(
    world: World, push: FakePushService, receiver: HttpReceiver
):
    """Every claim whose worker died counts as an attempt; after the last one the next channel
    takes over, and once none is left the route is exhausted (the delivery proof says why)."""
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.policy("P00", "sms", url=f"json://127.0.0.1:{receiver.port}/sms?:phone={{address}}")
    await world.address(manager, "sms", "13900000005")
    await world.order(manager, ["webpush", "sms"])
    await world.event({manager: "subject"})
    settings = world.settings.model_copy(update={"delivery_max_attempts": 2})
    step = timedelta(seconds=settings.delivery_lease_seconds + 1)
    now = utcnow()
    async with world.db.session() as s:
        await Outbox(s, settings, TRAIL).route_new(now=now)
    claims = []
    for i in range(6):  # each claiming worker dies before it records anything
        claims.append([j.channel for j in await claim(world, f"dies{i}", now + step * i, settings)])
    # the second death on web push wakes SMS (claimed by the next worker), likewise to the end
    assert claims == [["webpush"], ["webpush"], [], ["sms"], ["sms"], []]
    by_channel = {d.channel: d for d in await rows(world, Delivery)}
    assert {d.state for d in by_channel.values()} == {"failed"}
    assert all(d.attempts == 2 for d in by_channel.values())
    assert "stopped" in (by_channel["sms"].last_error or "")
    [route] = await rows(world, DeliveryRoute)
    assert route.state == "exhausted"
    assert Counter(a.outcome for a in await rows(world, DeliveryAttempt)) == {"lost": 4}


async def test_a_batch_longer_than_its_lease_is_sent_once(world: World, push: FakePushService):
    """A slow push service (0.25 s per message, one at a time) and 24 messages: the batch takes
    6 s, half again its 4 s lease. A second worker claims all the while; nobody gets a message
    twice (without renewed leases it takes over what waits for a send slot, and both send it)."""
    names = ("E0001", "E0002", "E0003", "E0004", "E0005", "E0006", "E0007", "E0008")
    people = [await world.person(n) for n in names]
    for person, name in zip(people, names, strict=True):
        await world.subscribe(person, new_browser(push, name))
    for level in ("high", "medium", "low"):
        await world.event(dict.fromkeys(people, "subject"), level=level)
    push.delay = 0.25
    slow_settings = {
        "delivery_lease_seconds": 4.0,
        "delivery_timeout_seconds": 1.0,
        "delivery_concurrency": 1,
    }
    async with world.worker("slow", **slow_settings) as slow, world.worker("eager", **slow_settings) as eager:
        _, routed, jobs = await slow.fetch()  # routes and leases all 24
        assert routed == 24 and len(jobs) == 24
        stop = asyncio.Event()

        async def claim_all_the_while() -> None:
            while not stop.is_set():
                await eager.step()
                await asyncio.sleep(0.1)

        eager_task = asyncio.create_task(claim_all_the_while())
        result = await slow.send_and_record(jobs)
        stop.set()
        await eager_task
        assert result.messages == 24
        await slow.drain()
        await eager.drain()
    counts = Counter(r.path for r in push.received)
    assert counts == dict.fromkeys(names, 3)  # each person: one message per level, once
    assert {d.state for d in await rows(world, Delivery)} == {"sent"}


@pytest.fixture
def lease_settings(tmp_path) -> dict:
    return {"delivery_lease_seconds": 10.0, "delivery_timeout_seconds": 5.0}


def test_settings_refuse_a_lease_shorter_than_the_worst_send(tmp_path, lease_settings):
    with pytest.raises(ValueError, match="delivery_lease_seconds"):
        make_settings(tmp_path, "sqlite+aiosqlite:///x.db", **lease_settings)
    ok = make_settings(
        tmp_path, "sqlite+aiosqlite:///x.db", delivery_lease_seconds=20.0, delivery_timeout_seconds=5.0
    )
    assert ok.delivery_lease_seconds == 20.0


async def test_a_stopping_worker_sends_what_is_on_the_wire_and_gives_the_rest_back(
    world: World, push: FakePushService
):
    """SIGTERM in the middle of a batch to a slow service: the worker stops after the send on the
    wire, not after the whole batch; what it had not sent is given back at once (no attempt counted)
    and the next worker sends it — everyone once."""
    names = ("E0001", "E0002", "E0003", "E0004", "E0005", "E0006", "E0007", "E0008")
    people = [await world.person(n) for n in names]
    for person, name in zip(people, names, strict=True):
        await world.subscribe(person, new_browser(push, name))
    await world.event(dict.fromkeys(people, "subject"))
    push.delay = 0.3
    slow = {"delivery_lease_seconds": 20.0, "delivery_timeout_seconds": 2.0, "delivery_concurrency": 1}
    stop = asyncio.Event()
    async with world.worker("stopping", **slow) as first:
        running = asyncio.create_task(first.run(stop))
        while not push.received:  # noqa: ASYNC110 - the fake service keeps a plain list
            await asyncio.sleep(0.02)
        stop.set()
        await running
    sent_by_first = len(push.received)
    assert sent_by_first < len(names)  # what was on the wire finished; the rest was not sent
    states = Counter(d.state for d in await rows(world, Delivery))
    assert states["leased"] == 0  # given back, not left to a lease that runs out in 20 s
    async with world.worker("next", **slow) as second:
        await second.drain()
    assert Counter(r.path for r in push.received) == dict.fromkeys(names, 1)
    attempts = Counter(a.outcome for a in await rows(world, DeliveryAttempt))
    assert attempts == {"sent": len(names)}  # nothing given back counted as an attempt
