"""Replying in the chat, step by step: a verification (true / not true → cause → measures → photos
→ confirm), or a head's return with a reason.

One :class:`ConversationHandler` (persisted: see :mod:`bot.persistence`) holds both flows, so a
person writes one thing at a time. The draft lives in ``user_data`` with the client id made when
the reply was opened — as the PWA makes one when its form opens — so sending twice (a double tap,
a replay after a restart) stores one verification. Every step re-reads nothing it trusts: the
final call is :meth:`WarningService.verify` / :meth:`WarningService.decide`, which check scope,
ownership and state as for the HTTP API.

A reply left for ``PROBITY_TELEGRAM_CONVERSATION_MINUTES`` times out: the conversation's timeout
(PTB's job queue) drops the draft and says so; after a restart, when that timer is gone, the next
message finds the draft too old and ends it the same way.
"""

from __future__ import annotations

import functools
import time
import uuid
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from backend.delivery.payloads import RETURN_WARNING, VERIFY_WARNING
from backend.kernel.access import Principal
from backend.kernel.errors import AppError, Conflict, Forbidden, Invalid
from backend.kernel.settings import Settings
from backend.warnings.models import Finding, Warning
from backend.warnings.schemas import DecisionCreate, VerificationCreate
from backend.warnings.service import WarningService
from bot import texts
from bot.context import (
    Caller,
    Context,
    answer,
    caller,
    deps,
    keyboard,
    language,
    say,
    session,
    settle,
    tell,
)
from bot.texts import t

NAME = "reply"
DRAFT = "reply"
RESULT, CAUSE, MEASURES, PHOTOS, CONFIRM, REASON = range(6)
END = ConversationHandler.END
END_BY_TIMEOUT = ConversationHandler.TIMEOUT
MAX_PHOTOS = 12
#: new messages only (an edited message is not a new answer)
NEW = filters.UpdateType.MESSAGE
TEXT = NEW & filters.TEXT & ~filters.COMMAND
IMAGES = NEW & (filters.PHOTO | filters.Document.IMAGE)
OTHER_FILES = NEW & filters.ATTACHMENT & ~(filters.PHOTO | filters.Document.IMAGE)


def pattern(template: str) -> str:
    """``w:verify:{}`` → ``^w:verify:(\\d+)$`` (the callback data the alerts carry)."""
    return "^" + template.replace("{}", r"(\d+)") + "$"


def warnings_service(context: Context, s: Any) -> WarningService:
    d = deps(context)
    return WarningService(s, d.trail, d.settings)


def refusal_for(svc: WarningService, principal: Principal, warning: Warning, action: str) -> AppError:
    """Why ``action`` is not among the caller's actions now, in the services' codes."""
    if action == "verify":
        if warning.person_id != principal.person_id:
            return Forbidden("only the responsible person replies", code="not_your_warning")
        return Conflict(f"cannot verify a warning that is {warning.state}", code="invalid_transition")
    if warning.person_id == principal.person_id:
        return Forbidden("nobody confirms or returns their own reply", code="own_reply")
    if not svc.may_decide(principal, warning):
        return Forbidden("only the head of the person's unit or an inspector", code="not_unit_head")
    return Conflict(f"cannot {action} a warning that is {warning.state}", code="invalid_transition")


async def open_warning(update: Update, context: Context, me: Caller, action: str) -> Warning:
    """The warning a button names, if ``action`` is one the caller may take on it now."""
    match = context.matches[0] if context.matches else None
    warning_id = int(match.group(1)) if match else 0
    async with session(context) as s:
        svc = warnings_service(context, s)
        warning = await svc.get_visible(me.principal, warning_id)
        if action not in svc.actions(me.principal, warning):
            raise refusal_for(svc, me.principal, warning, action)
    return warning


def _expired(context: Context, draft: dict[str, Any]) -> bool:
    limit = deps(context).settings.telegram_conversation_minutes * 60
    return time.time() - float(draft.get("touched", 0)) > limit


Step = Callable[[Update, Context, Caller, dict[str, Any]], Coroutine[Any, Any, object]]


def step(fn: Step) -> Callable[[Update, Context], Coroutine[Any, Any, object]]:
    """A step of a reply: the draft must exist and be fresh; the speaker is checked again."""

    @functools.wraps(fn)
    async def run(update: Update, context: Context) -> object:
        user_data = context.user_data if context.user_data is not None else {}
        draft = user_data.get(DRAFT)
        if not isinstance(draft, dict):
            await answer(update)
            await say(update, context, t(await language(update, context), "stale"))
            return END
        me = await caller(update, context)
        if _expired(context, draft):
            user_data.pop(DRAFT, None)
            await answer(update)
            await say(update, context, t(me.language, "timed_out"))
            return END
        state = await fn(update, context, me, draft)
        if DRAFT in user_data:
            draft["touched"] = time.time()
        return state

    return run


# --- the verification -----------------------------------------------------------------------


