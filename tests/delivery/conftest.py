"""Fixtures: fake services on 127.0.0.1, a worker driven step by step, events written as the
lifecycle writes them (``emit`` in a transaction), channel settings through the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from backend.audit.service import AuditTrail
from backend.delivery.models import AddressUpdate, ChannelConfigUpdate, DeliveryChannel, SubscriptionCreate
from backend.delivery.service import DeliveryService
from backend.events.service import emit
from backend.kernel.access import Actor
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.org.service import OrgService
from notifications.worker import Worker
from tests.conftest import TEST_SECRET
from tests.delivery.fakes import Browser, FakeBotApi, FakePushService, HttpReceiver, browser_subscription

TRAIL = AuditTrail(TEST_SECRET)
ADMIN = Actor.system(label="tests")
BOT_TOKEN = "123456:TEST-bot-token-secret"


class World:
    """The demo organisation as delivery sees it, plus helpers that act like the other domains."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.ids: dict[str, int] = {}
        self.units: dict[str, int] = {}

    async def person(self, employee_no: str) -> int:
        if employee_no not in self.ids:
            async with self.db.session() as s:
                p = await OrgService(s, TRAIL).person_by_no(employee_no)
                assert p is not None and p.id is not None
                self.ids[employee_no] = p.id
        return self.ids[employee_no]

    async def unit(self, code: str) -> int:
        if code not in self.units:
            async with self.db.session() as s:
                u = await OrgService(s, TRAIL).unit_by_code(code)
                assert u is not None and u.id is not None
                self.units[code] = u.id
        return self.units[code]

    async def event(
        self,
        recipients: dict[int, str],
        *,
        kind: str = "warning.raised",
        level: str | None = "high",
        subject_id: int = 1,
        data: dict[str, Any] | None = None,
        age: timedelta | None = None,
    ) -> int:
        """An event and its recipient rows, committed as the lifecycle commits them."""
        async with self.db.session() as s:
            payload = {
                "warning_id": subject_id,
                "topic_code": "T01",
                "due_at": (utcnow() + timedelta(days=14)).isoformat(),
            }
            e = await emit(
                s,
                kind,
                subject_type="warning" if kind.startswith("warning") else "broadcast",
                subject_id=subject_id,
                recipients=recipients,
                level=level,
                data={**payload, **(data or {})},
            )
            if age is not None:
                e.created_at = utcnow() - age
                s.add(e)
            await s.commit()
            assert e.id is not None
            return e.id

    async def subscribe(self, person_id: int, browser: Browser) -> int:
        async with self.db.session() as s:
            sub = await DeliveryService(s, TRAIL, self.settings).subscribe(
                ADMIN, person_id, SubscriptionCreate.model_validate(browser.json())
            )
            return sub.id

    async def address(self, person_id: int, channel: str, address: str) -> None:
        async with self.db.session() as s:
            svc = DeliveryService(s, TRAIL, self.settings)
            if channel == "telegram":
                await svc.bind_telegram(ADMIN, person_id, address)
            else:
                await svc.set_address(
                    ADMIN, person_id, DeliveryChannel(channel), AddressUpdate(address=address)
                )

    async def policy(self, unit_code: str, channel: str, **values: Any) -> None:
        async with self.db.session() as s:
            await DeliveryService(s, TRAIL, self.settings).put_config(
                ADMIN, await self.unit(unit_code), DeliveryChannel(channel), ChannelConfigUpdate(**values)
            )

    async def unit_policy(self, unit_code: str, **values: Any) -> None:
        from backend.delivery.models import UnitPolicyUpdate

        async with self.db.session() as s:
            await DeliveryService(s, TRAIL, self.settings).put_unit_policy(
                ADMIN, await self.unit(unit_code), UnitPolicyUpdate.model_validate(values)
            )

    async def order(self, person_id: int, order: list[str], quiet: tuple[str, str] | None = None) -> None:
        from backend.delivery.models import PreferenceUpdate

        values: dict[str, Any] = {"channel_order": order}
        if quiet:
            values.update(quiet_start=quiet[0], quiet_end=quiet[1])
        async with self.db.session() as s:
            await DeliveryService(s, TRAIL, self.settings).update_preferences(
                ADMIN, person_id, PreferenceUpdate.model_validate(values)
            )

    def with_telegram(self, api: FakeBotApi) -> None:
        self.settings = self.settings.model_copy(
            update={"telegram_bot_token": SecretStr(BOT_TOKEN), "telegram_api_base": api.base_url}
        )

    def worker(self, name: str = "w1", **overrides: Any) -> Worker:
        settings = self.settings.model_copy(update=overrides)
        return Worker(self.db, settings, TRAIL, name=name)


@pytest.fixture
def world(db: Database, settings: Settings) -> World:
    fast = settings.model_copy(
        update={
            "delivery_backoff_seconds": 0.0,
            "delivery_backoff_max_seconds": 0.0,
            "public_url": "https://probity.test",
            # the fake push service listens on 127.0.0.1 over http
            "push_allow_private": True,
        }
    )
    return World(db, fast)


@pytest.fixture
async def push() -> AsyncIterator[FakePushService]:
    service = await FakePushService().start()
    yield service
    await service.stop()


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    api = await FakeBotApi(BOT_TOKEN).start()
    yield api
    await api.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[HttpReceiver]:
    r = await HttpReceiver().start()
    yield r
    await r.stop()


@pytest.fixture
def patch_apprise(monkeypatch: pytest.MonkeyPatch, receiver: HttpReceiver) -> HttpReceiver:
    """Point Apprise's WeCom, DingTalk and Feishu plugins at the local receiver."""
    from apprise.plugins.dingtalk import NotifyDingTalk
    from apprise.plugins.feishu import NotifyFeishu
    from apprise.plugins.wechat import NotifyWeChat

    monkeypatch.setattr(NotifyWeChat, "token_url", f"{receiver.base}/cgi-bin/gettoken")
    monkeypatch.setattr(NotifyWeChat, "notify_url", f"{receiver.base}/cgi-bin/message/send")
    monkeypatch.setattr(NotifyDingTalk, "notify_url", f"{receiver.base}/robot/send?access_token={{token}}")
    monkeypatch.setattr(NotifyFeishu, "notify_url", f"{receiver.base}/open-apis/bot/v2/hook/{{token}}/")
    return receiver


def new_browser(push: FakePushService, name: str) -> Browser:
    return browser_subscription(push.endpoint(name))


__all__ = ["BOT_TOKEN", "TEST_SECRET", "World", "new_browser"]
