"""The whole story through the real PTB Application against a local Bot API: bind, receive an
alert, verify with a photo through buttons and messages, the head confirms."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.audit.models import AuditRecord
from backend.delivery.service import DeliveryService
from backend.warnings.models import Verification, Warning, WarningPhoto, WarningStep
from tests.bot.conftest import JPEG, TRAIL, BotWorld
from tests.bot.fakebot import Phone

MANAGER, HEAD = 5005, 4004


async def test_bind_alert_verify_with_photo_and_head_confirms(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager, head = Phone(MANAGER), Phone(HEAD, language_code="en")

    # binding: the PWA's link, then /start <code> in the chat
    r = await world.sessions.client.post(
        "/api/telegram/link", headers=await world.sessions.headers("manager")
    )
    assert r.status_code == 201
    link = r.json()
    assert link["url"] == f"https://t.me/probity_bot?start={link['code']}"
    assert link["start_command"] == f"/start {link['code']}"
    await world.feed(bot, manager.text(f"/start {link['code']}"))
    assert "绑定成功" in api.texts(MANAGER)[-1]
    await world.bind(bot, "head", head)
    assert api.texts(HEAD)[-1].startswith("Linked")
    manager_id, _ = await world.seed.person("E0005")
    async with world.db.session() as s:
        assert (await DeliveryService(s, TRAIL, world.settings).mine(manager_id)).telegram_bound

    # an alert: the delivery worker sends it through PTB to the bound chat, with buttons
    wid = await world.seed.warning("E0005", level="high", object_key="CUST-SECRET-1")
    async with world.worker() as worker:
        await worker.drain()
    alert = api.last(MANAGER)
    assert "新的高风险（红色）预警" in alert["text"] and "CUST-SECRET" not in alert["text"]
    buttons = api.buttons(alert)
    assert buttons[0]["url"].endswith(f"/#/warnings/{wid}")
    verify = api.button(alert, "w:verify:")
    assert verify == f"w:verify:{wid}"
    assert api.button(alert, "n:read:")
    assert all(len(b.get("callback_data", "").encode()) <= 64 for b in buttons)
    head_alert = api.last(HEAD)  # red: the head hears of it too, without a Verify button
    assert not any(str(b.get("callback_data", "")).startswith("w:verify") for b in api.buttons(head_alert))

    # the reply, step by step
    await world.feed(bot, manager.press(verify))
    assert "是否属实" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.press("v:true"))
    assert "原因" in api.texts(MANAGER)[-1]
    assert api.of("editMessageText")  # the pressed message shows the choice
    await world.feed(bot, manager.text("表计更换后未录入读数"))
    assert "整改措施" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.text("已追补电费，并对装表人员进行培训"))
    assert "照片" in api.texts(MANAGER)[-1]
    api.files["ph1"] = JPEG
    await world.feed(bot, manager.photo("ph1", len(JPEG)))
    assert "第 1 张" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.photo("ph1", len(JPEG)))  # the same photo again is stored once
    assert "收到过" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.press("v:done"))
    summary = api.last(MANAGER)
    assert "属实" in summary["text"] and "照片：1 张" in summary["text"]
    send = api.button(summary, "v:send")
    await world.feed(bot, manager.press(send), manager.press(send))  # a double tap
    assert "已提交" in api.texts(MANAGER)[-1]
    assert api.answers()[-1] == "这个表单已经结束。"

    async with world.db.session() as s:
        replies = (
            (await s.execute(select(Verification).where(Verification.warning_id == wid))).scalars().all()
        )
        assert len(replies) == 1
        reply = replies[0]
        assert (reply.result, reply.channel) == ("true", "bot")
        assert reply.cause == "表计更换后未录入读数"
        photos = (await s.execute(select(WarningPhoto).where(WarningPhoto.warning_id == wid))).scalars().all()
        assert len(photos) == 1 and reply.photo_ids == [photos[0].id]
        step = (
            await s.execute(
                select(WarningStep).where(WarningStep.warning_id == wid, WarningStep.kind == "submitted")
            )
        ).scalar_one()
        assert step.channel == "bot"
        submitted = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(AuditRecord.action == "verification.submit", AuditRecord.object_id == str(reply.id))
            )
        ).scalar_one()
        assert (submitted.channel, submitted.actor_person_id) == ("bot", manager_id)

    # the head is told a reply awaits them, with Confirm / Return, and confirms from the chat
    async with world.worker() as worker:
        await worker.drain()
    told = api.last(HEAD)
    assert "待您确认" in told["text"]  # alerts speak PROBITY_DELIVERY_LANGUAGE; the bot speaks /lang
    assert api.button(told, "w:return:") == f"w:return:{wid}"
    await world.feed(bot, head.press(api.button(told, "w:confirm:"), text=told["text"]))
    assert api.texts(HEAD)[-1] == f"Reply to warning #{wid} confirmed."
    async with world.db.session() as s:
        warning = await s.get(Warning, wid)
        assert warning is not None and warning.state == "confirmed"
        record = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(AuditRecord.action == "verification.confirm")
            )
        ).scalar_one()
        assert record.channel == "bot"
        assert (await s.execute(select(func.count()).select_from(Verification))).scalar_one() == 1
