"""The "1+3" evaluation in the chat (seed 004's data filing on the messenger).

``/tag`` (heads, inspectors, committee): the people I may file tags about, each with a button; a
press shows the tags I may file for that person; a tag's press starts one written step of the reply
conversation (:mod:`bot.replies`): the facts and evidence in one message, or 跳过 where the tag needs
none. It is filed as the bound person (channel ``bot``) through :class:`EvaluationService`, which
checks the filer's roles and scope, the person and the evidence as for the PWA, and stores it once
under the draft's client id. ``/mytags``: the tags filed about me (not the confidential ones).

No full names go to Telegram: a person is shown by surname, post and unit; notes are not echoed.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from backend.evaluation.photos import TagPhotos
from backend.evaluation.schemas import SubjectPublic, TagFile
from backend.evaluation.service import EvaluationService
from backend.kernel.errors import AppError, Forbidden
from bot import texts
from bot.context import Caller, Context, answer, caller, deps, keyboard, say, session, tell
from bot.replies import DRAFT, END, IMAGES, TEXT, step
from bot.texts import t

PERSON = "e:p:{}:{}"
TAG = "e:t:{}:{}:{}"
PERSON_PATTERN = r"^e:p:(\d+):(\d+)$"
TAG_PATTERN = r"^e:t:(\d+):(\d+):([a-z][a-z0-9_]{0,31})$"
#: the conversation state after the ladder's (bot.ladder uses 20..22)
EV_NOTE = 30
DIMENSIONS = {
    "zh": {"behaviour": "廉洁行为", "awareness": "廉洁意识", "problems": "廉洁问题"},
    "en": {"behaviour": "behaviour", "awareness": "awareness", "problems": "problems"},
}


def service(context: Context, s: Any) -> EvaluationService:
    d = deps(context)
    return EvaluationService(s, d.trail, d.settings)


def masked(name: str) -> str:
    """The surname and a star per other character: 冯** (no full name to Telegram)."""
    return name[:1] + "*" * max(1, len(name) - 1)


def points(direction: str, coefficient: float) -> str:
    return f"{'+' if direction == 'plus' else '-'}{coefficient:g}"


def _groups(context: Context) -> tuple[str, ...]:
    match = context.matches[0] if context.matches else None
    return tuple(match.groups()) if match else ()


async def list_people(update: Update, context: Context) -> None:
    me = await caller(update, context)
    lang = me.language
    buttons: list[list[tuple[str, str]]] = []
    async with session(context) as s:
        svc = service(context, s)
        for category in await svc.categories():
            for x in await svc.subjects(me.principal, category.id):
                if x.may_file:
                    label = " · ".join(p for p in (masked(x.person_name), x.post_name, x.unit_name) if p)
                    buttons.append([(f"{category.name}：{label}", PERSON.format(category.id, x.person_id))])
    if not buttons:
        await say(update, context, t(lang, "ev_nobody"))
        return
    await say(update, context, t(lang, "ev_pick_person"), keyboard(buttons[:30]))


async def _subject(
    svc: EvaluationService, me: Caller, category_id: int, person_id: int, code: str = ""
) -> SubjectPublic:
    """The person as the caller may file about them (with ``code`` among their tags), or refused."""
    subject = next(
        (x for x in await svc.subjects(me.principal, category_id) if x.person_id == person_id), None
    )
    if subject is None or not subject.may_file or (code and code not in subject.may_file):
        raise Forbidden("you may not file this tag about this person", code="not_filer")
    return subject


async def pick_tag(update: Update, context: Context) -> None:
    me = await caller(update, context)
    category_id, person_id = (int(g) for g in _groups(context))
    async with session(context) as s:
        svc = service(context, s)
        subject = await _subject(svc, me, category_id, person_id)
        tags = svc.content(await svc.library(category_id)).tags
    await answer(update)
    lang = texts.pick(me.language)
    buttons = [
        [(f"{x.name}（{DIMENSIONS[lang][x.dimension.value]} {points(x.direction.value, x.coefficient)}）",
          TAG.format(category_id, person_id, x.code))]
        for x in tags
        if x.code in subject.may_file
    ]  # fmt: skip
    await say(
        update, context, t(me.language, "ev_pick_tag", person=masked(subject.person_name)), keyboard(buttons)
    )


async def start_note(update: Update, context: Context) -> object:
    me = await caller(update, context)
    category_id, person_id, code = _groups(context)
    async with session(context) as s:
        svc = service(context, s)
        await _subject(svc, me, int(category_id), int(person_id), code)
        tag = next((x for x in svc.content(await svc.library(int(category_id))).tags if x.code == code), None)
    if tag is None:
        await tell(update, context, texts.refusal(me.language, "unknown_tag", ""))
        return END
    if context.user_data is not None:
        context.user_data[DRAFT] = {
            "kind": "eval_tag",
            "category_id": int(category_id),
            "person_id": int(person_id),
            "tag_code": code,
            "client_id": "tg-" + uuid.uuid4().hex,
            "touched": time.time(),
        }
    await answer(update)
    lang = me.language
    rows = [] if tag.evidence_required else [[(t(lang, "btn_skip"), "v:skip")]]
    rows.append([(t(lang, "btn_cancel"), "v:cancel")])
    key = "ev_ask_evidence" if tag.evidence_required else "ev_ask_note"
    await say(update, context, t(lang, key, tag=tag.name), keyboard(rows))
    return EV_NOTE


async def _keep_photo(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> bool:
    """A photo sent with the note (its caption is the note): stored for the tag, kept in the draft.
    False when the message has none."""
    message = update.effective_message
    source = None
    if message is not None and update.callback_query is None:
        source = message.photo[-1] if message.photo else message.document
    if source is None:
        return False
    if source.file_size is not None and source.file_size > deps(context).settings.photo_max_bytes:
        raise AppError("the photo is too large", code="photo_too_large", status=413)
    content = bytes(await (await source.get_file()).download_as_bytearray())
    async with session(context) as s:
        d = deps(context)
        photo, _created = await TagPhotos(s, d.trail, d.settings).upload(me.principal, content)
    draft["photo_id"] = photo.id
    return True


@step
async def got_note(update: Update, context: Context, me: Caller, draft: dict[str, Any]) -> object:
    message = update.effective_message if update.callback_query is None else None
    await answer(update)
    try:
        with_photo = await _keep_photo(update, context, me, draft)
    except AppError as exc:
        await say(update, context, texts.refusal(me.language, exc.code, exc.detail))
        return EV_NOTE
    text = ((message.caption if with_photo else message.text) if message else None) or ""
    if with_photo and not text.strip():  # the facts still to come, in a message of their own
        lang = me.language
        cancel = keyboard([[(t(lang, "btn_cancel"), "v:cancel")]])
        await say(update, context, t(lang, "ev_photo_kept"), cancel)
        return EV_NOTE
    data = TagFile(
        client_id=draft["client_id"],
        category_id=draft["category_id"],
        person_id=draft["person_id"],
        tag_code=draft["tag_code"],
        note=text.strip()[:2000],
        photo_id=draft.get("photo_id"),
    )
    try:
        async with session(context) as s:
            await service(context, s).file_tag(me.principal, data)
    except AppError as exc:
        if exc.code == "evidence_required":
            await say(update, context, texts.refusal(me.language, exc.code, exc.detail))
            return EV_NOTE
        _drop(context)
        await tell(update, context, texts.refusal(me.language, exc.code, exc.detail))
        return END
    _drop(context)
    await say(update, context, t(me.language, "ev_filed"))
    return END


async def my_tags(update: Update, context: Context) -> None:
    me = await caller(update, context)
    lang = me.language
    async with session(context) as s:
        svc = service(context, s)
        rows = await svc.tags_public(
            await svc.tags(me.principal, person_id=me.principal.person_id, category_id=None, limit=20)
        )
    if not rows:
        await say(update, context, t(lang, "ev_mine_none"))
        return
    dims = DIMENSIONS[texts.pick(lang)]
    lines = [
        f"【{dims.get(x.dimension.value, '')}】{x.tag_name} {points(x.direction.value, x.coefficient)} · "
        f"{texts.day(lang, x.occurred_on)}"
        for x in rows
    ]
    await say(update, context, "\n".join([t(lang, "ev_mine_head"), *lines, t(lang, "ev_mine_hint")]))


def _drop(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


def entry_points() -> list[Any]:
    """Where the reply conversation starts a tag's note (bot.replies.conversation)."""
    return [CallbackQueryHandler(start_note, pattern=TAG_PATTERN)]


def states() -> dict[object, list[Any]]:
    return {
        EV_NOTE: [
            MessageHandler(TEXT, got_note),
            MessageHandler(IMAGES, got_note),
            CallbackQueryHandler(got_note, pattern=r"^v:skip$"),
        ],
    }


def handlers() -> list[Any]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("tag", list_people, filters=private),
        CommandHandler("mytags", my_tags, filters=private),
        CallbackQueryHandler(pick_tag, pattern=PERSON_PATTERN),
    ]
