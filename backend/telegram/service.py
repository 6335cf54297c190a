"""Binding a Telegram account to a person, and the bot's persisted chat state.

Everything the bot (``bot/``) and the PWA need from the database about Telegram is here; the
bot holds no SQL. A person proves who they are by opening a one-time link made for them by the
PWA (signed in); from then on the bot acts for them through :meth:`TelegramService.principal`,
the same principal — roles, scopes, refusals — as a signed-in request, with channel ``bot``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.auth.service import AuthService, make_hasher
from backend.delivery.models import DeliveryChannel
from backend.delivery.service import DeliveryService
from backend.kernel.access import Channel, Principal
from backend.kernel.cache import TTLCache
from backend.kernel.errors import Conflict, Invalid, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import as_utc, utcnow
from backend.org.service import PersonFacts
from backend.telegram.decisions import tell_deciders
from backend.telegram.models import TelegramBinding, TelegramLinkCode, TelegramState

#: a binding link is good for this long, once
LINK_MINUTES = 10
LANGUAGES = ("zh", "en")
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


# --- settings as the bot reads them ---------------------------------------------------------


def bot_enabled(settings: Settings) -> bool:
    """The bot runs when a token is set (tests switch it on explicitly)."""
    if settings.telegram_bot_token is None:
        return False
    if settings.telegram_bot_enabled is not None:
        return settings.telegram_bot_enabled
    return settings.env != "test"


def webhook_mode(settings: Settings) -> bool:
    mode = settings.telegram_mode or ("webhook" if settings.env == "production" else "polling")
    return mode == "webhook"


def webhook_secret(settings: Settings) -> str:
    """The ``X-Telegram-Bot-Api-Secret-Token`` every webhook call must carry."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"probity/telegram-webhook/v1", hashlib.sha256).hexdigest()


def webhook_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/telegram/webhook"


def file_base(settings: Settings) -> str:
    """Where the Bot API serves files: ``…/bot`` becomes ``…/file/bot`` unless set."""
    if settings.telegram_file_base:
        return settings.telegram_file_base
    base = settings.telegram_api_base.rstrip("/")
    head, _, last = base.rpartition("/")
    return f"{head}/file/{last}" if last == "bot" else base + "/file/bot"


def deep_link(username: str | None, code: str) -> str | None:
    return f"https://t.me/{username.lstrip('@')}?start={code}" if username else None


