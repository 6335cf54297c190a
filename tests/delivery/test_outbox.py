"""The outbox: every notification routed once, a lease that runs out makes a row claimable again,
two workers never send one delivery twice, quiet hours, grouping, channel order, the horizon."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend.delivery.claimed import backoff_seconds
from backend.delivery.models import Delivery, DeliveryAttempt, DeliveryRoute
from backend.delivery.outbox import Outbox, in_quiet_hours
from backend.kernel.timeutil import SHANGHAI, utcnow
from tests.delivery.conftest import TRAIL, World, new_browser
from tests.delivery.fakes import FakePushService


async def all_rows(world: World, model):
    async with world.db.session() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())


async def test_tiered_recipients_each_get_their_own_delivery_and_nobody_twice(
    world: World, push: FakePushService
):
    manager, head, inspector = [await world.person(n) for n in ("E0005", "E0004", "E0003")]
    for person, name in ((manager, "m"), (head, "h"), (inspector, "i")):
        await world.subscribe(person, new_browser(push, name))
    await world.event({manager: "subject", head: "head", inspector: "inspector"}, level="high")

    async with world.worker("a") as a, world.worker("b") as b:
        # both workers route and claim at once: one route per recipient, one send per delivery
        reports = await asyncio.gather(a.step(), b.step())
        await a.drain()
    assert sum(r.routed for r in reports) == 3
    assert sorted(r.path for r in push.received) == ["h", "i", "m"]
    routes = await all_rows(world, DeliveryRoute)
    assert {r.state for r in routes} == {"delivered"}
    keys = [d.dedup_key for d in await all_rows(world, Delivery)]
    assert len(keys) == len(set(keys)) == 3


async def test_a_worker_that_dies_after_claiming_loses_nothing(world: World, push: FakePushService):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.event({manager: "subject"})
    now = utcnow()
    dead = world.worker("dead")
    async with world.db.session() as s:
        await Outbox(s, dead.settings, TRAIL).route_new(now=now)
    async with world.db.session() as s:
        claimed = await Outbox(s, dead.settings, TRAIL).claim("dead", now=now)
    assert len(claimed) == 1  # ... and the worker is killed here: nothing sent, lease held

    async with world.worker("second") as second:
        during = await second.step(now=now + timedelta(seconds=5))
        assert during.claimed == 0  # the lease still holds
        after = await second.step(now=now + timedelta(seconds=world.settings.delivery_lease_seconds + 1))
    assert after.sent == 1
    assert len(push.for_name("phone")) == 1
    attempts = await all_rows(world, DeliveryAttempt)
    assert [a.outcome for a in attempts] == ["lost", "sent"]

    # the dead worker's late report (if it ever comes) cannot undo the new owner's result
    from backend.delivery.claimed import Outcome

    async with world.db.session() as s:
        await Outbox(s, dead.settings, TRAIL).complete([Outcome(claimed[0], "failed")], "dead")
    [d] = await all_rows(world, Delivery)
    assert d.state == "sent"


async def test_routing_twice_routes_once(world: World):
    manager = await world.person("E0005")
    await world.event({manager: "subject"})
    async with world.db.session() as s:
        assert await Outbox(s, world.settings, TRAIL).route_new() == 1
    async with world.db.session() as s:
        assert await Outbox(s, world.settings, TRAIL).route_new() == 0
    [route] = await all_rows(world, DeliveryRoute)
    assert route.state == "inapp"  # no channel: the in-app list is all there is


async def test_quiet_hours_hold_orange_but_not_red(world: World, push: FakePushService):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.order(manager, ["webpush"], quiet=("22:00", "07:00"))
    here = utcnow().astimezone(SHANGHAI)
    night = here.replace(hour=23, minute=30, second=0, microsecond=0)
    night = (night if night > here else night + timedelta(days=1)).astimezone(UTC)
    await world.event({manager: "subject"}, level="medium", subject_id=1)
    await world.event({manager: "subject"}, level="high", subject_id=2)

    async with world.worker() as worker:
        report = await worker.step(now=night)
        assert report.sent == 1  # only the red one
        morning = night + timedelta(hours=7, minutes=30)  # 07:00 in Shanghai
        held = [d for d in await all_rows(world, Delivery) if d.state == "pending"]
        assert [d.next_attempt_at for d in held] == [morning]
        assert (await worker.step(now=morning - timedelta(minutes=1))).claimed == 0
        assert (await worker.step(now=morning)).sent == 1


def test_quiet_hours_arithmetic():
    at = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert in_quiet_hours("22:00", "07:00", at) is None
    assert in_quiet_hours("12:00", "13:30", at) == datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
    assert in_quiet_hours(None, None, at) is None


def test_backoff_grows_with_jitter_and_honours_retry_after(settings):
    import random

    rng = random.Random(1)
    s = settings.model_copy(update={"delivery_backoff_seconds": 2.0, "delivery_backoff_max_seconds": 60.0})
    delays = [backoff_seconds(n, s, rng=rng) for n in (1, 2, 3, 4, 10)]
    assert 1.0 <= delays[0] <= 3.0 and 2.0 <= delays[1] <= 6.0 and 4.0 <= delays[2] <= 12.0
    assert delays[4] <= 90.0  # capped (plus jitter)
    assert backoff_seconds(1, s, retry_after=300, rng=rng) >= 300


async def test_many_items_for_one_person_ring_once_with_a_count(world: World, push: FakePushService):
    manager = await world.person("E0005")
    phone = new_browser(push, "phone")
    await world.subscribe(manager, phone)
    for n in range(3):
        await world.event({manager: "subject"}, level="high", subject_id=100 + n)

    async with world.worker() as worker:
        report = await worker.step()
    assert (report.claimed, report.messages, report.sent) == (3, 1, 3)
    [got] = push.received
    body = phone.decrypt(got.body)
    assert body["count"] == 3 and body["url"].endswith("/#/notifications")
    assert len(body["keys"]) == 3


async def test_the_persons_channel_order_decides_the_first_channel(
    world: World, push: FakePushService, bot_api
):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.address(manager, "telegram", "5005")
    world.with_telegram(bot_api)
    await world.order(manager, ["telegram", "webpush"])
    await world.event({manager: "subject"})

    async with world.worker() as worker:
        await worker.drain()
    assert len(bot_api.sent) == 1 and push.received == []
    deliveries = await all_rows(world, Delivery)
    assert [(d.channel, d.state) for d in deliveries] == [("telegram", "sent"), ("webpush", "skipped")]


async def test_events_older_than_the_horizon_stay_in_app(world: World, push: FakePushService):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.event({manager: "subject"}, age=timedelta(hours=world.settings.delivery_horizon_hours + 1))
    async with world.worker() as worker:
        report = await worker.step()
    assert report.routed == 0 and push.received == []


async def test_two_workers_claiming_at_once_never_hold_the_same_delivery(world: World, push: FakePushService):
    """On PostgreSQL ``SKIP LOCKED`` hands them different rows; on both databases the conditional
    lease re-checks the row, so what one leased the other does not get."""
    people = [await world.person(n) for n in ("E0005", "E0004", "E0003")]
    for person, name in zip(people, "abc", strict=True):
        await world.subscribe(person, new_browser(push, name))
    for subject in range(1, 11):
        await world.event(dict.fromkeys(people, "subject"), subject_id=subject)
    now = utcnow()
    async with world.db.session() as s:
        assert await Outbox(s, world.settings, TRAIL).route_new(now=now) == 30  # all pending

    async def claim(worker: str) -> list[int]:
        async with world.db.session() as s:
            jobs = await Outbox(s, world.settings, TRAIL).claim(worker, limit=20, now=now)
            return [j.delivery_id for j in jobs]

    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert not set(first) & set(second)
    assert len(first) + len(second) >= 20
    owners = {d.id: (d.lease_owner or "")[:1] for d in await all_rows(world, Delivery)}
    assert all(owners[i] == "a" for i in first) and all(owners[i] == "b" for i in second)


async def test_routing_scans_past_what_it_saw_routed_and_a_whole_scan_finds_a_late_commit(
    world: World, push: FakePushService
):
    """A worker's routing scan starts past the recipients it last saw routed (its poll does not
    grow with the history); a recipient whose id is lower — a PostgreSQL transaction that took its
    id early and committed late — is routed by the next whole scan, never left behind."""
    from sqlalchemy import update

    from backend.events.models import EventRecipient

    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.event({manager: "subject"}, subject_id=1)
    [early] = await all_rows(world, EventRecipient)
    async with world.db.session() as s:  # the first recipient seen has a high id
        moved = update(EventRecipient).where(EventRecipient.id == early.id).values(id=early.id + 1000)
        await s.execute(moved)
        await s.commit()
    async with world.worker("a") as a:
        assert (await a.step()).routed == 1
        await world.event({manager: "subject"}, subject_id=2)
        [late] = [r.id for r in await all_rows(world, EventRecipient) if r.id != early.id + 1000]
        async with world.db.session() as s:  # ... and a later one commits with a lower id
            await s.execute(update(EventRecipient).where(EventRecipient.id == late).values(id=early.id))
            await s.commit()
        assert (await a.step()).routed == 0  # the scan starts past the id it saw routed
        a._rescan_at = 0.0  # the next whole scan is due
        assert (await a.step()).routed == 1
        await a.drain()
    assert len(push.for_name("phone")) == 2
