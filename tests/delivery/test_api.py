"""The delivery API as a person and an admin use it: settings, devices, proof, unit policies;
bad input gets clear errors and stores nothing; channel secrets are never echoed."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.delivery.channels import open_url
from backend.delivery.models import ChannelConfig, PushSubscription
from tests.delivery.access_cases import SUBSCRIPTION
from tests.delivery.conftest import World, new_browser
from tests.delivery.fakes import FakePushService

SECRET = "wecom-app-secret-XYZ"
WECOM = f"wechat://ww0123456789:{SECRET}@1000002/@{{address}}"


async def test_my_settings_devices_and_vapid_key(client, sessions):
    h = await sessions.headers("manager")
    mine = (await client.get("/api/delivery/me", headers=h)).json()
    assert mine["channel_order"][0] == "webpush" and mine["telegram_bound"] is False
    assert len(mine["vapid_public_key"]) > 80

    r = await client.post("/api/delivery/me/push-subscriptions", headers=h, json=SUBSCRIPTION)
    assert r.status_code == 201, r.text
    assert r.json()["service"] == "push.example.com" and "endpoint" not in r.json()
    again = await client.post("/api/delivery/me/push-subscriptions", headers=h, json=SUBSCRIPTION)
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]  # same device, one row

    r = await client.put(
        "/api/delivery/me/preferences",
        headers=h,
        json={"channel_order": ["email", "webpush"], "quiet_start": "22:30", "quiet_end": "06:30"},
    )
    assert r.status_code == 200
    assert r.json()["channel_order"][:3] == ["email", "webpush", "telegram"]
    assert r.json()["quiet_start"] == "22:30"

    # another person cannot remove my device
    other = await sessions.headers("manager2")
    sub_id = r.json()["subscriptions"][0]["id"]
    assert (
        await client.delete(f"/api/delivery/me/push-subscriptions/{sub_id}", headers=other)
    ).status_code == 404
    assert (
        await client.delete(f"/api/delivery/me/push-subscriptions/{sub_id}", headers=h)
    ).status_code == 204


async def test_bad_subscriptions_are_refused_and_nothing_is_stored(client, sessions, db):
    h = await sessions.headers("manager")
    bad = [
        b"{not json",
        json.dumps({"endpoint": "https://push.example.com/x"}).encode(),
        json.dumps({**SUBSCRIPTION, "endpoint": "ftp://push.example.com/x"}).encode(),
        json.dumps({**SUBSCRIPTION, "endpoint": "http://push.example.com/plain"}).encode(),
        json.dumps({**SUBSCRIPTION, "keys": {"p256dh": "A" * 87, "auth": "B" * 22}}).encode(),
        json.dumps({**SUBSCRIPTION, "surprise": 1}).encode(),
    ]
    for body in bad:
        r = await client.post(
            "/api/delivery/me/push-subscriptions",
            headers={**h, "Content-Type": "application/json"},
            content=body,
        )
        assert r.status_code == 400, (body, r.text)
        assert r.json()["code"] in {"invalid_request", "invalid_subscription"}
    async with db.session() as s:
        assert (await s.execute(select(PushSubscription))).scalars().all() == []


async def test_addresses_are_checked_per_channel(client, sessions):
    h = await sessions.headers("manager")
    cases = {
        "email": ("not-an-address", "invalid_address"),
        "sms": ("call me", "invalid_address"),
        "telegram": ("5005", "telegram_binds_via_bot"),
        "webpush": ("x", "use_push_subscription"),
    }
    for channel, (address, code) in cases.items():
        r = await client.put(f"/api/delivery/me/channels/{channel}", headers=h, json={"address": address})
        assert r.status_code == 400 and r.json()["code"] == code, r.text
    r = await client.put("/api/delivery/me/channels/pigeon", headers=h, json={"address": "x"})
    assert r.status_code == 400
    r = await client.put("/api/delivery/me/channels/sms", headers=h, json={"address": "+8613900000005"})
    assert r.status_code == 200 and r.json()["address"] == "+8613900000005"


async def test_unit_policy_secrets_are_never_echoed(client, sessions, db, caplog, app):
    """Nor logged, even at DEBUG (aiosqlite logs every call's parameters there: held at INFO)."""
    caplog.set_level(logging.DEBUG)
    h = await sessions.headers("admin")
    unit = (await client.get("/api/units", headers=h)).json()
    c01 = next(u["id"] for u in unit if u["code"] == "C01")
    r = await client.put(
        f"/api/delivery/units/{c01}/channels/wecom", headers=h, json={"url": WECOM, "detail": False}
    )
    assert r.status_code == 200, r.text
    assert SECRET not in r.text and "ww0123456789" not in r.text
    assert r.json()["url_masked"] == "wechat://***@1000002/***" and r.json()["has_url"] is True

    listed = await client.get(f"/api/delivery/units/{c01}/channels", headers=h)
    assert SECRET not in listed.text and listed.json()[0]["channel"] == "wecom"
    assert SECRET not in caplog.text

    # changing a flag keeps the stored URL; the response still hides it
    r = await client.put(f"/api/delivery/units/{c01}/channels/wecom", headers=h, json={"detail": True})
    assert r.status_code == 200 and r.json()["detail"] is True and SECRET not in r.text

    bad_urls = {
        "https://example.com/hook": "unknown_channel_url",
        "dingtalk://token/{address}": "unknown_channel_url",
        "wechat://ww0123456789:" + SECRET + "@1000002/@zhangsan": "address_placeholder_required",
        "wechat://" + SECRET + "@notanumber/{address}": "unknown_channel_url",
    }
    for url, code in bad_urls.items():
        r = await client.put(f"/api/delivery/units/{c01}/channels/wecom", headers=h, json={"url": url})
        assert r.status_code == 400 and r.json()["code"] == code, (url, r.text)
        assert SECRET not in r.text
    r = await client.put(f"/api/delivery/units/{c01}/channels/webpush", headers=h, json={"url": WECOM})
    assert r.status_code == 400 and r.json()["code"] == "channel_takes_no_url"
    r = await client.put(f"/api/delivery/units/{c01}/channels/email", headers=h, json={"enabled": True})
    assert r.status_code == 400 and r.json()["code"] == "url_required"

    async with db.session() as s:
        stored = (await s.execute(select(ChannelConfig))).scalars().all()
        # the refused URLs changed nothing; the one kept is sealed at rest
        assert [open_url(app.state.settings, c.unit_id, c.channel, c.url) for c in stored] == [WECOM]
        assert all(SECRET not in (c.url or "") for c in stored)
        trail = (await s.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars().all()
    assert any(t.action == "delivery.channel_policy" for t in trail)
    assert all(SECRET not in json.dumps([t.old_value, t.new_value], default=str) for t in trail)

    assert (await client.delete(f"/api/delivery/units/{c01}/channels/wecom", headers=h)).status_code == 204


async def test_the_in_app_list_shows_the_delivery_proof(
    client, sessions, world: World, push: FakePushService
):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    push.script["phone"].append(503)
    await world.event({manager: "subject"}, level="high")
    async with world.worker() as worker:
        await worker.step()
        await worker.drain()

    h = await sessions.headers("manager")
    page = (await client.get("/api/delivery/notifications", headers=h)).json()
    [item] = page["items"]
    assert item["route_state"] == "delivered" and item["delivered_channel"] == "webpush"
    assert item["channels"] == [
        {
            "channel": "webpush",
            "state": "sent",
            "attempts": 2,
            "sent_at": item["channels"][0]["sent_at"],
            "last_error": "HTTP 503",  # the status only: the push service's answer is not shown
            "next_attempt_at": None,
        }
    ]
    assert item["read_at"] is None and item["created_at"].endswith("+08:00")

    detail = (await client.get(f"/api/delivery/notifications/{item['id']}", headers=h)).json()
    assert [a["outcome"] for a in detail["attempts"]] == ["retry", "sent"]
    assert [a["status"] for a in detail["attempts"]] == [503, 201]

    # reading it in the app shows in the proof
    assert (await client.post(f"/api/notifications/{item['id']}/read", headers=h)).status_code == 204
    again = (await client.get(f"/api/delivery/notifications/{item['id']}", headers=h)).json()
    assert again["read_at"] is not None

    # somebody else's notification does not exist for me
    other = await sessions.headers("manager2")
    assert (await client.get(f"/api/delivery/notifications/{item['id']}", headers=other)).status_code == 404

    stats = (await client.get("/api/delivery/outbox", headers=await sessions.headers("admin"))).json()
    assert stats["deliveries"]["webpush"]["sent"] == 1 and stats["unrouted"] == 0
