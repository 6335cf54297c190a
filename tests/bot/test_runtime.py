"""The bot inside the app: started and stopped with its lifespan; webhook with the secret token
checked on every call; long polling; off without a token; the app runs when Telegram is down."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient
from pydantic import SecretStr

from backend.app import create_app
from backend.kernel.settings import Settings
from backend.telegram.service import webhook_secret
from tests.bot.conftest import TOKEN
from tests.bot.fakebot import FakeBotApi, Phone, ThreadedBotApi
from tests.conftest import Sessions
from tests.delivery.fakes import free_port

HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def telegram() -> Iterator[ThreadedBotApi]:
    server = ThreadedBotApi(TOKEN)
    yield server
    server.stop()


@pytest.fixture
def served(settings: Settings, telegram: ThreadedBotApi) -> Settings:
    """Settings of a served app whose bot talks to the fake Bot API."""
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_base": telegram.api.base_url,
            "telegram_bot_enabled": True,
            "public_url": "https://probity.test",
        }
    )


class Lines(logging.Handler):
    """The app's logging setup replaces the root handlers (and so pytest's caplog): listen here."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def bot_log() -> Iterator[Lines]:
    logger, handler = logging.getLogger("probity.bot"), Lines()
    old = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


async def test_webhook_mode_checks_the_secret_and_serves_updates(served: Settings, telegram: ThreadedBotApi):
    api: FakeBotApi = telegram.api
    settings = served.model_copy(update={"telegram_mode": "webhook"})
    secret = webhook_secret(settings)
    app = create_app(settings)
    stranger, manager = Phone(9999), Phone(5005)
    async with AsyncTestClient(app=app) as client:
        assert api.webhook is not None
        assert api.webhook["url"] == "https://probity.test/telegram/webhook"
        assert api.webhook["secret_token"] == secret
        update = stranger.text("/inbox")
        assert (await client.post("/telegram/webhook", json=update)).status_code == 403
        wrong = {HEADER: "x" * len(secret)}
        assert (await client.post("/telegram/webhook", json=update, headers=wrong)).status_code == 403
        right = {HEADER: secret}
        assert (await client.post("/telegram/webhook", json=[1], headers=right)).status_code == 400
        r = await client.post("/telegram/webhook", json=update, headers=right)
        assert r.status_code == 200 and r.json() == {"ok": True}
        await api.wait_for("sendMessage")
        assert "只为已绑定的账号服务" in api.texts(9999)[0]

        sessions = Sessions(client)
        link = (await client.post("/api/telegram/link", headers=await sessions.headers("manager"))).json()
        assert link["url"] == f"https://t.me/probity_bot?start={link['code']}"  # the name from getMe
        await client.post("/telegram/webhook", json=manager.text(f"/start {link['code']}"), headers=right)
        await api.wait_for("sendMessage", 2)
        assert "绑定成功" in api.texts(5005)[0]
        assert (await client.get("/api/telegram/me", headers=await sessions.headers("manager"))).json()[
            "bound"
        ]
    assert app.state.telegram_bot is None  # stopped with the app


async def test_long_polling_in_development(served: Settings, telegram: ThreadedBotApi):
    api: FakeBotApi = telegram.api
    app = create_app(served.model_copy(update={"env": "development", "workers_enabled": False}))
    async with AsyncTestClient(app=app) as client:
        telegram.put(Phone(9999).text("/help"))
        await api.wait_for("sendMessage")
        assert "只为已绑定的账号服务" in api.texts(9999)[0]
        assert api.of("deleteWebhook")
        r = await client.post("/telegram/webhook", json={"update_id": 1})
        assert r.status_code == 404  # no webhook door while polling


async def test_no_token_means_the_bot_is_off_with_one_log_line(settings: Settings, bot_log: Lines):
    app = create_app(settings.model_copy(update={"telegram_bot_enabled": True}))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/healthz")).status_code == 200
        r = await client.post("/telegram/webhook", json={"update_id": 1})
        assert r.status_code == 404
    assert bot_log.lines == ["Telegram bot is off: PROBITY_TELEGRAM_BOT_TOKEN is not set"]


async def test_the_app_runs_while_telegram_is_unreachable(served: Settings, bot_log: Lines):
    down = f"http://127.0.0.1:{free_port()}/bot"
    settings = served.model_copy(update={"telegram_mode": "webhook", "telegram_api_base": down})
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/healthz")).status_code == 200
        r = await client.post(
            "/telegram/webhook", json=Phone(1).text("/start"), headers={HEADER: webhook_secret(settings)}
        )
        assert r.status_code == 503 and r.json()["code"] == "bot_starting"
    assert any("not reachable" in line for line in bot_log.lines)


async def test_the_bot_token_never_reaches_the_logs(served: Settings, telegram: ThreadedBotApi):
    """httpx logs every request URL at INFO, and a Bot API URL holds the token: at the default
    level (INFO) nothing logged names it."""
    api: FakeBotApi = telegram.api
    app = create_app(served.model_copy(update={"env": "development", "log_level": "INFO"}))
    lines, root = Lines(), logging.getLogger()  # after the app's set-up, which replaces handlers
    lines.setLevel(logging.DEBUG)
    old = root.level
    root.addHandler(lines)
    root.setLevel(logging.INFO)  # what PROBITY_LOG_LEVEL's default gives a served app
    try:
        async with AsyncTestClient(app=app):
            telegram.put(Phone(9999).text("/help"))
            await api.wait_for("sendMessage")
    finally:
        root.removeHandler(lines)
        root.setLevel(old)
    secret = TOKEN.split(":", 1)[1]
    assert not [line for line in lines.lines if secret in line]
