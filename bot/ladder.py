"""The personal ladder (告知 → 质询 → 监察建议) in the chat, for the person it concerns.

``/cases`` lists my cases (tier, state, deadline, subject) with the buttons of what I may do: 答复
(a written answer, and the measures at the inquiry and recommendation tiers) and 申诉 (an appeal).
The answer and the appeal are steps of the reply conversation (:mod:`bot.replies`: one thing at a
time, the draft with its client id in ``user_data``, the same timeout); every call is a
:class:`LadderService` call as the bound person (channel ``bot``), which checks ownership, state,
deadline and a pending appeal as for the PWA.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from backend.kernel.errors import AppError, Conflict, Forbidden, Invalid
from backend.ladder.models import CaseState, LadderCase, Tier
from backend.ladder.schemas import AnswerCreate, AppealCreate
from backend.ladder.service import LadderService
from bot import texts
from bot.context import Caller, Context, answer, caller, deps, keyboard, say, session, tell
from bot.replies import DRAFT, END, TEXT, pattern, stay, step
from bot.texts import t

#: (LadderService method, its data, the catalogue key said when done)
Call = tuple[str, AnswerCreate | AppealCreate, str]
ANSWER_CASE = "l:ans:{}"
APPEAL_CASE = "l:app:{}"
#: conversation states after the reply's (bot.replies uses 0..5)
CASE_TEXT, CASE_MEASURES, CASE_APPEAL = 20, 21, 22
TIERS = {
    "zh": {"notice": "廉情预警告知", "inquiry": "廉情预警质询", "recommendation": "廉情监察建议"},
    "en": {"notice": "notice", "inquiry": "inquiry", "recommendation": "supervision recommendation"},
}
STATES = {
    "zh": {
        "open": "待答复",
        "answered": "已答复，待回访",
        "lifted": "已解除",
        "withdrawn": "已撤销（申诉成立）",
    },
    "en": {
        "open": "waiting for your answer",
        "answered": "answered",
        "lifted": "lifted",
        "withdrawn": "withdrawn",
    },
}


def ladder(context: Context, s: Any) -> LadderService:
    d = deps(context)
    return LadderService(s, d.trail, d.settings)


def _case_id(context: Context) -> int:
    match = context.matches[0] if context.matches else None
    return int(match.group(1)) if match else 0


def _line(lang: str, row: LadderCase) -> str:
    tier = TIERS[texts.pick(lang)].get(row.tier, row.tier)
    state = STATES[texts.pick(lang)].get(row.state, row.state)
    due = texts.due(lang, row.due_at, row.due_provisional) if row.state == CaseState.open.value else ""
    return " · ".join(p for p in (f"【{tier}】{row.subject}", state, due) if p)


async def list_cases(update: Update, context: Context) -> None:
    me = await caller(update, context)
    lang = me.language
    async with session(context) as s:
        rows = await ladder(context, s).cases(
            me.principal, state=None, person_id=me.principal.person_id, limit=10, offset=0
        )
    from bot.ladder_act import unit_cases  # (it builds on this module)

    unit_lines, unit_buttons = await unit_cases(me, context)
    if not rows and not unit_lines:
        await say(update, context, t(lang, "cases_none"))
        return
    buttons: list[list[tuple[str, str]]] = []
    for row in rows:
        if row.state == CaseState.open.value:
            buttons.append(
                [(t(lang, "btn_case_answer", subject=row.subject[:20]), ANSWER_CASE.format(row.id))]
            )
        if row.state in (CaseState.open.value, CaseState.answered.value):
            buttons.append(
                [(t(lang, "btn_case_appeal", subject=row.subject[:20]), APPEAL_CASE.format(row.id))]
            )
    lines = [t(lang, "cases_head"), *(_line(lang, r) for r in rows)] if rows else []
    lines += unit_lines
    buttons += unit_buttons
    await say(update, context, "\n".join(lines), keyboard(buttons) if buttons else None)


async def _mine(update: Update, context: Context, me: Caller) -> LadderCase:
    async with session(context) as s:
        row = await ladder(context, s).get(me.principal, _case_id(context))
    if row.person_id != me.principal.person_id:
        raise Forbidden("only the person answers their case", code="not_your_case")
    return row


async def start_answer(update: Update, context: Context) -> object:
    me = await caller(update, context)
    row = await _mine(update, context, me)
    if row.state != CaseState.open.value:
        raise Conflict("the answer at this tier was given", code="invalid_transition")
    if context.user_data is not None:
        context.user_data[DRAFT] = {
            "kind": "case_answer",
            "case_id": row.id,
            "tier": row.tier,
            "client_id": "tg-" + uuid.uuid4().hex,
            "touched": time.time(),
        }
    await answer(update)
    lang = me.language
    tier = TIERS[texts.pick(lang)].get(row.tier, row.tier)
    cancel = keyboard([[(t(lang, "btn_cancel"), "v:cancel")]])
    await say(update, context, t(lang, "ask_case_text", tier=tier, subject=row.subject), cancel)
    return CASE_TEXT


async def _finish(update: Update, context: Context, me: Caller, draft: dict[str, Any], call: Call) -> object:
    """``call`` = (the service's method, its data, the text when done): sent as the bound person;
    the draft ends whatever the answer."""
    method, data, done = call
    try:
        async with session(context) as s:
            await getattr(ladder(context, s), method)(me.principal, int(draft["case_id"]), data)
    except AppError as exc:
        _drop(context)
        await tell(update, context, texts.refusal(me.language, exc.code, exc.detail))
        return END
    _drop(context)
    await say(update, context, t(me.language, done))
    return END


async def _send_answer(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    data = AnswerCreate(client_id=draft["client_id"], text=draft["text"], measures=draft.get("measures", ""))
    return await _finish(update, context, me, draft, ("answer", data, "case_answered"))


def _written(update: Update, code: str) -> str:
    """The message's text (at most 4 000 characters), or refused with ``code`` when empty."""
    text = ((update.effective_message.text if update.effective_message else None) or "").strip()
    if not text:
        raise Invalid("write it in one message", code=code)
    return text[:4000]


@step
async def got_case_text(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    draft["text"] = _written(update, "text_required")
    if draft.get("tier") == Tier.notice.value:
        return await _send_answer(update, context, me, draft)
    await say(update, context, t(me.language, "ask_case_measures"))
    return CASE_MEASURES


@step
async def got_case_measures(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    draft["measures"] = _written(update, "measures_required")
    return await _send_answer(update, context, me, draft)


async def start_appeal(update: Update, context: Context) -> object:
    me = await caller(update, context)
    row = await _mine(update, context, me)
    if context.user_data is not None:
        context.user_data[DRAFT] = {"kind": "case_appeal", "case_id": row.id, "touched": time.time()}
    await answer(update)
    lang = me.language
    cancel = keyboard([[(t(lang, "btn_cancel"), "v:cancel")]])
    await say(update, context, t(lang, "ask_appeal", subject=row.subject), cancel)
    return CASE_APPEAL


@step
async def got_appeal(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    appeal = AppealCreate(text=_written(update, "text_required"))
    return await _finish(update, context, me, draft, ("appeal", appeal, "case_appealed"))


def _drop(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


def entry_points() -> list[Any]:
    """Where the reply conversation starts an answer or an appeal (bot.replies.conversation)."""
    return [
        CallbackQueryHandler(start_answer, pattern=pattern(ANSWER_CASE)),
        CallbackQueryHandler(start_appeal, pattern=pattern(APPEAL_CASE)),
    ]


def states() -> dict[object, list[Any]]:
    others = filters.UpdateType.MESSAGE & ~filters.TEXT
    return {
        CASE_TEXT: [
            MessageHandler(TEXT, got_case_text),
            MessageHandler(others, stay(CASE_TEXT, "want_text")),
        ],
        CASE_MEASURES: [
            MessageHandler(TEXT, got_case_measures),
            MessageHandler(others, stay(CASE_MEASURES, "want_text")),
        ],
        CASE_APPEAL: [
            MessageHandler(TEXT, got_appeal),
            MessageHandler(others, stay(CASE_APPEAL, "want_text")),
        ],
    }


def handlers() -> list[Any]:
    return [CommandHandler("cases", list_cases, filters=filters.ChatType.PRIVATE)]
