"""Fixtures: a fake Bot API, settings pointing at it, the real PTB Application of ``bot/`` fed with
updates as Telegram sends them, binding links made through the PWA's API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application

from backend.app import app_state
from backend.audit.service import AuditTrail
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from bot.app import build_application
from bot.context import Deps
from notifications.worker import Worker
from tests.bot.fakebot import FakeBotApi, Phone
from tests.conftest import TEST_SECRET, Sessions
from tests.warnings.conftest import Seeder

TOKEN = "123456:TEST-probity-bot-token"
TRAIL = AuditTrail(TEST_SECRET)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x07" * 3000


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    api = await FakeBotApi(TOKEN).start()
    yield api
    await api.stop()


@pytest.fixture
def bot_settings(settings: Settings, bot_api: FakeBotApi) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_base": bot_api.base_url,
            "telegram_bot_username": "probity_bot",
            "public_url": "https://probity.test",
            "delivery_backoff_seconds": 0.0,
            "delivery_backoff_max_seconds": 0.0,
        }
    )


@pytest.fixture
async def app(shared_app: Litestar, bot_settings: Settings) -> AsyncIterator[Litestar]:
    """The PWA's side (API) knows the bot's name; the bot itself is not started (env test)."""
    shared_app.state.update(app_state(bot_settings))
    yield shared_app
    await shared_app.state.db.dispose()


class BotWorld:
    """The bot as deployed, the people of the demo organisation, and their phones."""

    def __init__(self, db: Database, settings: Settings, api: FakeBotApi, sessions: Sessions) -> None:
        self.db = db
        self.settings = settings
        self.api = api
        self.sessions = sessions
        self.seed = Seeder(db)
        self.apps: list[Application[Any, Any, Any, Any, Any, Any]] = []

    async def bot(self, **overrides: Any) -> Application[Any, Any, Any, Any, Any, Any]:
        """A freshly built and initialized Application (as after a process start)."""
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        application = build_application(Deps(self.db, settings, TRAIL), webhook=True)
        await application.initialize()
        await application.start()  # its job queue keeps the conversation timeout
        self.apps.append(application)
        return application

    async def feed(
        self, application: Application[Any, Any, Any, Any, Any, Any], *updates: dict[str, Any]
    ) -> None:
        for data in updates:
            await application.process_update(Update.de_json(data, application.bot))

    async def link(self, username: str) -> str:
        """The PWA asks for a binding link for ``username`` and returns its code."""
        r = await self.sessions.client.post(
            "/api/telegram/link", headers=await self.sessions.headers(username)
        )
        assert r.status_code == 201, r.text
        return str(r.json()["code"])

    async def bind(self, application: Any, username: str, phone: Phone) -> None:
        await self.feed(application, phone.text(f"/start {await self.link(username)}"))

    async def manager_with_warning(
        self, level: str = "high", **bot_overrides: Any
    ) -> tuple[Application[Any, Any, Any, Any, Any, Any], Phone, int]:
        """A started bot, the manager's bound phone (chat 5005) and a warning of theirs."""
        bot = await self.bot(**bot_overrides)
        phone = Phone(5005)
        await self.bind(bot, "manager", phone)
        return bot, phone, await self.seed.warning("E0005", level=level)

    def worker(self) -> Worker:
        return Worker(self.db, self.settings, TRAIL, name="bot-tests")

    async def close(self) -> None:
        for application in self.apps:
            if application.running:
                await application.stop()
            await application.shutdown()


@pytest.fixture
async def world(
    db: Database, bot_settings: Settings, bot_api: FakeBotApi, sessions: Sessions
) -> AsyncIterator[BotWorld]:
    w = BotWorld(db, bot_settings, bot_api, sessions)
    yield w
    await w.close()
