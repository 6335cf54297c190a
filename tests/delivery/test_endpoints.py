"""Push endpoints: https to public addresses only, when a device subscribes and again when the
worker connects (a name that resolves elsewhere later, an IP literal stored before the check);
what the person reads of a failed push names no address; broadcast links stay inside the app."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from backend.delivery.endpoints import is_public
from backend.delivery.models import DeliveryAttempt, PushSubscription
from backend.delivery.service import DeliveryService, vapid_key
from backend.events.models import EventRecipient
from notifications import netguard
from notifications.pushhttp import PushClient
from notifications.webpush import WebPushSender
from notifications.worker import Worker
from tests.delivery.access_cases import SUBSCRIPTION
from tests.delivery.conftest import TRAIL, World, new_browser
from tests.delivery.fakes import FakePushService

REFUSED = [
    "https://127.0.0.1/send/x",
    "https://127.1/send/x",
    "https://2130706433/send/x",
    "https://10.0.0.5/send/x",
    "https://172.16.3.4/send/x",
    "https://192.168.1.1/send/x",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/send/x",
    "https://0.0.0.0/send/x",
    "https://224.0.0.1/send/x",
    "https://240.0.0.1/send/x",
    "https://255.255.255.255/send/x",
    "https://[::1]/send/x",
    "https://[::]/send/x",
    "https://[::ffff:127.0.0.1]/send/x",
    "https://[::ffff:a9fe:a9fe]/send/x",
    "https://[64:ff9b::a00:5]/send/x",
    "https://[2002:a00:5::1]/send/x",
    "https://[fe80::1]/send/x",
    "https://[fc00::1]/send/x",
    "https://[ff02::1]/send/x",
    "https://localhost/send/x",
    "https://private.example.test/send/x",  # a name that resolves into the private network
    "http://push.example.com/send/x",  # plain http
    "https://user:secret@push.example.com/send/x",
    "https://push.example.com:99999/send/x",
    "https:///send/x",
]


@pytest.mark.parametrize("endpoint", REFUSED)
async def test_push_endpoints_on_private_addresses_are_refused_and_nothing_is_stored(
    client, sessions, db, endpoint
):
    h = await sessions.headers("manager")
    r = await client.post(
        "/api/delivery/me/push-subscriptions", headers=h, json={**SUBSCRIPTION, "endpoint": endpoint}
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] in {"invalid_subscription", "invalid_request"}
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(PushSubscription))).scalar_one() == 0


@pytest.mark.parametrize(
    "endpoint",
    ["https://push.example.com/send/x", "https://[2606:4700:4700::1111]/send/x", "https://8.8.8.8/send/x"],
)
async def test_push_endpoints_on_public_addresses_are_accepted(client, sessions, endpoint):
    h = await sessions.headers("manager")
    r = await client.post(
        "/api/delivery/me/push-subscriptions", headers=h, json={**SUBSCRIPTION, "endpoint": endpoint}
    )
    assert r.status_code == 201, r.text


async def test_a_name_that_does_not_resolve_is_refused(client, sessions, fake_dns, monkeypatch):
    from backend.delivery import endpoints

    async def nowhere(host: str, port: int) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(endpoints, "resolve_host", nowhere)
    h = await sessions.headers("manager")
    r = await client.post("/api/delivery/me/push-subscriptions", headers=h, json=SUBSCRIPTION)
    assert r.status_code == 400 and r.json()["code"] == "invalid_subscription"


async def test_private_push_services_need_the_setting(world: World, push: FakePushService):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))  # the world allows private services
    strict = world.settings.model_copy(update={"push_allow_private": False})
    async with world.db.session() as s:
        with pytest.raises(Exception, match="push") as caught:
            await DeliveryService(s, TRAIL, strict).subscribe(
                world_actor(), manager, _subscription(push.endpoint("laptop"))
            )
    assert getattr(caught.value, "code", None) == "invalid_subscription"


def world_actor():
    from tests.delivery.conftest import ADMIN

    return ADMIN


def _subscription(endpoint: str):
    from backend.delivery.models import SubscriptionCreate

    return SubscriptionCreate.model_validate({**SUBSCRIPTION, "endpoint": endpoint})


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.1.2.3", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("192.0.2.1", False),
        ("224.0.0.251", False),
        ("0.0.0.0", False),  # noqa: S104
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::7f00:1", False),
        ("2002:7f00:1::1", False),
        ("fd00::1", False),
        ("fec0::1", False),
        ("ff05::2", False),
    ],
)
def test_what_counts_as_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


class StubResolver(aiohttp.abc.AbstractResolver):
    """A DNS that answers each name with the given addresses."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[Any]:
        return [
            {"hostname": host, "host": a, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}
            for a in self.answers[host]
        ]

    async def close(self) -> None:
        return None


