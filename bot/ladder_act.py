"""The inspector's side of the personal ladder in the chat: ``/cases`` also lists the open cases of
the units an inspector oversees, each with what they may do now (the case file's actions): 升级
(move up a tier, with a reason), 延期 (a recommendation's one extension: the new date, then the
reason), 回访 (a follow-up visit, then whether it lifts the case) and 答复申诉 (the answer, then
upheld or not). Each is a step of the reply conversation (:mod:`bot.replies`) and one
:class:`LadderService` call as the bound inspector (channel ``bot``), which checks role, scope,
state and order as for the PWA.
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from backend.kernel.access import Role
from backend.kernel.errors import AppError, Invalid
from backend.ladder.models import CaseState
from backend.ladder.schemas import AppealAnswer, AppealOutcome, ExtensionCreate, Reason, VisitCreate
from bot import texts
from bot.context import Caller, Context, answer, caller, keyboard, say, session, tell
from bot.ladder import TIERS, ladder
from bot.replies import DRAFT, END, TEXT, pattern, stay, step
from bot.texts import t

ESCALATE, EXTEND, VISIT, ANSWER_APPEAL = "l:esc:{}", "l:ext:{}", "l:vis:{}", "l:aap:{}"
LIFT, KEEP, UPHELD, REJECTED = "l:lift:{}", "l:keep:{}", "l:aok:{}", "l:ano:{}"
#: conversation states (bot.replies uses 0..5, bot.ladder 20..22, bot.evaluation 30..)
ESC_TEXT, EXT_DATE, EXT_REASON, VISIT_TEXT, VISIT_LIFT, APPEAL_TEXT, APPEAL_OUTCOME = range(40, 47)
#: what each action's button is called, and how it starts
BUTTONS = (("escalate", ESCALATE), ("extend", EXTEND), ("visit", VISIT), ("answer_appeal", ANSWER_APPEAL))


async def unit_cases(me: Caller, context: Context) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """The open cases of my units (not my own), one line each, and the buttons of what I may do."""
    if not me.principal.has(Role.inspector):
        return [], []
    lang = me.language
    lines: list[str] = []
    buttons: list[list[tuple[str, str]]] = []
    async with session(context) as s:
        svc = ladder(context, s)
        rows = [
            r
            for r in await svc.cases(me.principal, state=None, person_id=None, limit=30, offset=0)
            if r.person_id != me.principal.person_id
            and r.state in (CaseState.open.value, CaseState.answered.value)
        ][:8]
        named = {c.id: c.person_name for c in await svc.named(rows)}
        for row in rows:
            file = await svc.file(me.principal, row.id or 0)
            tier = TIERS[texts.pick(lang)].get(row.tier, row.tier)
            lines.append(" · ".join(p for p in (f"【{tier}】{row.subject}", named.get(row.id or 0)) if p))
            for action, template in BUTTONS:
                if action in file.actions:
                    label = t(lang, f"btn_case_{action}", subject=row.subject[:16])
                    buttons.append([(label, template.format(row.id))])
    return ([t(lang, "cases_units_head"), *lines] if lines else []), buttons


async def _start(update: Update, context: Context, kind: str, prompt: str, state: int) -> object:
    me = await caller(update, context)
    match = context.matches[0] if context.matches else None
    case_id = int(match.group(1)) if match else 0
    async with session(context) as s:
        row = await ladder(context, s).get(me.principal, case_id)
    if context.user_data is not None:
        context.user_data[DRAFT] = {"kind": kind, "case_id": case_id, "touched": time.time()}
    await answer(update)
    cancel = keyboard([[(t(me.language, "btn_cancel"), "v:cancel")]])
    await say(update, context, t(me.language, prompt, subject=row.subject), cancel)
    return state


async def start_escalate(update: Update, context: Context) -> object:
    return await _start(update, context, "case_escalate", "ask_case_escalate", ESC_TEXT)


async def start_extend(update: Update, context: Context) -> object:
    return await _start(update, context, "case_extend", "ask_case_extend", EXT_DATE)


async def start_visit(update: Update, context: Context) -> object:
    return await _start(update, context, "case_visit", "ask_case_visit", VISIT_TEXT)


async def start_appeal_answer(update: Update, context: Context) -> object:
    return await _start(update, context, "case_appeal_answer", "ask_case_appeal_answer", APPEAL_TEXT)


def _text(update: Update) -> str:
    text = ((update.effective_message.text if update.effective_message else None) or "").strip()
    if not text:
        raise Invalid("write it in one message", code="text_required")
    return text[:4000]


async def _do(
    update: Update, context: Context, me: Caller, draft: dict[str, Any], method: str, *args: Any
) -> object:
    """One service call as the inspector; the draft ends whatever the answer."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
    try:
        async with session(context) as s:
            await getattr(ladder(context, s), method)(me.principal, int(draft["case_id"]), *args)
    except AppError as exc:
        await tell(update, context, texts.refusal(me.language, exc.code, exc.detail))
        return END
    await say(update, context, t(me.language, f"case_{method}_done"))
    return END


