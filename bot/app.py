"""The PTB ``Application`` of Probity, built from settings: handlers, persistence, flood control,
one error handler."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application, ApplicationBuilder

from backend.kernel.errors import AppError
from backend.telegram.service import file_base
from bot import checkup, commands, evaluation, ladder, ladder_act, replies, texts
from bot.context import DEPS, Context, Deps, NotBound, language, tell
from bot.limits import RetryAfterLimiter, retry_seconds
from bot.persistence import DatabasePersistence

log = logging.getLogger("probity.bot")


class ProbityApplication(Application[Any, Any, Any, Any, Any, Any]):
    """Writes the persisted state after every update, not once a minute: a restart (or a crash)
    right after an answer still finds the reply where the person left it."""

    async def process_update(self, update: object) -> None:
        await super().process_update(update)
        if self.persistence is not None:
            await self.update_persistence()


async def on_error(update: object, context: Context) -> None:
    """The one error handler: refusals in the person's words, the rest logged."""
    error = context.error
    if not isinstance(update, Update):
        log.error("Telegram bot error outside an update", exc_info=error)
        return
    if isinstance(error, RetryAfter):
        log.warning(
            "Telegram kept asking to wait (%.0f s); update %s dropped", retry_seconds(error), update.update_id
        )
        return
    if isinstance(error, NetworkError):
        log.warning("Telegram could not be reached for update %s: %s", update.update_id, error)
        return
    if isinstance(error, NotBound):
        await tell(update, context, texts.t(error.language, "not_bound"))
        return
    lang = await language(update, context)
    if isinstance(error, AppError):
        await tell(update, context, texts.refusal(lang, error.code, error.detail))
        return
    log.error("Telegram update %s failed", update.update_id, exc_info=error)
    await tell(update, context, texts.t(lang, "error"))


def build_application(deps: Deps, *, webhook: bool) -> Application[Any, Any, Any, Any, Any, Any]:
    settings = deps.settings
    if settings.telegram_bot_token is None:
        raise ValueError("PROBITY_TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .application_class(ProbityApplication)
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base)
        .base_file_url(file_base(settings))
        .persistence(DatabasePersistence(deps.db))
        .rate_limiter(RetryAfterLimiter())
    )
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[DEPS] = deps
    application.add_handler(
        replies.conversation(
            settings,
            [*ladder.entry_points(), *ladder_act.entry_points(), *evaluation.entry_points()],
            {**ladder.states(), **ladder_act.states(), **evaluation.states()},
        )
    )
    application.add_handlers(checkup.handlers())  # before the commands' catch-alls
    application.add_handlers(ladder.handlers())
    application.add_handlers(evaluation.handlers())
    application.add_handlers(commands.handlers())
    application.add_error_handler(on_error)
    return application