#: registered on the lifecycle's after-verification hook when this module is imported
HOOKS = (tell_deciders,)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class BotPort(Protocol):
    """What the running bot (``bot/``) offers the app: its name and a door for webhook updates."""

    username: str | None
    secret: str
    webhook: bool

    async def feed(self, payload: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class NewLink:
    code: str
    expires_at: datetime


class TelegramService:
    def __init__(
        self,
        session: AsyncSession,
        trail: AuditTrail,
        settings: Settings,
        facts_cache: TTLCache[PersonFacts] | None = None,
    ) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.facts_cache = facts_cache

    # --- who is speaking ------------------------------------------------------------------
    async def binding(self, user_id: int) -> TelegramBinding | None:
        return (
            await self.session.execute(select(TelegramBinding).where(col(TelegramBinding.user_id) == user_id))
        ).scalar_one_or_none()

    async def binding_of(self, person_id: int) -> TelegramBinding | None:
        return await self.session.get(TelegramBinding, person_id, populate_existing=True)

    async def principal(self, binding: TelegramBinding, *, request_id: str | None = None) -> Principal:
        """The bound person as a caller of the services, channel ``bot``: disabled → 401."""
        auth = AuthService(
            self.session, self.settings, self.trail, make_hasher(self.settings), self.facts_cache
        )
        return await auth.principal_for_person(
            binding.person_id,
            channel=Channel.bot,
            session_id=f"telegram:{binding.user_id}",
            request_id=request_id,
        )

    # --- binding --------------------------------------------------------------------------
    async def new_link(self, principal: Principal) -> NewLink:
        """A fresh one-time code for the signed-in person; their older unused codes stop working.
        Refused where the deployment has no Telegram (mainland deployments leave it off)."""
        if not self.settings.telegram_offered:
            raise Conflict("this deployment does not offer Telegram", code="telegram_not_offered")
        now = utcnow()
        await self.session.execute(
            delete(TelegramLinkCode).where(
                or_(
                    col(TelegramLinkCode.person_id) == principal.person_id,
                    col(TelegramLinkCode.expires_at) < now - timedelta(days=1),
                )
            )
        )
        code = secrets.token_urlsafe(18)
        expires = now + timedelta(minutes=LINK_MINUTES)
        self.session.add(
            TelegramLinkCode(
                code_hash=_hash(code), person_id=principal.person_id, created_at=now, expires_at=expires
            )
        )
        await self.trail.record(
            self.session,
            principal.actor,
            action="telegram.link",
            object_type="person",
            object_id=principal.person_id,
            new={"expires_at": expires},
        )
        await self.session.commit()
        return NewLink(code, expires)

    async def bind(self, code: str, *, user_id: int, chat_id: int, language: str) -> TelegramBinding:
        """``/start <code>`` in a private chat: the code's person is now this Telegram account."""
        if not code or len(code) > 64 or not set(code) <= _CODE_CHARS:
            raise Invalid("this is not a binding code", code="link_unknown")
        row = await self.session.get(TelegramLinkCode, _hash(code))
        if row is None:
            raise Invalid("this binding link is unknown; make a new one in the app", code="link_unknown")
        if row.used_at is not None:
            raise Conflict("this binding link was used already; make a new one", code="link_used")
        now = utcnow()
        if as_utc(row.expires_at) <= now:
            raise Invalid("this binding link has expired; make a new one", code="link_expired")
        used = await self.session.execute(
            update(TelegramLinkCode)
            .where(col(TelegramLinkCode.code_hash) == row.code_hash, col(TelegramLinkCode.used_at).is_(None))
            .values(used_at=now)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("this binding link was used already; make a new one", code="link_used")
        person_id = row.person_id
        binding = TelegramBinding(
            person_id=person_id,
            user_id=user_id,
            chat_id=chat_id,
            language=language if language in LANGUAGES else "zh",
            bound_at=now,
        )
        principal = await self.principal(binding)
        delivery = DeliveryService(self.session, self.trail, self.settings)
        earlier = (
            await self.session.execute(
                select(TelegramBinding).where(
                    or_(col(TelegramBinding.person_id) == person_id, col(TelegramBinding.user_id) == user_id)
                )
            )
        ).scalars()
        for old in list(earlier):
            if old.person_id != person_id:  # this Telegram account spoke for someone else until now
                await self._forget(old, principal, delivery)
            else:
                await self.session.delete(old)
        await self.session.flush()
        self.session.add(binding)
        await self.trail.record(
            self.session,
            principal.actor,
            action="telegram.bind",
            object_type="person",
            object_id=person_id,
            new={"telegram_user": user_id, "chat": chat_id},
            power="self",
        )
        await delivery.bind_telegram(principal.actor, person_id, chat_id)  # commits it all
        return binding

    async def unbind(self, principal: Principal) -> None:
        binding = await self.binding_of(principal.person_id)
        if binding is None:
            raise NotFound("no Telegram account is bound", code="telegram_not_bound")
        await self._forget(binding, principal, DeliveryService(self.session, self.trail, self.settings))

    async def _forget(
        self, binding: TelegramBinding, principal: Principal, delivery: DeliveryService
    ) -> None:
        """Drop a binding and the Telegram address it gave; commits (with whatever is pending)."""
        person_id = binding.person_id
        await self.session.delete(binding)
        await self.trail.record(
            self.session,
            principal.actor,
            action="telegram.unbind",
            object_type="person",
            object_id=person_id,
            old={"telegram_user": binding.user_id, "chat": binding.chat_id},
            power="self" if person_id == principal.person_id else None,
        )
        await self.session.flush()
        try:
            await delivery.delete_address(principal.actor, person_id, DeliveryChannel.telegram)
        except NotFound:
            await self.session.commit()

    async def set_language(self, binding: TelegramBinding, language: str) -> None:
        if language not in LANGUAGES:
            raise Invalid(f"language must be one of {', '.join(LANGUAGES)}", code="unknown_language")
        await self.session.execute(
            update(TelegramBinding)
            .where(col(TelegramBinding.person_id) == binding.person_id)
            .values(language=language)
        )
        await self.session.commit()
        binding.language = language


# --- the bot's persisted state (PTB persistence) ------------------------------------------


class ChatStateStore:
    """Key-value rows for the bot's persistence: ``user`` data and ``conv:<name>`` states."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, scope: str) -> dict[str, dict[str, Any]]:
        rows = await self.session.execute(select(TelegramState).where(col(TelegramState.scope) == scope))
        return {r.key: dict(r.data or {}) for r in rows.scalars()}

    async def put(self, scope: str, key: str, data: dict[str, Any]) -> None:
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        module: Any = postgresql if dialect == "postgresql" else sqlite
        values = {"scope": scope, "key": key, "data": json.loads(json.dumps(data)), "updated_at": utcnow()}
        stmt = module.insert(TelegramState).values(**values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["scope", "key"],
                set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
            )
        )
        await self.session.commit()

    async def drop(self, scope: str, key: str) -> None:
        await self.session.execute(
            delete(TelegramState).where(col(TelegramState.scope) == scope, col(TelegramState.key) == key)
        )
        await self.session.commit()
