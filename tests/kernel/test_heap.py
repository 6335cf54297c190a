from __future__ import annotations

import asyncio
import gc

from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.kernel.heap import settle, settle_over_time


def test_settle_freezes_what_lives_and_still_collects_later_garbage():
    try:
        frozen = settle()
        assert frozen > 10_000  # modules, classes, the test session: all of start-up
        assert gc.get_count()[0] < 100  # the young generation was emptied

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        del a, b
        assert gc.collect() >= 2  # a cycle made after the freeze is still found
    finally:
        gc.unfreeze()


async def test_settle_over_time_settles_each_time():
    try:
        await asyncio.wait_for(settle_over_time((0.0, 0.01, 0.02)), timeout=5)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


async def test_the_server_settles_its_heap_at_start_up_only_when_asked(settings):
    gc.unfreeze()
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            await client.get("/healthz")
            await asyncio.sleep(0.05)
            assert gc.get_freeze_count() == 0  # env=test: many apps start in one test process
        wanted = settings.model_copy(update={"settle_heap": True})
        assert wanted.heap_settles
        async with AsyncTestClient(app=create_app(wanted)) as client:
            await client.get("/healthz")
            await asyncio.sleep(0.05)
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
