"""The PWA's side of binding: a one-time link for the signed-in person, the binding state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.kernel.settings import Settings
from backend.telegram.models import TelegramLinkCode
from backend.telegram.service import deep_link, file_base, webhook_mode


@pytest.fixture
def offered(shared_app, settings: Settings):
    """This deployment offers Telegram (a bot token is set; the bot itself is not running here)."""
    shared_app.state.settings = settings.model_copy(update={"telegram_bot_token": SecretStr("1:offered")})


async def test_a_deployment_without_telegram_refuses_a_binding_link(client, sessions):
    r = await client.post("/api/telegram/link", headers=await sessions.headers("manager"))
    assert r.status_code == 409 and r.json()["code"] == "telegram_not_offered"


async def test_a_link_is_made_for_me_only_and_kept_as_a_hash(client, sessions, db, offered):
    r = await client.post("/api/telegram/link", headers=await sessions.headers("manager"))
    assert r.status_code == 201
    body = r.json()
    assert body["url"] is None and body["bot_username"] is None  # the bot is not running here
    assert body["start_command"] == f"/start {body['code']}"
    assert len(body["code"]) >= 20 and body["expires_at"].endswith("+08:00")
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=9) < expires - datetime.now(expires.tzinfo) <= timedelta(minutes=10)
    async with db.session() as s:
        rows = (await s.execute(select(TelegramLinkCode))).scalars().all()
        assert len(rows) == 1 and rows[0].code_hash != body["code"]
        record = (
            await s.execute(
                select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "telegram.link")
            )
        ).scalar_one()
        assert body["code"] not in str(record.new_value) and record.channel == "api"
    me = await client.get("/api/telegram/me", headers=await sessions.headers("manager"))
    assert me.json() == {"bound": False, "bound_at": None, "language": None, "bot_username": None}
    r = await client.post("/api/telegram/link", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_settings_for_the_bot(settings: Settings):
    assert deep_link("probity_bot", "abc") == "https://t.me/probity_bot?start=abc"
    assert deep_link(None, "abc") is None
    assert file_base(settings) == "https://api.telegram.org/file/bot"
    local = settings.model_copy(update={"telegram_api_base": "http://127.0.0.1:8081/bot"})
    assert file_base(local) == "http://127.0.0.1:8081/file/bot"
    assert not webhook_mode(settings)
    assert webhook_mode(settings.model_copy(update={"env": "production"}))
    assert not webhook_mode(settings.model_copy(update={"env": "production", "telegram_mode": "polling"}))


def test_the_token_is_read_under_both_names(monkeypatch):
    monkeypatch.setenv("PROBITY_TELEGRAM_TOKEN", "1:abc")
    monkeypatch.setenv("PROBITY_TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.telegram_bot_token is not None and s.telegram_bot_token.get_secret_value() == "1:abc"
    assert s.telegram_api_base == "http://127.0.0.1:9/bot"
    monkeypatch.setenv("PROBITY_TELEGRAM_BOT_TOKEN", "2:def")
    assert Settings(_env_file=None).telegram_bot_token.get_secret_value() == "2:def"  # type: ignore[call-arg, union-attr]
