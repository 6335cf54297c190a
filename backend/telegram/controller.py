"""Telegram over HTTP: the PWA's binding link and binding state; the bot's webhook door."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, requires
from backend.kernel.errors import Forbidden, Invalid, NotFound
from backend.telegram.models import TelegramLink, TelegramMe
from backend.telegram.service import BotPort, TelegramService, deep_link

log = logging.getLogger("probity.telegram")
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name


async def provide_telegram(db_session: NamedDependency[AsyncSession], state: State) -> TelegramService:
    return TelegramService(db_session, state.trail, state.settings, state.get("facts_cache"))


def running_bot(state: State) -> BotPort | None:
    port: BotPort | None = state.get("telegram_bot")
    return port


def bot_username(state: State) -> str | None:
    port = running_bot(state)
    return (port.username if port else None) or state.settings.telegram_bot_username


class TelegramController(Controller):
    path = "/api/telegram"
    tags = ["telegram"]
    dependencies = {"telegram": Provide(provide_telegram)}
    guards = [requires()]

    @post("/link", status_code=201, summary="A one-time link that binds my Telegram account (10 minutes)")
    async def link(
        self, telegram: NamedDependency[TelegramService], request: Request[Principal, Any, Any], state: State
    ) -> TelegramLink:
        made = await telegram.new_link(request.user)
        username = bot_username(state)
        return TelegramLink(
            code=made.code,
            url=deep_link(username, made.code),
            start_command=f"/start {made.code}",
            bot_username=username,
            expires_at=made.expires_at,
        )

    @get("/me", summary="Is a Telegram account bound to me")
    async def me(
        self, telegram: NamedDependency[TelegramService], request: Request[Principal, Any, Any], state: State
    ) -> TelegramMe:
        binding = await telegram.binding_of(request.user.person_id)
        username = bot_username(state)
        if binding is None:
            return TelegramMe(bound=False, bot_username=username)
        return TelegramMe(
            bound=True, bound_at=binding.bound_at, language=binding.language, bot_username=username
        )

    @delete("/me", status_code=204, summary="Unbind my Telegram account (alerts stop going there)")
    async def unbind(
        self, telegram: NamedDependency[TelegramService], request: Request[Principal, Any, Any]
    ) -> None:
        await telegram.unbind(request.user)


class TelegramWebhookController(Controller):
    """Telegram posts updates here in webhook mode; the secret token header is checked every time."""

    path = "/telegram"
    include_in_schema = False

    @post("/webhook", status_code=200)
    async def webhook(self, request: Request[Any, Any, Any], state: State) -> dict[str, bool]:
        port = running_bot(state)
        if port is None or not port.webhook:
            raise NotFound("no Telegram webhook here", code="not_found")
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), port.secret.encode()):
            log.warning("a Telegram webhook call without the right secret token was refused")
            raise Forbidden("wrong secret token", code="bad_webhook_secret")
        payload = await request.json()
        if not isinstance(payload, dict) or "update_id" not in payload:
            raise Invalid("not a Telegram update", code="invalid_update")
        await port.feed(payload)
        return {"ok": True}