async def test_the_resolver_keeps_public_answers_only():
    guard = netguard.PublicResolver(StubResolver({"mixed": ["10.0.0.5", "8.8.8.8"], "inside": ["127.0.0.1"]}))
    assert [a["host"] for a in await guard.resolve("mixed", 443)] == ["8.8.8.8"]
    with pytest.raises(OSError):
        await guard.resolve("inside", 443)


async def _store_raw(world: World, person_id: int, endpoint: str, push: FakePushService) -> None:
    """A subscription stored as it was (checked when the name still resolved to a public address)."""
    browser = new_browser(push, "phone").json()
    async with world.db.session() as s:
        s.add(
            PushSubscription(
                person_id=person_id,
                endpoint=endpoint,
                p256dh=browser["keys"]["p256dh"],
                auth=browser["keys"]["auth"],
            )
        )
        await s.commit()


async def _send_once(world: World, http: PushClient) -> None:
    async with world.db.session() as s:
        key = await vapid_key(s)
    async with http:
        sender = WebPushSender(key.private_pem, key.public_pem, subscriber="t@example.com", ttl=60, http=http)
        settings = world.settings.model_copy(update={"delivery_max_attempts": 1})
        async with Worker(world.db, settings, TRAIL, name="guarded", senders={"webpush": sender}) as worker:
            await worker.step()


@pytest.mark.parametrize("how", ["literal", "rebound name"])
async def test_the_worker_never_connects_to_a_private_address(world: World, push: FakePushService, how):
    manager = await world.person("E0005")
    strict = world.settings.model_copy(update={"push_allow_private": False})
    if how == "literal":
        endpoint = push.endpoint("phone")  # http://127.0.0.1:PORT/…, an IP literal
        http = netguard.push_client(strict, limit=4)
    else:
        endpoint = push.endpoint("phone").replace("127.0.0.1", "rebind.example.test")
        http = netguard.push_client(
            strict, limit=4, resolver=StubResolver({"rebind.example.test": ["127.0.0.1"]})
        )
    await _store_raw(world, manager, endpoint, push)
    await world.event({manager: "subject"})

    await _send_once(world, http)

    assert push.received == []  # nothing reached the private address
    async with world.db.session() as s:
        [attempt] = (await s.execute(select(DeliveryAttempt))).scalars().all()
        assert attempt.outcome in {"retry", "failed"}
        recipient = (await s.execute(select(EventRecipient.id))).scalar_one()
        proof = await DeliveryService(s, TRAIL, world.settings).proof_one(manager, recipient)
    shown = [a.error for a in proof.attempts] + [c.last_error for c in proof.channels]
    assert shown and all(e == "the service could not be reached" for e in shown if e is not None)
    assert not any("127.0.0.1" in (e or "") or str(push.port) in (e or "") for e in shown)


async def test_with_the_setting_a_private_push_service_is_reached(world: World, push: FakePushService):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.event({manager: "subject"})
    await _send_once(world, netguard.push_client(world.settings, limit=4))
    assert len(push.for_name("phone")) == 1


async def test_the_person_reads_a_status_not_a_push_services_answer(world: World, push: FakePushService):
    from backend.delivery.service import shown_error

    assert shown_error("HTTP 503: <html>internal admin panel</html>") == "HTTP 503"
    assert shown_error("ClientConnectorError: Cannot connect to host 10.0.0.5:443") == (
        "the service could not be reached"
    )
    assert shown_error("no device is subscribed") == "no device is subscribed"
    assert shown_error(None) is None


@pytest.mark.parametrize(
    "link",
    [
        "//evil.example.com/login",
        "/\\evil.example.com/login",
        "/\\/evil.example.com",
        "https://evil.example.com/login",
        "http://evil.example.com",
        "javascript:alert(1)",
        "evil.example.com/x",
        "/#/x y",
        "/#/x\nSet-Cookie: a=b",
    ],
)
async def test_broadcast_links_to_other_sites_are_refused(client, sessions, link):
    admin = await sessions.headers("admin")
    body = {"title": "t", "body": "b", "link": link, "targets": {"roles": ["head"]}}
    r = await client.post("/api/broadcasts", headers=admin, json=body)
    assert r.status_code == 400 and r.json()["code"] == "invalid_request", r.text
    assert r.json()["errors"][0]["field"] == "link"


async def test_a_broadcast_link_to_a_page_of_probity_is_kept(client, sessions):
    admin = await sessions.headers("admin")
    body = {"title": "t", "body": "b", "link": "/#/lessons/3?x=1", "targets": {"roles": ["head"]}}
    r = await client.post("/api/broadcasts", headers=admin, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["link"] == "/#/lessons/3?x=1"
