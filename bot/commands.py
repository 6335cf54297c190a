"""Commands and one-tap buttons: /start (binding), /help, /inbox, /due, /news, /stats, /lang,
/unbind; Mark read, Confirm and Read (a broadcast) under an alert. Each goes through the same
service call as the HTTP API, as the bound person."""

from __future__ import annotations

import contextlib
from typing import Any, cast

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from backend.delivery.broadcasts import BroadcastService
from backend.delivery.models import Language, PreferenceUpdate
from backend.delivery.payloads import (
    CONFIRM_WARNING,
    READ_NOTIFICATION,
    RETURN_WARNING,
    SHOW_BROADCAST,
    VERIFY_WARNING,
)
from backend.delivery.service import DeliveryService
from backend.events.service import NotificationService
from backend.kernel.access import Role
from backend.kernel.errors import AppError, Forbidden, NotFound
from backend.kernel.timeutil import utcnow
from backend.warnings.models import OPEN_STATES, WarningState
from backend.warnings.schemas import DecisionCreate, InboxView, WarningSummary
from backend.warnings.service import InboxFilters, WarningService
from bot import texts
from bot.context import (
    Caller,
    Context,
    answer,
    caller,
    delivery,
    deps,
    keyboard,
    language,
    say,
    session,
    settle,
    telegram,
    user_language,
)
from bot.replies import pattern, warnings_service
from bot.texts import t

SHOWN = 10
SUPERVISORS = (Role.head, Role.inspector, Role.committee)
PRIVATE = filters.ChatType.PRIVATE
NEW = filters.UpdateType.MESSAGE


# --- binding ------------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    user, chat = update.effective_user, update.effective_chat
    if context.args and user is not None and chat is not None:
        lang = user_language(update, context)
        try:
            async with session(context) as s:
                binding = await telegram(context, s).bind(
                    context.args[0], user_id=user.id, chat_id=chat.id, language=lang
                )
        except AppError as exc:
            if exc.code in {"link_unknown", "link_used", "link_expired"}:
                await say(update, context, t(lang, exc.code))
                return
            raise
        await say(update, context, t(binding.language, "bound"))
        return
    me = await caller(update, context)
    await say(update, context, t(me.language, "welcome_back") + "\n\n" + help_text(me))


def help_text(me: Caller) -> str:
    stats = t(me.language, "help_stats") if me.principal.has(*SUPERVISORS) else ""
    return t(me.language, "help", stats=stats)


async def show_help(update: Update, context: Context) -> None:
    me = await caller(update, context)
    await say(update, context, help_text(me))


async def unbind(update: Update, context: Context) -> None:
    me = await caller(update, context)
    async with session(context) as s:
        await telegram(context, s).unbind(me.principal)
    await say(update, context, t(me.language, "unbound"))


async def choose_language(update: Update, context: Context) -> None:
    me = await caller(update, context)
    wanted = (context.args or [""])[0].lower()[:2]
    if wanted in texts.LANGUAGES:
        await set_language(update, context, me, wanted)
        return
    await say(
        update,
        context,
        t(me.language, "lang_pick"),
        keyboard([[("中文", "lang:zh"), ("English", "lang:en")]]),
    )


async def language_button(update: Update, context: Context) -> None:
    me = await caller(update, context)
    match = context.matches[0] if context.matches else None
    await answer(update)
    await set_language(update, context, me, match.group(1) if match else "zh")


async def set_language(update: Update, context: Context, me: Caller, lang: str) -> None:
    async with session(context) as s:  # the person's language: every channel speaks it from now on
        await telegram(context, s).set_language(me.binding, lang)
        await delivery(context, s).update_preferences(
            me.principal.actor, me.person_id, PreferenceUpdate(language=cast(Language, lang))
        )
    await settle(update, "中文" if lang == "zh" else "English")
    await say(update, context, t(lang, "lang_set"))


# --- lists ----------------------------------------------------------------------------------------


async def open_warnings(svc: WarningService, me: Caller, limit: int) -> tuple[list[WarningSummary], int]:
    """My warnings in the open states (newest first), and how many there are."""
    items: list[WarningSummary] = []
    total = 0
    for state in sorted(OPEN_STATES):
        page = await svc.inbox(me.principal, InboxView.mine, InboxFilters(state=state), limit=limit)
        items += page.items
        total += page.total
    items.sort(key=lambda w: (w.raised_at, w.id), reverse=True)
    return items, total


