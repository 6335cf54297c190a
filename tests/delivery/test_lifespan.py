"""The app starts its delivery worker in its lifespan when workers are enabled, and stops it; a
worker process (``probity serve --role worker``) delivers without the app."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from litestar.testing import AsyncTestClient

from backend.app import create_app
from tests.conftest import REPO_ROOT
from tests.delivery.conftest import TEST_SECRET, World, new_browser
from tests.delivery.fakes import FakePushService


async def test_the_served_app_rings_a_new_notification_by_itself(world: World, push: FakePushService):
    manager = await world.person("E0005")
    phone = new_browser(push, "phone")
    await world.subscribe(manager, phone)
    settings = world.settings.model_copy(update={"workers_enabled": True, "delivery_poll_seconds": 0.05})
    assert settings.run_workers
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/healthz")).status_code == 200
        await world.event({manager: "subject"})
        for _ in range(200):  # bounded wait: up to 10 s
            if push.received:
                break
            await asyncio.sleep(0.05)
    assert len(push.received) == 1
    assert phone.decrypt(push.received[0].body)["count"] == 1


def test_workers_are_off_in_tests_and_on_by_default_elsewhere(settings):
    assert settings.run_workers is False
    assert settings.model_copy(update={"env": "development"}).run_workers is True
    assert settings.model_copy(update={"env": "production", "workers_enabled": False}).run_workers is False


async def test_a_worker_process_delivers_alone_and_stops_on_sigterm(world: World, push: FakePushService):
    """``probity serve --role worker``: no API, just the outbox, until SIGTERM."""
    manager = await world.person("E0005")
    phone = new_browser(push, "phone")
    await world.subscribe(manager, phone)
    env = {
        **os.environ,
        "PROBITY_ENV": "test",
        "PROBITY_DATABASE_URL": world.settings.database_url,
        "PROBITY_DATA_DIR": str(world.settings.data_dir),
        "PROBITY_SECRET_KEY": TEST_SECRET,
        "PROBITY_DELIVERY_POLL_SECONDS": "0.05",
        "PROBITY_PUSH_ALLOW_PRIVATE": "true",  # the fake push service is on 127.0.0.1
    }
    env["PYTHONPATH"] = str(REPO_ROOT)  # this checkout's code, whatever is installed
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "serve", "--role", "worker", env=env
    )
    try:
        await world.event({manager: "subject"})
        for _ in range(400):  # bounded wait: up to 20 s (the process imports the app first)
            if push.received:
                break
            await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    assert code == 0
    [got] = push.received
    assert phone.decrypt(got.body)["count"] == 1