@step
async def got_escalate(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    return await _do(update, context, me, draft, "escalate", Reason(reason=_text(update)[:2000]))


@step
async def got_extend_date(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    draft["until"] = _text(update).replace("/", "-")[:40]
    await say(update, context, t(me.language, "ask_case_extend_reason"))
    return EXT_REASON


@step
async def got_extend_reason(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    data = ExtensionCreate(until=str(draft["until"]), reason=_text(update)[:2000])
    return await _do(update, context, me, draft, "extend", data)


@step
async def got_visit(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    draft["note"] = _text(update)
    case_id = draft["case_id"]
    lang = me.language
    choose = keyboard(
        [
            [(t(lang, "btn_case_lift"), LIFT.format(case_id))],
            [(t(lang, "btn_case_keep"), KEEP.format(case_id))],
        ]
    )
    await say(update, context, t(lang, "ask_case_lift"), choose)
    return VISIT_LIFT


@step
async def got_lift(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    await answer(update)
    lifted = bool(update.callback_query and (update.callback_query.data or "").startswith("l:lift:"))
    return await _do(update, context, me, draft, "visit", VisitCreate(note=str(draft["note"]), lifted=lifted))


@step
async def got_appeal_answer(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    draft["answer"] = _text(update)
    case_id = draft["case_id"]
    lang = me.language
    choose = keyboard(
        [
            [(t(lang, "btn_appeal_upheld"), UPHELD.format(case_id))],
            [(t(lang, "btn_appeal_rejected"), REJECTED.format(case_id))],
        ]
    )
    await say(update, context, t(lang, "ask_appeal_outcome"), choose)
    return APPEAL_OUTCOME


@step
async def got_outcome(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    await answer(update)
    upheld = bool(update.callback_query and (update.callback_query.data or "").startswith("l:aok:"))
    data = AppealAnswer(
        answer=str(draft["answer"]), outcome=AppealOutcome.upheld if upheld else AppealOutcome.rejected
    )
    async with session(context) as s:
        file = await ladder(context, s).file(me.principal, int(draft["case_id"]))
    pending = [a for a in file.appeals if a.answer is None]
    if not pending:
        if context.user_data is not None:
            context.user_data.pop(DRAFT, None)
        await tell(update, context, texts.refusal(me.language, "appeal_not_found", ""))
        return END
    return await _do(update, context, me, {**draft}, "answer_appeal", pending[0].id, data)


def entry_points() -> list[Any]:
    return [
        CallbackQueryHandler(start_escalate, pattern=pattern(ESCALATE)),
        CallbackQueryHandler(start_extend, pattern=pattern(EXTEND)),
        CallbackQueryHandler(start_visit, pattern=pattern(VISIT)),
        CallbackQueryHandler(start_appeal_answer, pattern=pattern(ANSWER_APPEAL)),
    ]


def states() -> dict[object, list[Any]]:
    others = filters.UpdateType.MESSAGE & ~filters.TEXT

    def text_state(state: int, handler: Any) -> list[Any]:
        return [MessageHandler(TEXT, handler), MessageHandler(others, stay(state, "want_text"))]

    return {
        ESC_TEXT: text_state(ESC_TEXT, got_escalate),
        EXT_DATE: text_state(EXT_DATE, got_extend_date),
        EXT_REASON: text_state(EXT_REASON, got_extend_reason),
        VISIT_TEXT: text_state(VISIT_TEXT, got_visit),
        VISIT_LIFT: [
            CallbackQueryHandler(got_lift, pattern=f"{pattern(LIFT)}|{pattern(KEEP)}"),
            MessageHandler(filters.UpdateType.MESSAGE, stay(VISIT_LIFT, "want_button")),
        ],
        APPEAL_TEXT: text_state(APPEAL_TEXT, got_appeal_answer),
        APPEAL_OUTCOME: [
            CallbackQueryHandler(got_outcome, pattern=f"{pattern(UPHELD)}|{pattern(REJECTED)}"),
            MessageHandler(filters.UpdateType.MESSAGE, stay(APPEAL_OUTCOME, "want_button")),
        ],
    }
