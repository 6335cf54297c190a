from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.access.matrix import Case, everyone


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
)
SUBSCRIPTION = {
    "endpoint": "https://push.example.com/send/abc123",
    "expirationTime": None,
    "keys": {"p256dh": _b64(_KEY), "auth": _b64(os.urandom(16))},
}
WECOM = "wechat://ww0123456789:wecom-app-secret-XYZ@1000002/@{address}"
ADMIN_ONLY = {"admin": 200}
NOBODY = 999_999

CASES = [
    Case("GET", "/api/delivery/me", lambda i: "/api/delivery/me", everyone(200)),
    Case(
        "PUT",
        "/api/delivery/me/preferences",
        lambda i: "/api/delivery/me/preferences",
        everyone(200),
        body=lambda i: {
            "channel_order": ["telegram", "webpush"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    ),
    Case(
        "PUT",
        "/api/delivery/me/channels/{channel:str}",
        lambda i: "/api/delivery/me/channels/email",
        everyone(200),
        body=lambda i: {"address": "me@example.com"},
    ),
    Case(
        "DELETE",
        "/api/delivery/me/channels/{channel:str}",
        lambda i: "/api/delivery/me/channels/sms",
        everyone(404),
        note="no SMS number set",
    ),
    Case(
        "POST",
        "/api/delivery/me/push-subscriptions",
        lambda i: "/api/delivery/me/push-subscriptions",
        everyone(201),
        body=lambda i: SUBSCRIPTION,
    ),
    Case(
        "DELETE",
        "/api/delivery/me/push-subscriptions/{subscription_id:int}",
        lambda i: f"/api/delivery/me/push-subscriptions/{NOBODY}",
        everyone(404),
        note="nobody's device",
    ),
    Case("GET", "/api/delivery/notifications", lambda i: "/api/delivery/notifications", everyone(200)),
    Case(
        "GET",
        "/api/delivery/notifications/{notification_id:int}",
        lambda i: f"/api/delivery/notifications/{NOBODY}",
        everyone(404),
        note="nobody's notification",
    ),
    Case(
        "PUT",
        "/api/delivery/people/{person_id:int}/channels/{channel:str}",
        lambda i: f"/api/delivery/people/{i.person['manager']}/channels/wecom",
        ADMIN_ONLY,
        body=lambda i: {"address": "zhangsan"},
    ),
    Case(
        "GET",
        "/api/delivery/units/{unit_id:int}/channels",
        lambda i: f"/api/delivery/units/{i.unit['C01']}/channels",
        ADMIN_ONLY,
    ),
    Case(
        "PUT",
        "/api/delivery/units/{unit_id:int}/channels/{channel:str}",
        lambda i: f"/api/delivery/units/{i.unit['C01']}/channels/wecom",
        ADMIN_ONLY,
        body=lambda i: {"url": WECOM},
    ),
    Case(
        "DELETE",
        "/api/delivery/units/{unit_id:int}/channels/{channel:str}",
        lambda i: f"/api/delivery/units/{i.unit['C01']}/channels/wecom",
        {"admin": 404},
        note="no policy yet",
    ),
    Case(
        "GET",
        "/api/delivery/units/{unit_id:int}/policy",
        lambda i: f"/api/delivery/units/{i.unit['C01']}/policy",
        ADMIN_ONLY,
    ),
    Case(
        "PUT",
        "/api/delivery/units/{unit_id:int}/policy",
        lambda i: f"/api/delivery/units/{i.unit['C01']}/policy",
        ADMIN_ONLY,
        body=lambda i: {"quiet_start": "22:00", "quiet_end": "07:00"},
    ),
    Case(
        "DELETE",
        "/api/delivery/units/{unit_id:int}/policy",
        lambda i: f"/api/delivery/units/{i.unit['C01']}/policy",
        {"admin": 404},
        note="no order or quiet hours set yet",
    ),
    Case("GET", "/api/delivery/outbox", lambda i: "/api/delivery/outbox", ADMIN_ONLY),
    Case(
        "POST",
        "/api/broadcasts",
        lambda i: "/api/broadcasts",
        {"admin": 201},
        body=lambda i: {"title": "节前廉洁提醒", "body": "...", "targets": {"unit_ids": [i.unit["C01-S1"]]}},
    ),
    Case(
        "POST",
        "/api/broadcasts/audience",
        lambda i: "/api/broadcasts/audience",
        {"admin": 200},
        body=lambda i: {"unit_ids": [i.unit["C01-S1"]]},
        note="how many people a broadcast would reach (sends nothing)",
    ),
    Case("GET", "/api/broadcasts", lambda i: "/api/broadcasts", everyone(200)),
    Case(
        "GET",
        "/api/broadcasts/{broadcast_id:int}",
        lambda i: f"/api/broadcasts/{NOBODY}",
        everyone(404),
        note="no such broadcast (recipients' and others' access: tests/delivery/test_broadcasts.py)",
    ),
    Case(
        "POST",
        "/api/broadcasts/{broadcast_id:int}/read",
        lambda i: f"/api/broadcasts/{NOBODY}/read",
        everyone(404),
    ),
    Case(
        "POST",
        "/api/broadcasts/{broadcast_id:int}/remind",
        lambda i: f"/api/broadcasts/{NOBODY}/remind",
        {"admin": 404},
    ),
    Case(
        "POST",
        "/api/broadcasts/{broadcast_id:int}/cancel",
        lambda i: f"/api/broadcasts/{NOBODY}/cancel",
        {"admin": 404},
    ),
    Case(
        "GET",
        "/api/broadcasts/{broadcast_id:int}/stats",
        lambda i: f"/api/broadcasts/{NOBODY}/stats",
        {"admin": 404},
    ),
]
