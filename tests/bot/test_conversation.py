"""The reply conversation: a restart in the middle resumes it; /cancel; the timeout; measures
required when true; a head returns with a reason; non-images refused."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from backend.telegram.models import TelegramState
from backend.warnings.models import Verification, Warning, WarningPhoto
from tests.bot.conftest import JPEG, BotWorld
from tests.bot.fakebot import Phone

MANAGER, HEAD = 5005, 4004


async def test_a_restart_in_the_middle_of_a_reply_resumes_it(world: BotWorld):
    api = world.api
    first, manager, wid = await world.manager_with_warning()
    await world.feed(
        first,
        manager.press(f"w:verify:{wid}"),
        manager.press("v:not_true"),
        manager.text("客户用电正常，系抄表时间差造成"),
    )
    assert "跳过" in str(api.last(MANAGER)["reply_markup"])
    async with world.db.session() as s:  # written at once, not when the process stops
        kept = (await s.execute(select(TelegramState))).scalars().all()
        assert {k.scope for k in kept} == {"user", "conv:reply"}

    # the process dies (no shutdown); a new one starts on the same database
    second = await world.bot()
    api.files["site"] = JPEG
    await world.feed(second, manager.press("v:skip"))
    assert "照片" in api.texts(MANAGER)[-1]
    await world.feed(second, manager.photo("site", len(JPEG)), manager.press("v:done"))
    assert "客户用电正常" in api.texts(MANAGER)[-1]
    await world.feed(second, manager.press("v:send"))
    assert "已提交" in api.texts(MANAGER)[-1]
    async with world.db.session() as s:
        reply = (await s.execute(select(Verification))).scalar_one()
        assert (reply.result, reply.cause, reply.measures) == (
            "not_true",
            "客户用电正常，系抄表时间差造成",
            "",
        )
        assert len(reply.photo_ids) == 1
        assert (await s.execute(select(TelegramState))).scalars().all() == []  # nothing left over


async def test_the_same_draft_sent_again_after_a_crash_is_stored_once(world: BotWorld):
    """A crash after the reply was stored but before the chat state was: the replay is harmless."""
    api = world.api
    first, manager, wid = await world.manager_with_warning()
    await world.feed(
        first,
        manager.press(f"w:verify:{wid}"),
        manager.press("v:not_true"),
        manager.text("原因"),
        manager.press("v:skip"),
        manager.press("v:done"),
    )
    second = await world.bot()  # holds the state as it was before Send
    await world.feed(first, manager.press("v:send"))
    await world.feed(second, manager.press("v:send"))
    assert "已提交" in api.texts(MANAGER)[-2]
    assert "已经提交过了" in api.texts(MANAGER)[-1]
    async with world.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Verification))).scalar_one() == 1


async def test_cancel_timeout_and_required_measures(world: BotWorld):
    api = world.api
    bot, manager, wid = await world.manager_with_warning(telegram_conversation_minutes=1)
    await world.feed(bot, manager.press(f"w:verify:{wid}"), manager.text("随便说点什么"))
    assert "请点击上面的按钮" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.press("v:true"), manager.text("原因"), manager.press("v:skip"))
    assert "必须填写整改措施" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.text("/cancel"))
    assert "已放弃填写" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.text("/cancel"))
    assert "没有正在填写" in api.texts(MANAGER)[-1]

    await world.feed(bot, manager.press(f"w:verify:{wid}"), manager.press("v:true"))
    bot.user_data[MANAGER]["reply"]["touched"] = time.time() - 120  # two minutes of silence
    await world.feed(bot, manager.text("原因"))
    assert "填写超时" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.text("原因"))
    assert api.texts(MANAGER)[-1] == "发送 /help 查看可用命令。"
    async with world.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Verification))).scalar_one() == 0


async def test_a_non_image_is_refused_and_an_image_file_is_taken(world: BotWorld):
    api = world.api
    bot, manager, wid = await world.manager_with_warning()
    api.files["pdf"] = b"%PDF-1.4 not an image"
    await world.feed(
        bot,
        manager.press(f"w:verify:{wid}"),
        manager.press("v:true"),
        manager.text("原因"),
        manager.text("措施"),
        manager.photo("pdf", 21),
    )
    assert "不是图片" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.document("pdf", "application/pdf", 21))
    assert "请发送照片" in api.texts(MANAGER)[-1]
    api.files["scan"] = JPEG
    await world.feed(bot, manager.document("scan", "image/jpeg", len(JPEG)))  # an image sent as a file
    assert "第 1 张" in api.texts(MANAGER)[-1]
    async with world.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(WarningPhoto))).scalar_one() == 1


async def test_a_head_returns_a_reply_with_a_reason(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager, head = Phone(MANAGER), Phone(HEAD, language_code="en")
    await world.bind(bot, "manager", manager)
    await world.bind(bot, "head", head)
    wid = await world.seed.warning("E0005", level="medium")
    await world.feed(
        bot,
        manager.press(f"w:verify:{wid}"),
        manager.press("v:not_true"),
        manager.text("原因"),
        manager.press("v:skip"),
        manager.press("v:done"),
        manager.press("v:send"),
    )
    await world.feed(bot, head.text("/inbox"))
    waiting = api.last(HEAD)
    assert waiting["text"].startswith("Replies awaiting your decision: 1")
    await world.feed(bot, head.press(api.button(waiting, "w:return:")))
    assert "reason" in api.texts(HEAD)[-1]
    await world.feed(bot, head.text("please add a photo of the meter"))
    assert api.texts(HEAD)[-1] == f"Reply to warning #{wid} returned."
    async with world.db.session() as s:
        warning = await s.get(Warning, wid)
        assert warning is not None and warning.state == "returned"
        reply = (await s.execute(select(Verification))).scalar_one()
        assert reply.decision_reason == "please add a photo of the meter"
    # returned: the manager may verify again, from /inbox
    await world.feed(bot, manager.text("/inbox"))
    assert "已退回" in api.texts(MANAGER)[-1]
    assert api.button(api.last(MANAGER), "w:verify:") == f"w:verify:{wid}"


async def test_a_reply_left_alone_times_out_while_the_bot_runs(world: BotWorld):
    api = world.api
    bot, manager, wid = await world.manager_with_warning(telegram_conversation_minutes=0.02)  # 1.2 s
    await world.feed(bot, manager.press(f"w:verify:{wid}"), manager.press("v:true"))
    for _ in range(200):
        if "填写超时" in api.texts(MANAGER)[-1]:
            break
        await asyncio.sleep(0.02)
    assert "填写超时" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.text("原因"))
    # the conversation has ended: the text is not taken as the cause (which answer says so depends
    # on whether the time-out's clean-up or the text reaches the chat state first under load)
    assert api.texts(MANAGER)[-1] in ("发送 /help 查看可用命令。", "这个表单已经结束。")
    async with world.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Verification))).scalar_one() == 0
