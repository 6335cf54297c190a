"""Channel URLs hold the services' secrets: stored sealed (AES-256-GCM, bound to their unit and
channel), opened only to send and to show them masked."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from backend.delivery.models import ChannelConfig
from tests.delivery.conftest import World
from tests.delivery.fakes import HttpReceiver

SECRET = "gw-token-5c1f0e9a"


async def stored(world: World) -> ChannelConfig:
    async with world.db.session() as s:
        return (await s.execute(select(ChannelConfig).where(ChannelConfig.channel == "sms"))).scalar_one()


async def sms_to_manager(world: World, receiver: HttpReceiver) -> dict:
    manager = await world.person("E0005")
    await world.address(manager, "sms", "13900000005")
    await world.order(manager, ["sms"])
    await world.event({manager: "subject"})
    async with world.worker() as worker:
        await worker.drain()
    [body] = receiver.bodies("/sms")
    return json.loads(body)


async def test_a_channel_url_is_stored_sealed_and_still_sends(world: World, receiver: HttpReceiver):
    url = f"json://127.0.0.1:{receiver.port}/sms/{SECRET}?:phone={{address}}"
    await world.policy("P00", "sms", url=url)
    row = await stored(world)
    assert row.url is not None and row.url.startswith("v1:") and SECRET not in row.url
    assert (await sms_to_manager(world, receiver))["phone"] == "13900000005"
    assert any(SECRET in r.path for r in receiver.requests)  # the gateway got its token


async def test_a_url_stored_before_sealing_still_sends_and_is_sealed_at_the_next_save(
    world: World, receiver: HttpReceiver
):
    url = f"json://127.0.0.1:{receiver.port}/sms/{SECRET}?:phone={{address}}"
    await world.policy("P00", "sms", url=url)
    row = await stored(world)
    async with world.db.session() as s:  # as an older version stored it
        await s.execute(update(ChannelConfig).where(ChannelConfig.id == row.id).values(url=url))
        await s.commit()
    assert (await sms_to_manager(world, receiver))["phone"] == "13900000005"
    await world.policy("P00", "sms", enabled=True)  # any save seals it
    again = await stored(world)
    assert again.url is not None and again.url.startswith("v1:") and SECRET not in again.url


async def test_a_sealed_url_copied_to_another_unit_does_not_open(world: World, receiver: HttpReceiver):
    import pytest

    from backend.delivery.channels import open_url
    from backend.kernel.sealing import SealBroken

    await world.policy("P00", "sms", url=f"json://127.0.0.1:{receiver.port}/sms?:phone={{address}}")
    row = await stored(world)
    with pytest.raises(SealBroken):
        open_url(world.settings, row.unit_id + 1, "sms", row.url)
