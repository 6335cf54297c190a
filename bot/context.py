"""What every handler needs: the backend's pieces, who is speaking, and how to answer them.

The bot holds no rules of its own: each handler turns an update into a call of the same backend
service the HTTP API calls, as the bound person (a :class:`Principal` with channel ``bot``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from backend.audit.service import AuditTrail
from backend.delivery.service import DeliveryService
from backend.kernel.access import Principal
from backend.kernel.cache import TTLCache
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.org.service import PersonFacts
from backend.telegram.models import TelegramBinding
from backend.telegram.service import TelegramService
from bot.texts import language_of_user

DEPS = "probity"
Context = ContextTypes.DEFAULT_TYPE


@dataclass
class Deps:
    db: Database
    settings: Settings
    trail: AuditTrail
    facts_cache: TTLCache[PersonFacts] | None = None


def deps(context: Context) -> Deps:
    return cast(Deps, context.bot_data[DEPS])


@asynccontextmanager
async def session(context: Context) -> AsyncIterator[AsyncSession]:
    async with deps(context).db.session() as s:
        yield s


def telegram(context: Context, s: AsyncSession) -> TelegramService:
    d = deps(context)
    return TelegramService(s, d.trail, d.settings, d.facts_cache)


def delivery(context: Context, s: AsyncSession) -> DeliveryService:
    d = deps(context)
    return DeliveryService(s, d.trail, d.settings)


class NotBound(Exception):
    """The Telegram account speaking is bound to nobody: it gets the polite explanation only."""

    def __init__(self, language: str) -> None:
        super().__init__("this Telegram account is not bound")
        self.language = language


@dataclass(frozen=True)
class Caller:
    binding: TelegramBinding
    principal: Principal
    #: the person's own language (PWA or /lang), which every channel speaks
    own_language: str | None = None

    @property
    def language(self) -> str:
        return self.own_language or self.binding.language

    @property
    def person_id(self) -> int:
        return self.principal.person_id


def user_language(update: Update, context: Context) -> str:
    user = update.effective_user
    return language_of_user(user.language_code if user else None, deps(context).settings.delivery_language)


async def caller(update: Update, context: Context) -> Caller:
    """The bound person behind this update, checked now (a disabled account is refused)."""
    user = update.effective_user
    if user is None:
        raise NotBound(user_language(update, context))
    async with session(context) as s:
        svc = telegram(context, s)
        binding = await svc.binding(user.id)
        if binding is None:
            raise NotBound(user_language(update, context))
        principal = await svc.principal(binding, request_id=f"telegram-{update.update_id}")
        own = await delivery(context, s).own_language(principal.person_id)
    return Caller(binding, principal, own)


async def language(update: Update, context: Context) -> str:
    """The speaker's language: the person's own, else their binding's, else their Telegram client's."""
    user = update.effective_user
    if user is not None:
        async with session(context) as s:
            binding = await telegram(context, s).binding(user.id)
            own = await delivery(context, s).own_language(binding.person_id) if binding else None
        if binding is not None:
            return own or binding.language
    return user_language(update, context)


# --- answering ----------------------------------------------------------------------------


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Rows of (text, callback data or https:// link) as inline buttons."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text, url=data)
                if data.startswith(("https://", "http://"))
                else InlineKeyboardButton(text, callback_data=data)
                for text, data in row
            ]
            for row in rows
            if row
        ]
    )


async def say(
    update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(
        chat_id=chat.id,
        text=text,
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> bool:
    """Answer the button press (stops the spinner); ``False`` when Telegram would not take it."""
    query = update.callback_query
    if query is None:
        return False
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except TelegramError:
        return False
    return True


async def settle(update: Update, note: str) -> None:
    """Write what was chosen under the message whose button was pressed, and drop its buttons."""
    query = update.callback_query
    message: Any = query.message if query else None
    if query is None or message is None or not getattr(message, "text", None):
        return
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(f"{message.text}\n→ {note}", reply_markup=None)


async def tell(update: Update, context: Context, text: str) -> None:
    """A refusal or error: a pop-up on a button press, else a message."""
    if update.callback_query is not None and await answer(update, text, alert=True):
        return
    with contextlib.suppress(TelegramError):
        await say(update, context, text)
