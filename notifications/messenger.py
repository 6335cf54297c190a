"""WeCom and DingTalk alerts through the unit's own app (``probity-wecom://app/<id>``,
``probity-dingtalk://app/<id>``): WeCom template cards; DingTalk interactive cards where the app
has a card template (presses come back through Stream mode), else work notices with action cards.

A card (:mod:`backend.messenger.cards`) carries what the doorbell carries — kind, level, due date,
and the topic only where the unit allows it — and the buttons 查看 / 已读 (and 确认 / 退回 for a
head told of a reply). A card sent again after a crash is the same card: WeCom's duplicate check
(keyed on the card's task id, the delivery's dedup key) and DingTalk's once-a-day rule for the same
content drop the repeat. A user id the messenger does not know marks the address refused, and the
next channel takes over.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import aiohttp

from backend.delivery import channels as ch
from backend.delivery.claimed import Job, Outcome, TargetResult
from backend.delivery.payloads import Message
from backend.kernel.settings import Settings
from backend.messenger.cards import action_card, alert_card, interactive_params, task_id
from backend.messenger.client import UNKNOWN_USER, AppKeys, MessengerError
from backend.messenger.dingtalk import DingTalkClient
from backend.messenger.service import client_for, press_target

#: how long an app's settings are trusted before they are read again
APP_SECONDS = 30.0
LoadApp = Callable[[int], Awaitable[AppKeys]]
NAMES = {"wecom": "WeCom", "dingtalk": "DingTalk"}


class Sender(Protocol):
    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]: ...


class MessengerSender:
    def __init__(
        self,
        channel: str,
        load_app: LoadApp,
        http: aiohttp.ClientSession,
        *,
        settings: Settings,
    ) -> None:
        self.channel = channel
        self.name = NAMES[channel]
        self.load_app = load_app
        self.http = http
        self.settings = settings
        self._apps: dict[int, tuple[float, AppKeys]] = {}

    async def app(self, app_id: int) -> AppKeys:
        cached = self._apps.get(app_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        app = await self.load_app(app_id)
        self._apps[app_id] = (time.monotonic() + APP_SECONDS, app)
        return app

    def card(self, app: AppKeys, job: Job, message: Message) -> dict[str, Any]:
        settings = self.settings
        language = job.language or settings.delivery_language
        if self.channel == "dingtalk":
            return action_card(
                message,
                public_url=settings.public_url,
                app_id=app.id,
                press=lambda key: press_target(settings, key, job.person_id),
                language=language,
            )
        return alert_card(
            message,
            public_url=settings.public_url,
            provider=self.channel,
            app_id=app.id,
            language=language,
        )

    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]:
        job = jobs[0]
        app_id = ch.native_app(job.url)
        if not job.address or app_id is None:
            tried = TargetResult(self.name, "failed", None, f"no {self.name} user id is bound")
            return [Outcome(j, "failed", [tried]) for j in jobs]
        started = time.perf_counter()
        refused = False
        try:
            app = await self.app(app_id)
            if not app.enabled:
                raise MessengerError(-3, "the unit's app is switched off")
            client = client_for(app, self.http, timeout=self.settings.delivery_timeout_seconds)
            if isinstance(client, DingTalkClient) and app.card_template_id:
                params = interactive_params(
                    message,
                    public_url=self.settings.public_url,
                    app_id=app.id,
                    language=job.language or self.settings.delivery_language,
                )
                await client.deliver_card(job.address, task_id(message.tag), params)
            else:
                await client.send_card(job.address, self.card(app, job, message))
            tried = TargetResult(self.name, "sent")
        except MessengerError as exc:
            refused = exc.errcode in UNKNOWN_USER
            tried = TargetResult(self.name, "retry" if exc.retryable else "failed", exc.status, str(exc))
        tried.latency_ms = int((time.perf_counter() - started) * 1000)
        result: Literal["sent", "retry", "failed"] = (
            "sent" if tried.outcome == "sent" else "retry" if tried.outcome == "retry" else "failed"
        )
        return [Outcome(j, result, [tried], refused=refused) for j in jobs]


class ByPolicy:
    """WeCom / DingTalk: the messenger app a unit's policy names, else its Apprise URL."""

    def __init__(self, native: MessengerSender, apprise: Sender) -> None:
        self.native = native
        self.apprise = apprise

    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]:
        if ch.native_app(jobs[0].url) is not None:
            return await self.native.send(jobs, message)
        return await self.apprise.send(jobs, message)
