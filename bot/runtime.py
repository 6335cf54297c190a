"""The bot inside ``probity serve``: long polling in development, a webhook in production.

:func:`start_bot` is called from the app's lifespan. Without a token the bot is off (one log
line) and everything else runs. If Telegram cannot be reached at start, the app starts anyway
and the bot keeps trying in the background. In webhook mode the app's
``POST /telegram/webhook`` (``backend.telegram.controller``) checks the secret token and hands
each update to :meth:`BotRuntime.feed`.

One process should run the bot: conversation state is loaded from the database when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from backend.kernel.errors import AppError
from backend.telegram.service import bot_enabled, webhook_mode, webhook_secret, webhook_url
from bot.app import build_application
from bot.context import Deps

log = logging.getLogger("probity.bot")


class BotRuntime:
    def __init__(self, deps: Deps, *, webhook: bool, state: Any = None) -> None:
        self.deps = deps
        self.webhook = webhook
        self.secret = webhook_secret(deps.settings)
        self.username: str | None = deps.settings.telegram_bot_username
        self.application = build_application(deps, webhook=webhook)
        self.running = asyncio.Event()
        self._retry: asyncio.Task[None] | None = None
        #: the app's state, where the webhook route finds this runtime while it runs
        self._state = state

    async def start(self) -> BotRuntime:
        """Try once now; on a network failure keep trying in the background."""
        try:
            await self._start()
        except InvalidToken:
            log.error("Telegram refused the bot token: the bot is off")
        except NetworkError as exc:
            log.warning("Telegram is not reachable (%s); the bot keeps trying", exc)
            self._retry = asyncio.create_task(self._keep_trying(), name="telegram bot start")
        except TelegramError as exc:
            log.error("Telegram refused to start the bot (%s): the bot is off", exc)
        return self

    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        self.username = self.username or app.bot.username
        if self.webhook:
            url = webhook_url(self.deps.settings)
            try:
                await app.bot.set_webhook(url=url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES)
            except BadRequest as exc:
                log.error("Telegram refused the webhook %s (%s): set PROBITY_PUBLIC_URL to https", url, exc)
        await app.start()
        if not self.webhook and app.updater is not None:
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        self.running.set()
        log.info("Telegram bot @%s is on (%s)", self.username, "webhook" if self.webhook else "long polling")

    async def _keep_trying(self) -> None:
        delay = 2.0
        while not self.running.is_set():
            await asyncio.sleep(delay)
            try:
                await self._start()
            except InvalidToken:
                log.error("Telegram refused the bot token: the bot is off")
                return
            except NetworkError as exc:
                delay = min(delay * 2, 300.0)
                log.warning("Telegram is still not reachable (%s); next try in %.0f s", exc, delay)

    async def feed(self, payload: dict[str, Any]) -> None:
        """A webhook update: queued for the application (Telegram gets its 200 at once)."""
        if not self.running.is_set():
            raise AppError("the bot is starting", code="bot_starting", status=503)
        await self.application.update_queue.put(Update.de_json(payload, self.application.bot))

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
        app = self.application
        with contextlib.suppress(TelegramError, RuntimeError):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        self.running.clear()
        if self._state is not None and self._state.get("telegram_bot") is self:
            self._state.telegram_bot = None


async def start_bot(app: Any) -> BotRuntime | None:
    """Start the bot of this process if configured (called from the app's lifespan)."""
    state = app.state
    settings = state.settings
    state.telegram_bot = None
    if settings.telegram_bot_token is None:
        log.info("Telegram bot is off: PROBITY_TELEGRAM_BOT_TOKEN is not set")
        return None
    if not bot_enabled(settings):
        log.info("Telegram bot is off: PROBITY_TELEGRAM_BOT_ENABLED is false (or env is test)")
        return None
    deps = Deps(state.db, settings, state.trail, state.get("facts_cache"))
    runtime = BotRuntime(deps, webhook=webhook_mode(settings), state=state)
    state.telegram_bot = runtime
    return await runtime.start()