def line(lang: str, w: WarningSummary) -> str:
    state = {
        WarningState.returned: t(lang, "state_returned"),
        WarningState.submitted: t(lang, "state_submitted"),
    }.get(w.state, "")
    return t(
        lang,
        "line",
        icon=texts.ICONS.get(w.level.value, "•"),
        id=w.id,
        level=texts.level(lang, w.level.value),
        due=texts.due(lang, w.due_at, w.deadline_provisional) + (t(lang, "overdue") if w.overdue else ""),
        state=state,
    )


def view_link(context: Context, warning_id: int) -> str:
    return deps(context).settings.public_url.rstrip("/") + f"/#/warnings/{warning_id}"


def more(lang: str, shown: int, total: int) -> str:
    return t(lang, "more", shown=shown) if total > shown else ""


async def inbox(update: Update, context: Context) -> None:
    me = await caller(update, context)
    lang = me.language
    async with session(context) as s:
        svc = warnings_service(context, s)
        mine, total = await open_warnings(svc, me, SHOWN)
        deciding: list[WarningSummary] = []
        waiting = 0
        if me.principal.has(Role.head, Role.inspector):
            page = await svc.inbox(
                me.principal, InboxView.unit, InboxFilters(state=WarningState.submitted), limit=SHOWN
            )
            deciding = [w for w in page.items if w.person_id != me.person_id]
            waiting = page.total
    shown = mine[:SHOWN]
    if not shown and not deciding:
        await say(update, context, t(lang, "inbox_none"))
        return
    if shown or not deciding:
        rows = [
            [
                (f"{t(lang, 'btn_view')} #{w.id}", view_link(context, w.id)),
                (f"{t(lang, 'btn_verify')} #{w.id}", VERIFY_WARNING.format(w.id)),
            ]
            for w in shown
        ]
        head = t(lang, "inbox_head", total=total, more=more(lang, len(shown), total))
        await say(update, context, "\n".join([head, *(line(lang, w) for w in shown)]), keyboard(rows))
    if deciding:
        rows = [
            [
                (f"{t(lang, 'btn_view')} #{w.id}", view_link(context, w.id)),
                (f"{t(lang, 'btn_confirm')} #{w.id}", CONFIRM_WARNING.format(w.id)),
                (f"{t(lang, 'btn_return')} #{w.id}", RETURN_WARNING.format(w.id)),
            ]
            for w in deciding
        ]
        head = t(lang, "decide_head", total=waiting, more=more(lang, len(deciding), waiting))
        await say(update, context, "\n".join([head, *(line(lang, w) for w in deciding)]), keyboard(rows))


async def due(update: Update, context: Context) -> None:
    me = await caller(update, context)
    lang = me.language
    async with session(context) as s:
        items, _total = await open_warnings(warnings_service(context, s), me, 100)
    dated = sorted((w for w in items if w.due_at is not None), key=lambda w: (w.due_at or utcnow(), w.id))
    if not dated:
        await say(update, context, t(lang, "due_none"))
        return
    shown = dated[:SHOWN]
    rows = [[(f"{t(lang, 'btn_verify')} #{w.id}", VERIFY_WARNING.format(w.id))] for w in shown]
    head = t(lang, "due_head", total=len(dated))
    await say(update, context, "\n".join([head, *(line(lang, w) for w in shown)]), keyboard(rows))


async def stats(update: Update, context: Context) -> None:
    me = await caller(update, context)
    if not me.principal.has(*SUPERVISORS):
        raise Forbidden("this needs one of the roles: committee, head, inspector", code="role_required")
    lang = me.language
    counts = {"high": 0, "medium": 0, "low": 0}
    async with session(context) as s:
        svc = warnings_service(context, s)
        for state in OPEN_STATES:
            page = await svc.inbox(me.principal, InboxView.unit, InboxFilters(state=state), limit=1)
            for key in counts:
                counts[key] += getattr(page.counts, key)
        overdue = (await svc.inbox(me.principal, InboxView.unit, InboxFilters(overdue=True), limit=1)).total
        submitted = (
            await svc.inbox(me.principal, InboxView.unit, InboxFilters(state=WarningState.submitted), limit=1)
        ).total
        units = await svc.on_time(me.principal, None, None)
    on_time = sum(u.answered_on_time for u in units)
    due_count = sum(u.answered + u.overdue_open for u in units)
    rate = f"{on_time / due_count:.0%}" if due_count else t(lang, "no_rate")
    await say(update, context, t(lang, "stats", overdue=overdue, submitted=submitted, on_time=rate, **counts))


# --- buttons under an alert -------------------------------------------------------------------------


