"""A button pressed on a messenger card: the same services as the PWA and the bot, as the presser.

The presser is the person whose messenger user id it is (within the app's units), acting with
their own roles and scopes through channel ``wecom`` / ``dingtalk`` (so the trail says so). A press
the services refuse is refused the same way, and the card says why in the person's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.delivery.broadcasts import BroadcastService
from backend.delivery.service import DeliveryService
from backend.events.service import NotificationService
from backend.kernel.cache import TTLCache
from backend.kernel.errors import AppError
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.messenger.cards import done_note, parse_key
from backend.messenger.models import Provider
from backend.messenger.service import MessengerService
from backend.messenger.texts import refusal, t
from backend.messenger.wecom import AppKeys
from backend.org.service import PersonFacts
from backend.warnings.schemas import DecisionCreate
from backend.warnings.service import WarningService


@dataclass(frozen=True)
class Pressed:
    """What a press did, as the updated card shows it."""

    done: bool
    #: the card's new title and note, and the text in place of its buttons
    title: str
    note: str
    replace: str
    #: the PWA route the card's 查看 opens
    target: str
    #: the services' code when refused
    code: str | None = None
    #: the language the outcome is told in (the pressing person's)
    language: str = "zh"


async def press(
    session: AsyncSession,
    trail: AuditTrail,
    settings: Settings,
    app: AppKeys,
    user_id: str,
    key: str,
    *,
    language: str = "zh",  # until the person is known; then theirs
    request_id: str | None = None,
    facts_cache: TTLCache[PersonFacts] | None = None,
) -> Pressed:
    provider = Provider(app.provider)
    messenger = MessengerService(session, trail, settings, facts_cache)
    parsed = parse_key(key)
    if parsed is None:
        return _refused(language, "unknown_button", "/warnings")
    action, ident = parsed
    target = "/notifications" if action == "read" else f"/warnings/{ident}"
    person_id = await messenger.person_of(app, user_id)
    if person_id is None:
        return _refused(language, "not_bound", "/warnings")
    language = await DeliveryService(session, trail, settings).language_of(person_id)
    try:
        principal = await messenger.principal(person_id, provider, user_id, request_id)
        if action == "read":
            told = await DeliveryService(session, trail, settings).proof_one(person_id, ident)
            if told.subject_type == "broadcast":
                await BroadcastService(session, trail).mark_read(principal, told.subject_id)
                target = f"/broadcasts/{told.subject_id}"
            else:
                if told.subject_type == "warning":
                    await WarningService(session, trail, settings).detail(principal, told.subject_id)
                    target = f"/warnings/{told.subject_id}"
                await NotificationService(session).mark_read(person_id, ident)
        else:
            await WarningService(session, trail, settings).decide(
                principal, ident, DecisionCreate(), confirm=True
            )
        await session.commit()
    except AppError as exc:
        await session.rollback()
        return _refused(language, exc.code, target)
    done = t(language, f"done_{action}")
    return Pressed(True, done, done_note(language, utcnow()), done, target, language=language)


def _refused(language: str, code: str, target: str) -> Pressed:
    return Pressed(
        False,
        t(language, "refused"),
        refusal(language, code),
        t(language, "refused"),
        target,
        code,
        language=language,
    )
