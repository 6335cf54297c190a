"""The integrity check-up in the chat: ``/checkup`` lists my campaigns; one statement per message
with the scale as buttons; each answer saved at once; a submit confirmation; my own grade with why.

No chat state is kept: every button names its campaign (and the position of the statement it
answers), and where to go on is the service's next step (:meth:`CheckupService.next_step`, the
first unanswered statement), so a restart resumes there. Every step is a :class:`CheckupService`
call as the bound person (channel ``bot``) — which statement a position is, participation, the
window, a single submission and the trail are the service's; this module only turns updates into
those calls and their results into messages. The chat never shows answers already given, so going
through the questionnaire here records no read of them; each answer saved is in the trail. This is
the person's own private chat, and only their own grade is ever shown here.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from backend.checkups.crypto import Sealer
from backend.checkups.models import CheckupStep, MyCampaign, ResponseStatus, ResultPublic, ScaleLabel
from backend.checkups.service import CheckupService
from backend.delivery.payloads import ANSWER_CHECKUP  # open (or resume) a campaign: a reminder's button
from backend.kernel.errors import AppError
from bot import texts
from bot.context import Context, answer, caller, deps, keyboard, say, session, settle
from bot.replies import pattern
from bot.texts import t

#: Telegram button data, "c:<action>:<campaign>[:<index>:<value>]": far below 64 bytes
SUBMIT_CHECKUP = "c:submit:{}"
SHOW_RESULT = "c:result:{}"
LIKERT = "c:a:{}:{}:{}"  # campaign, statement index, scale value (1..n)
GRADES = {
    "zh": {"high": "高", "medium": "中", "low": "低"},
    "en": {"high": "high", "medium": "medium", "low": "low"},
}
ICONS = {"high": "🔴", "medium": "🟠", "low": "🟢"}


def checkups(context: Context, s: Any) -> CheckupService:
    d = deps(context)
    return CheckupService(s, d.trail, Sealer.from_settings(d.settings))


def _ids(context: Context) -> list[int]:
    match = context.matches[0] if context.matches else None
    return [int(g) for g in match.groups()] if match else [0]


def _link(context: Context, path: str) -> str:
    return deps(context).settings.public_url.rstrip("/") + "/#" + path


# --- listing --------------------------------------------------------------------------------


def _answerable(c: MyCampaign) -> bool:
    return c.status != ResponseStatus.submitted and c.window != "scheduled"


async def list_campaigns(update: Update, context: Context) -> None:
    me = await caller(update, context)
    lang = me.language
    async with session(context) as s:
        mine = await checkups(context, s).my_campaigns(me.principal)
    if not mine:
        await say(update, context, t(lang, "ck_none"))
        return
    lines, rows = [t(lang, "ck_head")], []
    for c in mine[:10]:
        if c.status == ResponseStatus.submitted:
            state = t(lang, "ck_done")
            rows.append([(f"{t(lang, 'btn_ck_result')} · {c.title}", SHOW_RESULT.format(c.campaign_id))])
        elif c.window == "scheduled":
            state = t(lang, "ck_scheduled")
        else:
            state = t(lang, "ck_progress", answered=c.answered, total=c.total)
            if c.window == "closed":
                state += t(lang, "ck_closed_mark")
        if _answerable(c):
            label = t(lang, "btn_ck_go" if c.answered == 0 else "btn_ck_resume")
            rows.append([(f"{label} · {c.title}", ANSWER_CHECKUP.format(c.campaign_id))])
        lines.append(f"• {c.title}（{c.year}）{state}" if lang == "zh" else f"• {c.title} ({c.year}) {state}")
    await say(update, context, "\n".join(lines), keyboard(rows))


# --- answering ------------------------------------------------------------------------------


def _label(lang: str, label: ScaleLabel) -> str:
    return label.en if texts.pick(lang) == "en" else label.zh


async def show_step(update: Update, context: Context, lang: str, step: CheckupStep) -> None:
    """The next unanswered statement with the scale as buttons, or the submit confirmation."""
    campaign_id = step.campaign_id
    if step.status == ResponseStatus.submitted:
        await say(
            update,
            context,
            t(lang, "ck_already"),
            keyboard([[(t(lang, "btn_ck_result"), SHOW_RESULT.format(campaign_id))]]),
        )
        return
    if not step.can_answer:
        await say(update, context, t(lang, "ck_not_open" if step.window == "scheduled" else "ck_closed"))
        return
    q = step.question
    if q is None:
        await say(
            update,
            context,
            t(lang, "ck_confirm", total=step.total),
            keyboard([[(t(lang, "btn_ck_submit"), SUBMIT_CHECKUP.format(campaign_id))]]),
        )
        return
    await say(
        update,
        context,
        t(
            lang,
            "ck_question",
            n=q.index + 1,
            total=step.total,
            text=q.text_zh if lang == "zh" else q.text_en,
        ),
        keyboard(
            [
                [(_label(lang, label), LIKERT.format(campaign_id, q.index, value))]
                for value, label in enumerate(step.scale, 1)
            ]
        ),
    )


async def start(update: Update, context: Context) -> None:
    """A campaign's button (from /checkup or a reminder): go on where I stopped."""
    me = await caller(update, context)
    campaign_id = _ids(context)[0]
    async with session(context) as s:
        step = await checkups(context, s).next_step(campaign_id, me.principal)
    await answer(update)
    await show_step(update, context, me.language, step)