async def mark_read(update: Update, context: Context) -> None:
    me = await caller(update, context)
    match = context.matches[0] if context.matches else None
    recipient_id = int(match.group(1)) if match else 0
    d = deps(context)
    async with session(context) as s:
        told = await DeliveryService(s, d.trail, d.settings).proof_one(me.person_id, recipient_id)
        if told.subject_type == "broadcast":
            await BroadcastService(s, d.trail).mark_read(me.principal, told.subject_id)
        else:
            if told.subject_type == "warning":
                await WarningService(s, d.trail, d.settings).detail(me.principal, told.subject_id)
            await NotificationService(s).mark_read(me.person_id, recipient_id)
    await answer(update, t(me.language, "marked_read"))


async def news(update: Update, context: Context) -> None:
    """Broadcasts sent to me, newest first, with a button to read each here."""
    me = await caller(update, context)
    lang = me.language
    async with session(context) as s:
        svc = BroadcastService(s, deps(context).trail)
        found = [await svc.get(me.principal, b.id) for b in await svc.list(me.principal, limit=5, offset=0)]
    if not found:
        await say(update, context, t(lang, "news_none"))
        return
    lines = [
        f"{'•' if b.read_at else '🆕'} #{b.id} {b.title}" + ("" if b.read_at else t(lang, "unread"))
        for b in found
    ]
    rows = [[(f"{t(lang, 'btn_show')} #{b.id}", SHOW_BROADCAST.format(b.id))] for b in found]
    await say(update, context, "\n".join([t(lang, "news_head"), *lines]), keyboard(rows))


async def show_broadcast(update: Update, context: Context) -> None:
    """A broadcast's text in the chat (asked for by its reader), marked read."""
    me = await caller(update, context)
    match = context.matches[0] if context.matches else None
    broadcast_id = int(match.group(1)) if match else 0
    async with session(context) as s:
        svc = BroadcastService(s, deps(context).trail)
        shown = await svc.get(me.principal, broadcast_id)
        if shown.read_at is None:
            with contextlib.suppress(NotFound):  # an admin reading one not sent to them
                await svc.mark_read(me.principal, broadcast_id)
    await answer(update, t(me.language, "marked_read"))
    link = f"\n{shown.link}" if shown.link else ""
    await say(update, context, f"📢 {shown.title}\n\n{shown.body}{link}")


async def confirm(update: Update, context: Context) -> None:
    me = await caller(update, context)
    match = context.matches[0] if context.matches else None
    warning_id = int(match.group(1)) if match else 0
    async with session(context) as s:
        await warnings_service(context, s).decide(me.principal, warning_id, DecisionCreate(), confirm=True)
    await answer(update, t(me.language, "confirmed", id=warning_id))
    await settle(update, t(me.language, "btn_confirm"))
    await say(update, context, t(me.language, "confirmed", id=warning_id))


async def stale_button(update: Update, context: Context) -> None:
    """A form button pressed after its form ended (a double tap on Send, an old message)."""
    await answer(update, t(await language(update, context), "stale"))


async def nothing_to_cancel(update: Update, context: Context) -> None:
    me = await caller(update, context)
    await say(update, context, t(me.language, "nothing_to_cancel"))


async def unknown_command(update: Update, context: Context) -> None:
    me = await caller(update, context)
    await say(update, context, t(me.language, "unknown_command"))


async def anything_else(update: Update, context: Context) -> None:
    """Bound: a hint. Unbound: the polite explanation (raised, so the error handler says it)."""
    me = await caller(update, context)
    await say(update, context, t(me.language, "hint"))


def handlers() -> list[Any]:
    return [
        CommandHandler("start", start, filters=PRIVATE),
        CommandHandler("help", show_help, filters=PRIVATE),
        CommandHandler("inbox", inbox, filters=PRIVATE),
        CommandHandler("due", due, filters=PRIVATE),
        CommandHandler("stats", stats, filters=PRIVATE),
        CommandHandler("lang", choose_language, filters=PRIVATE),
        CommandHandler("unbind", unbind, filters=PRIVATE),
        CommandHandler("news", news, filters=PRIVATE),
        CommandHandler("cancel", nothing_to_cancel, filters=PRIVATE),
        CallbackQueryHandler(mark_read, pattern=pattern(READ_NOTIFICATION)),
        CallbackQueryHandler(confirm, pattern=pattern(CONFIRM_WARNING)),
        CallbackQueryHandler(show_broadcast, pattern=pattern(SHOW_BROADCAST)),
        CallbackQueryHandler(language_button, pattern=r"^lang:(zh|en)$"),
        CallbackQueryHandler(stale_button, pattern=r"^v:"),
        MessageHandler(NEW & PRIVATE & filters.COMMAND, unknown_command),
        MessageHandler(NEW & PRIVATE & ~filters.COMMAND, anything_else),
    ]
