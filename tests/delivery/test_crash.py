"""``kill -9`` of a delivery worker process in the middle of a fan-out, then a new one: everyone
gets their message, and only what was on the wire at the kill is sent again — with the same dedup
key, so the receiver drops it (Web Push ``Topic``, the JSON gateway's ``Idempotency-Key``).

Before outcomes were written as each message finished, every message of the killed worker's batch
was sent again when its lease ran out (about 155 of 1 000 over an SMS gateway)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.delivery.models import DeliveryRoute
from backend.org.models import PersonCreate
from backend.org.service import OrgService
from tests.conftest import TEST_SECRET
from tests.delivery.conftest import ADMIN, TRAIL, World, new_browser
from tests.delivery.fakes import FakePushService, HttpReceiver

PEOPLE = 60
CONCURRENCY = 4
PROBITY = Path(sys.executable).parent / "probity"

pytestmark = pytest.mark.skipif(
    not PROBITY.exists() and os.environ.get("CI") != "true", reason="the probity command is not installed"
)


async def crowd(world: World, n: int) -> list[int]:
    async with world.db.session() as s:
        org = OrgService(s, TRAIL)
        ids = []
        for i in range(n):
            person = await org.create_person(
                PersonCreate(employee_no=f"K{i:04d}", name=f"Crash {i}", unit_code="C01-S1", post_code="CM"),
                ADMIN,
                commit=False,
            )
            assert person.id is not None
            ids.append(person.id)
        await s.commit()
    return ids


def worker_process(world: World) -> subprocess.Popen[str]:
    settings = world.settings
    env = {
        **os.environ,
        "PROBITY_ENV": "development",
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(settings.data_dir),
        "PROBITY_SECRET_KEY": TEST_SECRET,
        "PROBITY_LOG_LEVEL": "INFO",
        "PROBITY_PUSH_ALLOW_PRIVATE": "true",
        # a send that times out is sent again (at least once): 2 s, not 1, so that a machine busy
        # with the rest of the suite does not make a late answer look like a lost one
        "PROBITY_DELIVERY_LEASE_SECONDS": "8",
        "PROBITY_DELIVERY_TIMEOUT_SECONDS": "2",
        "PROBITY_DELIVERY_CONCURRENCY": str(CONCURRENCY),
        "PROBITY_DELIVERY_BATCH": "100",
        "PROBITY_DELIVERY_POLL_SECONDS": "0.1",
        "PROBITY_PUBLIC_URL": "https://probity.test",
    }
    return subprocess.Popen(
        [str(PROBITY), "serve", "--role", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


async def until(count, want: int, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while count() < want:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {count()} of {want} arrived in {limit_s} s")
        await asyncio.sleep(0.02)


async def kill_mid_fanout_then_restart(world: World, keys, received) -> Counter[str]:
    """Start a worker, kill -9 it once a third arrived, start another until all arrived."""
    first = worker_process(world)
    try:
        await until(lambda: len(received()), PEOPLE // 3, 120)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    at_kill = len(received())
    assert at_kill < PEOPLE, "the fan-out ended before the kill: nothing was tested"
    second = worker_process(world)
    try:
        await until(lambda: len({keys(r) for r in received()}), PEOPLE, 120)
        async with world.db.session() as s:  # the second worker records its last outcomes
            deadline = time.monotonic() + 30
            while True:
                states = Counter((await s.execute(select(DeliveryRoute.state))).scalars())
                if states == {"delivered": PEOPLE} or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
                await s.rollback()
        assert states == {"delivered": PEOPLE}
    finally:
        second.terminate()
        second.wait(30)
    return Counter(keys(r) for r in received())


async def test_kill_9_mid_fanout_over_web_push(world: World, push: FakePushService):
    people = await crowd(world, PEOPLE)
    for i, person in enumerate(people):
        await world.subscribe(person, new_browser(push, f"phone{i}"))
    push.delay = 0.05  # 4 at a time: about 0.75 s for everyone
    await world.event(dict.fromkeys(people, "subject"))

    counts = await kill_mid_fanout_then_restart(world, lambda r: r.headers["topic"], lambda: push.received)
    assert len(counts) == PEOPLE  # everyone's message arrived
    # sent again: at most what was on the wire at the kill, each under its first Topic (collapsed)
    assert sum(counts.values()) - PEOPLE <= CONCURRENCY
    assert {r.path for r in push.received} == {f"phone{i}" for i in range(PEOPLE)}


async def test_kill_9_mid_fanout_over_a_json_sms_gateway(world: World, receiver: HttpReceiver):
    people = await crowd(world, PEOPLE)
    await world.policy("P00", "sms", url=f"json://127.0.0.1:{receiver.port}/sms?:phone={{address}}")
    for i, person in enumerate(people):
        await world.address(person, "sms", f"139{i:08d}")
        await world.order(person, ["sms"])
    receiver.delay = 0.05
    await world.event(dict.fromkeys(people, "subject"))

    def sms():
        return [r for r in receiver.requests if r.path.startswith("/sms")]

    counts = await kill_mid_fanout_then_restart(world, lambda r: r.headers["Idempotency-Key"], sms)
    assert len(counts) == PEOPLE
    assert sum(counts.values()) - PEOPLE <= CONCURRENCY
    bodies = [json.loads(r.body) for r in sms()]
    assert len({b["phone"] for b in bodies}) == PEOPLE
    assert all(b["dedup_key"] == r.headers["Idempotency-Key"] for b, r in zip(bodies, sms(), strict=True))