async def got_answer(update: Update, context: Context) -> None:
    """A scale button: the service saves this one answer at once (as the PWA's PUT does) and
    says what comes next."""
    me = await caller(update, context)
    campaign_id, index, value = _ids(context)
    try:
        async with session(context) as s:
            step = await checkups(context, s).answer_at(campaign_id, index, value, me.principal)
    except AppError as exc:
        if exc.code == "unknown_position":  # a button of a statement the questionnaire lacks
            await answer(update, t(me.language, "stale"))
            return
        raise
    await answer(update)
    await settle(update, _label(me.language, step.scale[value - 1]))
    await show_step(update, context, me.language, step)


async def submit(update: Update, context: Context) -> None:
    me = await caller(update, context)
    campaign_id = _ids(context)[0]
    lang = me.language
    try:
        async with session(context) as s:
            result = await checkups(context, s).submit(campaign_id, me.principal)
    except AppError as exc:
        if exc.code == "already_submitted":  # a double tap, an old message
            await answer(update, t(lang, "ck_already"), alert=True)
            return
        raise
    await answer(update)
    await settle(update, t(lang, "btn_ck_submit"))
    await say(
        update,
        context,
        t(lang, "ck_submitted") + "\n\n" + summary(lang, result),
        _more(context, lang, result),
    )


async def show_result(update: Update, context: Context) -> None:
    me = await caller(update, context)
    campaign_id = _ids(context)[0]
    async with session(context) as s:
        result = await checkups(context, s).my_result(campaign_id, me.principal)
    await answer(update)
    await say(update, context, summary(me.language, result), _more(context, me.language, result))


def summary(lang: str, result: ResultPublic) -> str:
    """My composite grade and why (the person's own chat only)."""
    grade = result.composite_grade.value
    return t(
        lang,
        "ck_result",
        icon=ICONS.get(grade, "•"),
        grade=GRADES[texts.pick(lang)].get(grade, grade),
        why=result.why.text_zh if lang == "zh" else result.why.text_en,
    )


def _more(context: Context, lang: str, result: ResultPublic) -> Any:
    return keyboard([[(t(lang, "btn_ck_profile"), _link(context, f"/checkups/{result.campaign_id}/result"))]])


def handlers() -> list[Any]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("checkup", list_campaigns, filters=private),
        CallbackQueryHandler(start, pattern=pattern(ANSWER_CHECKUP)),
        CallbackQueryHandler(got_answer, pattern=pattern(LIKERT)),
        CallbackQueryHandler(submit, pattern=pattern(SUBMIT_CHECKUP)),
        CallbackQueryHandler(show_result, pattern=pattern(SHOW_RESULT)),
    ]
