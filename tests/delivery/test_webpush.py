"""Web Push end to end against a local push service: what arrives decrypts, the VAPID header
verifies, and 404/410, 413, 429 and 5xx are handled as a push service means them."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
from py_vapid import Vapid01
from sqlalchemy import select
from sqlmodel import col

from backend.delivery.models import Delivery, DeliveryAttempt, DeliveryRoute, PushSubscription
from backend.delivery.service import vapid_key
from backend.kernel.timeutil import utcnow
from tests.delivery.conftest import World, new_browser
from tests.delivery.fakes import FakePushService


def vapid_parts(header: str) -> dict[str, str]:
    scheme, rest = header.split(" ", 1)
    assert scheme == "vapid"
    return dict(part.strip().split("=", 1) for part in rest.split(","))


async def rows(world: World, model, *where):
    async with world.db.session() as s:
        return list((await s.execute(select(model).where(*where).order_by(col(model.id)))).scalars())


async def test_a_red_warning_rings_the_phone_with_an_encrypted_body_and_a_valid_vapid_header(
    world: World, push: FakePushService
):
    manager = await world.person("E0005")
    phone = new_browser(push, "phone")
    await world.subscribe(manager, phone)
    event_id = await world.event({manager: "subject"}, level="high", subject_id=42)

    async with world.worker() as worker:
        report = await worker.step()
    assert (report.routed, report.sent) == (1, 1)

    [got] = push.for_name("phone")
    body = phone.decrypt(got.body)
    assert body["level"] == "high" and body["count"] == 1
    assert body["url"] == "https://probity.test/#/warnings/42"
    assert body["tag"] == f"e{event_id}:p{manager}:webpush"
    assert "高风险" in body["body"] and "前处理" in body["body"]
    assert set(body) == {"title", "body", "url", "tag", "level", "count", "due", "keys"}
    assert body["keys"] == [body["tag"]] and body["due"] is not None
    assert got.headers["content-encoding"] == "aes128gcm"
    assert got.headers["ttl"] == str(world.settings.push_ttl_seconds)
    assert got.headers["urgency"] == "high"
    assert len(got.headers["topic"]) <= 32

    async with world.db.session() as s:
        key = await vapid_key(s)
    parts = vapid_parts(got.headers["authorization"])
    assert parts["k"] == key.application_server_key
    assert Vapid01.verify(parts["k"], f"vapid {parts['t']}")
    claims = jwt.decode(parts["t"], options={"verify_signature": False})
    # webpush puts scheme and host in aud (no port: push services listen on 443)
    assert claims["aud"] == "http://127.0.0.1"
    assert claims["sub"] == f"mailto:{world.settings.vapid_subscriber}"
    assert claims["exp"] > utcnow().timestamp()

    [route] = await rows(world, DeliveryRoute)
    assert (route.state, route.delivered_channel) == ("delivered", "webpush")
    [attempt] = await rows(world, DeliveryAttempt)
    assert (attempt.outcome, attempt.status, attempt.target) == ("sent", 201, "subscription 1")


def test_the_push_body_is_the_messages_json_with_the_shared_part_made_once():
    from backend.delivery.payloads import Item, render
    from notifications.webpush import _shared_part, push_body

    due = utcnow() + timedelta(days=3)
    items = [Item(i, 7, "warning.raised", "high", "warning", 9, due) for i in (1, 2)]
    hits = _shared_part.cache_info().hits
    for n, item in enumerate(items):
        message = render([item], [f"e7:p{n}:webpush"], public_url="https://p.test", buttons=False)
        assert json.loads(push_body(message)) == message.push_json() and message.buttons == ()
    assert _shared_part.cache_info().hits == hits + 1  # the second message reused the first's part
    several = render(items, ["a", "b"], public_url="https://p.test")
    assert json.loads(push_body(several)) == several.push_json() and several.buttons


async def test_the_vapid_key_is_made_once_and_kept(world: World):
    async with world.db.session() as s:
        first = await vapid_key(s)
    async with world.db.session() as s:
        again = await vapid_key(s)
    assert (
        first.private_pem == again.private_pem
        and first.application_server_key == again.application_server_key
    )


async def test_every_device_of_the_person_rings_and_a_gone_one_is_removed(
    world: World, push: FakePushService
):
    manager = await world.person("E0005")
    phone, laptop = new_browser(push, "phone"), new_browser(push, "laptop")
    await world.subscribe(manager, phone)
    await world.subscribe(manager, laptop)
    push.script["laptop"].append(410)
    await world.event({manager: "subject"})

    async with world.worker() as worker:
        await worker.step()

    assert len(push.for_name("phone")) == 1 and len(push.for_name("laptop")) == 1
    left = await rows(world, PushSubscription)
    assert [s.endpoint for s in left] == [push.endpoint("phone")]
    [route] = await rows(world, DeliveryRoute)
    assert route.state == "delivered"


async def test_404_on_the_only_device_falls_back_to_the_next_channel(
    world: World, push: FakePushService, bot_api
):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "old"))
    push.script["old"].append(404)
    await world.address(manager, "telegram", "5005")
    world.with_telegram(bot_api)
    await world.event({manager: "subject"})

    async with world.worker() as worker:
        first = await worker.step()
        second = await worker.step()
    assert first.failed == 1 and second.sent == 1
    assert await rows(world, PushSubscription) == []
    assert [int(m["chat_id"]) for m in bot_api.sent] == [5005]
    [route] = await rows(world, DeliveryRoute)
    assert (route.state, route.delivered_channel) == ("delivered", "telegram")


async def test_413_sends_a_shrunk_body(world: World, push: FakePushService):
    manager = await world.person("E0005")
    phone = new_browser(push, "phone")
    await world.subscribe(manager, phone)
    push.script["phone"].append(413)
    await world.event({manager: "subject"})

    async with world.worker() as worker:
        report = await worker.step()
    assert report.sent == 1
    first, second = push.for_name("phone")
    shrunk = phone.decrypt(second.body)
    assert set(shrunk) == {"title", "url", "tag"}
    assert len(second.body) < len(first.body)
    outcomes = [a.outcome for a in await rows(world, DeliveryAttempt)]
    assert outcomes == ["shrunk", "sent"]


async def test_429_waits_for_retry_after_then_delivers(world: World, push: FakePushService):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    push.script["phone"].append((429, {"Retry-After": "120"}))
    await world.event({manager: "subject"})
    now = utcnow()

    async with world.worker() as worker:
        first = await worker.step(now=now)
        assert first.retried == 1
        [d] = await rows(world, Delivery)
        assert d.state == "pending" and d.attempts == 1
        assert d.next_attempt_at >= now + timedelta(seconds=120)
        early = await worker.step(now=now + timedelta(seconds=60))
        assert early.claimed == 0
        later = await worker.step(now=now + timedelta(seconds=121))
    assert later.sent == 1
    assert len(push.for_name("phone")) == 2


async def test_5xx_is_retried_until_the_tries_run_out_then_the_route_is_exhausted(
    world: World, push: FakePushService
):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    push.script["phone"].extend([500, 502, 503])
    await world.event({manager: "subject"})

    async with world.worker(delivery_max_attempts=3) as worker:
        for _ in range(3):
            await worker.step(now=utcnow() + timedelta(seconds=1))
    [d] = await rows(world, Delivery)
    assert (d.state, d.attempts) == ("failed", 3)
    assert "503" in (d.last_error or "")
    [route] = await rows(world, DeliveryRoute)
    assert route.state == "exhausted"
    # the subscription stays: a server error says nothing about the device
    assert len(await rows(world, PushSubscription)) == 1
