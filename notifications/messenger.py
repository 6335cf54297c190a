"""WeCom alerts as template cards, sent through the unit's own app (``probity-wecom://app/<id>``).

The card (:func:`backend.messenger.cards.alert_card`) carries what the doorbell carries — kind,
level, due date, and the topic only where the unit allows it — and the buttons 查看 / 已读 (and
确认 / 退回 for a head told of a reply). WeCom's duplicate check, keyed on the card's task id (the
delivery's dedup key), drops a card sent again after a crash. A user id WeCom does not know marks
the address refused, and the next channel takes over.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import aiohttp

from backend.delivery import channels as ch
from backend.delivery.outbox import Job, Outcome, TargetResult
from backend.delivery.payloads import Message
from backend.messenger.cards import alert_card
from backend.messenger.wecom import UNKNOWN_USER, AppKeys, WeComClient, WeComError

#: how long an app's settings are trusted before they are read again
APP_SECONDS = 30.0
LoadApp = Callable[[int], Awaitable[AppKeys]]


class Sender(Protocol):
    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]: ...


class WeComSender:
    channel = "wecom"

    def __init__(
        self,
        load_app: LoadApp,
        http: aiohttp.ClientSession,
        *,
        public_url: str,
        language: str,
        timeout: float,
    ) -> None:
        self.load_app = load_app
        self.http = http
        self.public_url = public_url
        self.language = language
        self.timeout = timeout
        self._apps: dict[int, tuple[float, AppKeys]] = {}

    async def app(self, app_id: int) -> AppKeys:
        cached = self._apps.get(app_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        app = await self.load_app(app_id)
        self._apps[app_id] = (time.monotonic() + APP_SECONDS, app)
        return app

    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]:
        job = jobs[0]
        app_id = ch.native_app(job.url)
        if not job.address or app_id is None:
            tried = TargetResult("WeCom", "failed", None, "no WeCom user id is bound")
            return [Outcome(j, "failed", [tried]) for j in jobs]
        started = time.perf_counter()
        refused = False
        try:
            app = await self.app(app_id)
            if not app.enabled:
                raise WeComError(-3, "the unit's WeCom app is switched off")
            card = alert_card(
                message, public_url=self.public_url, provider="wecom", app_id=app.id, language=self.language
            )
            await WeComClient(app, self.http, timeout=self.timeout).send_card(job.address, card)
            tried = TargetResult("WeCom", "sent")
        except WeComError as exc:
            refused = exc.errcode in UNKNOWN_USER
            tried = TargetResult("WeCom", "retry" if exc.retryable else "failed", exc.status, str(exc))
        tried.latency_ms = int((time.perf_counter() - started) * 1000)
        result: Literal["sent", "retry", "failed"] = (
            "sent" if tried.outcome == "sent" else "retry" if tried.outcome == "retry" else "failed"
        )
        return [Outcome(j, result, [tried], refused=refused) for j in jobs]


class ByPolicy:
    """WeCom / DingTalk: the messenger app a unit's policy names, else its Apprise URL."""

    def __init__(self, native: WeComSender, apprise: Sender) -> None:
        self.native = native
        self.apprise = apprise

    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]:
        if ch.native_app(jobs[0].url) is not None:
            return await self.native.send(jobs, message)
        return await self.apprise.send(jobs, message)
