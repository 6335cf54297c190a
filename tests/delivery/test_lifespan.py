"""The app starts its delivery worker in its lifespan when workers are enabled, and stops it."""

from __future__ import annotations

import asyncio

from litestar.testing import AsyncTestClient

from backend.app import create_app
from tests.delivery.conftest import World, new_browser
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