async def start_verify(update: Update, context: Context) -> object:
    me = await caller(update, context)
    warning = await open_warning(update, context, me, "verify")
    lang = me.language
    draft: dict[str, Any] = {
        "kind": "verify",
        "warning_id": warning.id,
        "client_id": uuid.uuid4().hex,
        "result": None,
        "cause": "",
        "measures": "",
        "photo_ids": [],
        "touched": time.time(),
    }
    if context.user_data is not None:
        context.user_data[DRAFT] = draft
    await answer(update)
    await say(
        update,
        context,
        t(
            lang,
            "ask_result",
            id=warning.id,
            level=texts.level(lang, str(warning.level)),
            due=texts.due(lang, warning.due_at, bool(warning.deadline_provisional)),
        ),
        keyboard(
            [
                [(t(lang, "btn_true"), "v:true"), (t(lang, "btn_not_true"), "v:not_true")],
                [(t(lang, "btn_cancel"), "v:cancel")],
            ]
        ),
    )
    return RESULT


@step
async def got_result(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    match = context.matches[0] if context.matches else None
    result = Finding(match.group(1)) if match else Finding.not_true
    draft["result"] = result.value
    lang = me.language
    await answer(update)
    await settle(update, t(lang, f"result_{result.value}"))
    await say(update, context, t(lang, "ask_cause"), keyboard([[(t(lang, "btn_cancel"), "v:cancel")]]))
    return CAUSE


@step
async def got_cause(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    text = (update.effective_message.text if update.effective_message else None) or ""
    lang = me.language
    if not text.strip():
        await say(update, context, t(lang, "want_text"))
        return CAUSE
    draft["cause"] = text.strip()[:4000]
    if draft["result"] == Finding.true.value:
        await say(
            update, context, t(lang, "ask_measures_true"), keyboard([[(t(lang, "btn_cancel"), "v:cancel")]])
        )
    else:
        await say(
            update,
            context,
            t(lang, "ask_measures_false"),
            keyboard([[(t(lang, "btn_skip"), "v:skip"), (t(lang, "btn_cancel"), "v:cancel")]]),
        )
    return MEASURES


@step
async def got_measures(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    lang = me.language
    message = None if update.callback_query else update.effective_message
    text = (message.text if message else None) or ""
    await answer(update)
    if not text.strip() and draft["result"] == Finding.true.value:
        await say(update, context, t(lang, "measures_required"))
        return MEASURES
    draft["measures"] = text.strip()[:4000]
    if update.callback_query:
        await settle(update, t(lang, "btn_skip"))
    await ask_photos(update, context, lang)
    return PHOTOS


async def ask_photos(update: Update, context: Context, lang: str) -> None:
    await say(
        update,
        context,
        t(lang, "ask_photos"),
        keyboard([[(t(lang, "btn_done"), "v:done"), (t(lang, "btn_cancel"), "v:cancel")]]),
    )


@step
async def got_photo(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    lang = me.language
    message = update.effective_message
    if message is None:
        return PHOTOS
    photo_ids: list[int] = draft["photo_ids"]
    if len(photo_ids) >= MAX_PHOTOS:
        await say(update, context, t(lang, "too_many_photos"))
        return PHOTOS
    limit = deps(context).settings.photo_max_bytes
    source = message.photo[-1] if message.photo else message.document
    if source is None:
        await say(update, context, t(lang, "want_photo"))
        return PHOTOS
    if source.file_size is not None and source.file_size > limit:
        raise AppError("the photo is too large", code="photo_too_large", status=413)
    content = bytes(await (await source.get_file()).download_as_bytearray())
    async with session(context) as s:
        photo, _created = await warnings_service(context, s).add_photo(
            me.principal, int(draft["warning_id"]), content
        )
    if photo.id is None or photo.id in photo_ids:
        await say(update, context, t(lang, "photo_again"))
        return PHOTOS
    photo_ids.append(photo.id)
    await say(
        update,
        context,
        t(lang, "photo_saved", n=len(photo_ids)),
        keyboard([[(t(lang, "btn_done"), "v:done"), (t(lang, "btn_cancel"), "v:cancel")]]),
    )
    return PHOTOS


@step
async def photos_done(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    lang = me.language
    await answer(update)
    await settle(update, t(lang, "btn_done"))
    await say(
        update,
        context,
        t(
            lang,
            "summary",
            id=draft["warning_id"],
            result=t(lang, f"result_{draft['result']}"),
            cause=draft["cause"],
            measures=draft["measures"] or t(lang, "none"),
            photos=len(draft["photo_ids"]),
        ),
        keyboard([[(t(lang, "btn_send"), "v:send"), (t(lang, "btn_cancel"), "v:cancel")]]),
    )
    return CONFIRM


@step
async def send_reply(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    lang = me.language
    warning_id = int(draft["warning_id"])
    body = VerificationCreate(
        client_id=str(draft["client_id"]),
        result=Finding(draft["result"]),
        cause=str(draft["cause"]),
        measures=str(draft["measures"]),
        photo_ids=[int(p) for p in draft["photo_ids"]],
    )
    try:
        async with session(context) as s:
            _verification, created = await warnings_service(context, s).verify(me.principal, warning_id, body)
    except AppError as exc:
        # the reply cannot go as written (answered meanwhile, scope changed …): say why, end it
        _drop(context)
        await tell(update, context, texts.refusal(lang, exc.code, exc.detail))
        return END
    _drop(context)
    await answer(update)
    await settle(update, t(lang, "btn_send"))
    await say(update, context, t(lang, "sent" if created else "sent_before", id=warning_id))
    return END


# --- a head returns a reply ------------------------------------------------------------------


async def start_return(update: Update, context: Context) -> object:
    me = await caller(update, context)
    warning = await open_warning(update, context, me, "return")
    if context.user_data is not None:
        context.user_data[DRAFT] = {"kind": "return", "warning_id": warning.id, "touched": time.time()}
    await answer(update)
    lang = me.language
    await say(
        update,
        context,
        t(lang, "ask_reason", id=warning.id),
        keyboard([[(t(lang, "btn_cancel"), "v:cancel")]]),
    )
    return REASON


@step
async def got_reason(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    lang = me.language
    text = (update.effective_message.text if update.effective_message else None) or ""
    if not text.strip():
        raise Invalid("say why the reply is returned", code="reason_required")
    warning_id = int(draft["warning_id"])
    try:
        async with session(context) as s:
            await warnings_service(context, s).decide(
                me.principal, warning_id, DecisionCreate(reason=text.strip()[:2000]), confirm=False
            )
    except AppError as exc:
        _drop(context)
        await tell(update, context, texts.refusal(lang, exc.code, exc.detail))
        return END
    _drop(context)
    await say(update, context, t(lang, "returned", id=warning_id))
    return END


# --- leaving ---------------------------------------------------------------------------------


def _drop(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


async def cancel(update: Update, context: Context) -> object:
    me = await caller(update, context)
    _drop(context)
    await answer(update)
    await settle(update, t(me.language, "btn_cancel"))
    await say(update, context, t(me.language, "cancelled"))
    return END


def stay(state: int, text_key: str) -> Callable[[Update, Context], Coroutine[Any, Any, object]]:
    """Anything else in ``state``: say what is wanted and stay."""

    @step
    async def run(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
        await answer(update)
        await say(update, context, t(me.language, text_key))
        return state

    return run


async def timed_out(update: object, context: Context) -> object:
    """The conversation's timeout (while the process runs): drop the draft and say so now."""
    draft = context.user_data.pop(DRAFT, None) if context.user_data is not None else None
    if isinstance(update, Update) and draft is not None:
        await say(update, context, t(await language(update, context), "timed_out"))
    return END


def conversation(
    settings: Settings,
    more_entry_points: list[Any] | None = None,
    more_states: dict[object, list[Any]] | None = None,
) -> ConversationHandler[Any]:
    """The reply conversation; other flows of one written answer at a time (the personal ladder's
    answer and appeal, :mod:`bot.ladder`) join it with their entry points and states."""
    with warnings.catch_warnings():
        # buttons are checked per chat and user, not per message: intended (see module docstring)
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CallbackQueryHandler(start_verify, pattern=pattern(VERIFY_WARNING)),
                CallbackQueryHandler(start_return, pattern=pattern(RETURN_WARNING)),
                *(more_entry_points or []),
            ],
            states={
                RESULT: [
                    CallbackQueryHandler(got_result, pattern=r"^v:(true|not_true)$"),
                    MessageHandler(TEXT | IMAGES, stay(RESULT, "tap_button")),
                ],
                CAUSE: [MessageHandler(TEXT, got_cause), MessageHandler(IMAGES, stay(CAUSE, "want_text"))],
                MEASURES: [
                    MessageHandler(TEXT, got_measures),
                    CallbackQueryHandler(got_measures, pattern=r"^v:skip$"),
                    MessageHandler(IMAGES, stay(MEASURES, "want_text")),
                ],
                PHOTOS: [
                    MessageHandler(IMAGES, got_photo),
                    CallbackQueryHandler(photos_done, pattern=r"^v:done$"),
                    MessageHandler(TEXT | OTHER_FILES, stay(PHOTOS, "want_photo")),
                ],
                CONFIRM: [CallbackQueryHandler(send_reply, pattern=r"^v:send$")],
                REASON: [MessageHandler(TEXT, got_reason)],
                END_BY_TIMEOUT: [TypeHandler(Update, timed_out)],
                **(more_states or {}),
            },
            fallbacks=[
                CommandHandler("cancel", cancel, filters=filters.ChatType.PRIVATE),
                CallbackQueryHandler(cancel, pattern=r"^v:cancel$"),
            ],
            allow_reentry=True,
            conversation_timeout=timedelta(minutes=settings.telegram_conversation_minutes),
            name=NAME,
            persistent=True,
        )
