"""Web Push: ``webpush`` builds the aes128gcm body and the VAPID header, :mod:`notifications.pushhttp`
sends (kept-alive connections pinned to checked addresses).

Per subscription: 2xx delivered; 404/410 the subscription is gone (deleted); 413 the body is sent
again shrunk to title, link and tag; 429 and 5xx (and network errors) are retried later, honouring
``Retry-After``; any other 4xx is a failure of this channel (the next one takes over).
``ttl`` and ``subscriber`` are passed on every call: ``WebPush.get`` keeps them on the instance.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, cast

from pydantic import AnyHttpUrl
from webpush import WebPush, WebPushSubscription

from backend.delivery.claimed import Job, Outcome, PushTarget, TargetResult
from backend.delivery.payloads import Message
from backend.kernel.timeutil import utcnow
from notifications.pushhttp import PushClient

OCTETS = "application/octet-stream"
GONE = {404, 410}
RETRY = {408, 425, 429}


def topic(tag: str) -> str:
    """A ``Topic`` header (≤ 32 URL-safe base64 characters): the service keeps one pending per topic."""
    return base64.urlsafe_b64encode(hashlib.sha256(tag.encode()).digest()).decode()[:32]


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass(slots=True)
class _Keys:
    auth: str
    p256dh: str


@dataclass(slots=True)
class _Subscription:
    """What ``WebPush.get`` reads of a subscription (endpoint, keys), without a pydantic model."""

    endpoint: str
    keys: _Keys


class WebPushSender:
    channel = "webpush"

    def __init__(
        self,
        private_pem: str,
        public_pem: str,
        *,
        subscriber: str,
        ttl: int,
        http: PushClient,
    ) -> None:
        self.subscriber = subscriber
        self.ttl = ttl
        self.push = WebPush(
            private_key=private_pem.encode(), public_key=public_pem.encode(), subscriber=subscriber, ttl=ttl
        )
        self.http = http
        self._signed: dict[tuple[str, str], tuple[float, str]] = {}
        sign = self.push.vapid.get_authorization_header

        def signed_once_per_service(endpoint: Any, subscriber: Any, expiration: int) -> str:
            """The VAPID JWT names the push service, not the device: one per service, reused for
            up to an hour (it is valid for ``expiration``, 12 h by default)."""
            url = str(endpoint)
            origin = url.find("/", url.find("://") + 3)  # scheme://host:port, without parsing
            key = (url if origin < 0 else url[:origin], str(subscriber))
            now = time.monotonic()
            hit = self._signed.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            header = sign(endpoint=AnyHttpUrl(url), subscriber=subscriber, expiration=expiration)
            self._signed[key] = (now + min(expiration / 2, 3600.0), header)
            return header

        setattr(self.push.vapid, "get_authorization_header", signed_once_per_service)  # noqa: B010

    def encrypt(self, body: bytes, target: PushTarget) -> tuple[bytes, dict[str, str]]:
        """``webpush`` encrypts (aes128gcm, a new ECDH key per message) and adds the VAPID header.
        The subscription's keys were checked when it was stored: built without validating again."""
        subscription = cast(
            WebPushSubscription, _Subscription(target.endpoint, _Keys(target.auth, target.p256dh))
        )
        message = self.push.get(body, subscription, subscriber=self.subscriber, ttl=self.ttl)
        return message.encrypted, dict(message.headers)

    async def _post(
        self, target: PushTarget, body: bytes, extra: dict[str, str]
    ) -> tuple[int | None, str | None, float | None, int]:
        started = time.perf_counter()
        data, headers = self.encrypt(body, target)
        headers.update(extra)
        headers["content-type"] = OCTETS
        try:
            answer = await self.http.post(target.endpoint, headers, data)
        except (OSError, TimeoutError) as exc:  # PushHTTPError and NotPublicAddress are OSErrors
            return (
                None,
                f"{type(exc).__name__}: {exc}"[:200],
                None,
                int((time.perf_counter() - started) * 1000),
            )
        ms = int((time.perf_counter() - started) * 1000)
        if answer.status < 300:
            return answer.status, None, None, ms
        return answer.status, answer.text()[:200], retry_after(answer.headers.get("retry-after")), ms

    async def send_one(
        self, target: PushTarget, message: Message, body: bytes | None = None
    ) -> tuple[list[TargetResult], float | None]:
        name = f"subscription {target.subscription_id}"
        extra = {
            "ttl": str(self.ttl),
            "urgency": message.urgency,
            "topic": topic(message.tag),
        }
        status, text, wait, ms = await self._post(target, body or push_body(message), extra)
        tries: list[TargetResult] = []
        if status == 413:
            tries.append(TargetResult(name, "shrunk", 413, "payload too large: sent again shrunk", ms))
            status, text, wait, ms = await self._post(target, _json(message.shrunk_json()), extra)
        if status is not None and 200 <= status < 300:
            tries.append(TargetResult(name, "sent", status, None, ms))
        elif status in GONE:
            tries.append(
                TargetResult(name, "gone", status, "the subscription has expired or was removed", ms)
            )
        elif status is None or status in RETRY or status >= 500:
            tries.append(TargetResult(name, "retry", status, _reason(status, text), ms))
        else:
            tries.append(TargetResult(name, "failed", status, _reason(status, text), ms))
        return tries, wait

    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]:
        """One message to every device of one person; the same outcome for each grouped job."""
        targets = jobs[0].subscriptions
        if not targets:
            tries = [TargetResult(None, "failed", None, "no device is subscribed")]
            return [Outcome(job, "failed", list(tries)) for job in jobs]
        body = push_body(message)
        if len(targets) == 1:  # the common case: no task per device
            answers = [await self.send_one(targets[0], message, body)]
        else:
            answers = await asyncio.gather(*(self.send_one(t, message, body) for t in targets))
        tries = [t for got, _ in answers for t in got]
        waits = [wait for _, wait in answers if wait is not None]
        finals = tries_by_target(tries, targets)
        gone = [t.subscription_id for t, r in zip(targets, finals, strict=True) if r == "gone"]
        ok = [t.subscription_id for t, r in zip(targets, finals, strict=True) if r == "sent"]
        final = [t.outcome for t in tries if t.outcome != "shrunk"]
        result: Any = "sent" if "sent" in final else "retry" if "retry" in final else "failed"
        return [
            Outcome(
                job,
                result,
                list(tries),
                retry_after=max(waits) if waits else None,
                gone_subscriptions=gone if i == 0 else [],
                ok_subscriptions=ok if i == 0 else [],
            )
            for i, job in enumerate(jobs)
        ]


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@lru_cache(maxsize=512)
def _shared_part(
    title: str, body: str, link: str, level: str | None, count: int, due: datetime | None
) -> bytes:
    """What the messages of one fan-out have in common, encoded once (without the closing brace)."""
    shared = {"title": title, "body": body, "url": link, "level": level, "count": count}
    return _json({**shared, "due": due.isoformat() if due else None})[:-1]


def push_body(message: Message) -> bytes:
    """``message.push_json()`` encoded: the shared part once per fan-out, then this message's keys."""
    m = message
    own = _json({"tag": m.tag, "keys": list(m.keys)})
    return _shared_part(m.title, m.body, m.link, m.level, m.count, m.due_at) + b"," + own[1:]


def _reason(status: int | None, text: str | None) -> str:
    if status is None:
        return text or "no answer"
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def tries_by_target(tries: list[TargetResult], targets: list[PushTarget]) -> list[str]:
    """The final outcome per target, in target order."""
    final: dict[str, str] = {}
    for t in tries:
        if t.outcome != "shrunk" and t.target is not None:
            final[t.target] = t.outcome
    return [final.get(f"subscription {s.subscription_id}", "failed") for s in targets]
