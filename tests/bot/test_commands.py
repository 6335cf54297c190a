"""Commands in zh-CN and English; binding links (single use, ten minutes, one account per person);
/unbind; Mark read; Telegram's flood control."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from backend.audit.models import AuditRecord
from backend.delivery.broadcasts import BroadcastService
from backend.delivery.models import BroadcastCreate, BroadcastTargets, PersonChannel
from backend.events.models import EventRecipient
from backend.kernel.access import Actor
from backend.kernel.timeutil import utcnow
from backend.telegram.models import TelegramBinding, TelegramLinkCode
from backend.warnings.models import Warning
from tests.bot.conftest import TRAIL, BotWorld
from tests.bot.fakebot import Phone

MANAGER, HEAD, INSPECTOR = 5005, 4004, 3003


async def test_inbox_due_stats_help_and_language(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager, head = Phone(MANAGER), Phone(HEAD)
    await world.bind(bot, "manager", manager)
    await world.bind(bot, "head", head)
    await world.feed(bot, manager.text("/inbox"), manager.text("/due"))
    assert api.texts(MANAGER)[-2:] == ["您没有未办结的预警。", "没有即将到期或已逾期的预警。"]
    red = await world.seed.warning("E0005", level="high")
    yellow = await world.seed.warning("E0005", level="low")
    await world.feed(bot, manager.text("/inbox"))
    listing = api.last(MANAGER)
    assert listing["text"].startswith("您有 2 条未办结预警")
    assert f"🔴 #{red} 高风险·红色" in listing["text"] and f"🟡 #{yellow}" in listing["text"]
    assert "CUST-" not in listing["text"]
    assert {b.get("callback_data") for b in api.buttons(listing)} >= {f"w:verify:{red}", f"w:verify:{yellow}"}
    await world.feed(bot, manager.text("/due"))
    due = api.last(MANAGER)["text"]
    assert due.index(f"#{red}") < due.index(f"#{yellow}")  # red is due first (10 working days)
    await world.feed(bot, manager.text("/stats"))
    assert "只供负责人和纪检人员使用" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.text("/help"))
    assert "/stats" not in api.texts(MANAGER)[-1] and "/inbox" in api.texts(MANAGER)[-1]
    await world.feed(bot, head.text("/help"), head.text("/stats"))
    assert "/stats" in api.texts(HEAD)[-2]
    assert "未办结：红 1 · 橙 0 · 黄 1" in api.texts(HEAD)[-1]

    await world.feed(bot, manager.text("/lang"))
    assert api.button(api.last(MANAGER), "lang:") == "lang:zh"
    await world.feed(bot, manager.press("lang:en"))
    assert api.texts(MANAGER)[-1] == "The language is now English."
    await world.feed(bot, manager.text("/inbox"), manager.text("/nonsense"))
    assert api.texts(MANAGER)[-2].startswith("You have 2 open warning(s)")
    assert api.texts(MANAGER)[-1].startswith("No such command")
    await world.feed(bot, manager.text("/lang zh"))
    assert api.texts(MANAGER)[-1] == "语言已切换为中文。"


async def test_mark_read_from_the_alert(world: BotWorld):
    api = world.api
    bot, manager, wid = await world.manager_with_warning()
    async with world.worker() as worker:
        await worker.drain()
    read = api.button(api.last(MANAGER), "n:read:")
    await world.feed(bot, manager.press(read))
    assert api.answers()[-1] == "已标为已读。"
    async with world.db.session() as s:
        recipient = await s.get(EventRecipient, int(read.rsplit(":", 1)[1]))
        assert recipient is not None and recipient.read_at is not None
        warning = await s.get(Warning, wid)
        assert warning is not None and warning.state == "read"
        view = (
            await s.execute(
                select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "warning.read")
            )
        ).scalar_one()
        assert view.channel == "bot"


async def test_binding_links_are_single_use_expire_and_one_account_per_person(world: BotWorld):
    api = world.api
    bot = await world.bot()
    phone, other_phone = Phone(MANAGER), Phone(MANAGER + 1)
    code = await world.link("manager")
    await world.feed(bot, phone.text(f"/start {code}"), other_phone.text(f"/start {code}"))
    assert "绑定成功" in api.texts(MANAGER)[-1]
    assert "已经用过了" in api.texts(MANAGER + 1)[-1]

    expired = await world.link("manager")
    async with world.db.session() as s:
        await s.execute(update(TelegramLinkCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    await world.feed(bot, other_phone.text(f"/start {expired}"))
    assert "已过期" in api.texts(MANAGER + 1)[-1]

    # a newer link replaces older unused ones
    older, newer = await world.link("manager"), await world.link("manager")
    await world.feed(bot, other_phone.text(f"/start {older}"))
    assert "无效" in api.texts(MANAGER + 1)[-1]
    # the person binds another Telegram account: the first one no longer speaks for them
    await world.feed(bot, other_phone.text(f"/start {newer}"))
    assert "绑定成功" in api.texts(MANAGER + 1)[-1]
    await world.feed(bot, phone.text("/inbox"))
    assert "只为已绑定的账号服务" in api.texts(MANAGER)[-1]
    # this Telegram account now binds the head: the manager's alerts stop going to it
    await world.feed(bot, other_phone.text(f"/start {await world.link('head')}"))
    head_id, _ = await world.seed.person("E0004")
    async with world.db.session() as s:
        bindings = (await s.execute(select(TelegramBinding))).scalars().all()
        assert [(b.person_id, b.user_id) for b in bindings] == [(head_id, MANAGER + 1)]
        addresses = (
            (await s.execute(select(PersonChannel).where(PersonChannel.channel == "telegram")))
            .scalars()
            .all()
        )
        assert [(a.person_id, a.address) for a in addresses] == [(head_id, str(MANAGER + 1))]
        actions = [
            r.action
            for r in (await s.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars()
            if r.action.startswith("telegram.")
        ]
        assert actions.count("telegram.bind") == 3 and actions.count("telegram.unbind") == 1


async def test_unbind_from_the_chat_and_from_the_app(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)
    await world.feed(bot, manager.text("/unbind"))
    assert "已解除绑定" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.text("/inbox"))
    assert "只为已绑定的账号服务" in api.texts(MANAGER)[-1]
    async with world.db.session() as s:
        assert (await s.execute(select(PersonChannel))).scalars().all() == []

    await world.bind(bot, "manager", manager)
    client, headers = world.sessions.client, await world.sessions.headers("manager")
    me = (await client.get("/api/telegram/me", headers=headers)).json()
    assert me["bound"] is True and me["language"] == "zh" and me["bot_username"] == "probity_bot"
    assert (await client.delete("/api/telegram/me", headers=headers)).status_code == 204
    assert (await client.get("/api/telegram/me", headers=headers)).json()["bound"] is False
    assert (await client.delete("/api/telegram/me", headers=headers)).status_code == 404
    await world.feed(bot, manager.text("/help"))
    assert "只为已绑定的账号服务" in api.texts(MANAGER)[-1]


async def test_flood_control_waits_as_telegram_asks(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)
    api.flood["sendMessage"] = 1
    await world.feed(bot, manager.text("/inbox"))
    assert [c.method for c in api.calls[-2:]] == ["sendMessage:429", "sendMessage"]
    assert api.texts(MANAGER)[-1] == "您没有未办结的预警。"


async def test_everyone_reads_broadcasts_and_marks_them_read(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)
    manager_id, _ = await world.seed.person("E0005")
    async with world.db.session() as s:
        sent = await BroadcastService(s, TRAIL).create(
            Actor.system(label="tests"),
            BroadcastCreate(
                title="节前廉洁提醒",
                body="春节将至，请严守廉洁纪律。",
                targets=BroadcastTargets(person_ids=[manager_id]),
            ),
        )
    async with world.worker() as worker:
        await worker.drain()
    alert = api.last(MANAGER)
    assert "1 条新通知" in alert["text"] and "春节" not in alert["text"]  # the doorbell carries no text
    await world.feed(bot, manager.text("/news"))
    assert f"🆕 #{sent.id} 节前廉洁提醒（未读）" in api.texts(MANAGER)[-1]
    await world.feed(bot, manager.press(api.button(alert, "b:show:")))
    assert api.texts(MANAGER)[-1] == "📢 节前廉洁提醒\n\n春节将至，请严守廉洁纪律。"
    async with world.db.session() as s:
        stats = await BroadcastService(s, TRAIL).stats(sent.id)
        assert (stats.read, stats.unread) == (1, 0)
    await world.feed(bot, manager.text("/news"))
    assert f"• #{sent.id} 节前廉洁提醒" in api.texts(MANAGER)[-1] and "未读" not in api.texts(MANAGER)[-1]
    await world.feed(bot, Phone(HEAD).text("/news"))  # unbound
    head = Phone(HEAD)
    await world.bind(bot, "head", head)
    await world.feed(bot, head.press(f"b:show:{sent.id}"))
    assert "找不到这条通知" in api.answers()[-1]


async def test_one_language_for_the_person_in_the_bot_the_pwa_and_the_alerts(world: BotWorld):
    api = world.api
    bot, manager, _ = await world.manager_with_warning()
    client, headers = world.sessions.client, await world.sessions.headers("manager")

    # chosen in the bot: stored for the person, so the PWA and every channel know it
    await world.feed(bot, manager.press("lang:en"))
    assert (await client.get("/api/delivery/me", headers=headers)).json()["language"] == "en"
    async with world.worker() as worker:
        await worker.drain()
    assert "high-level (red)" in api.last(MANAGER)["text"]

    # chosen in the PWA: the bot answers in it from then on
    r = await client.put("/api/delivery/me/preferences", json={"language": "zh"}, headers=headers)
    assert r.status_code == 200
    await world.feed(bot, manager.text("/inbox"))
    assert api.texts(MANAGER)[-1].startswith("您有 1 条未办结预警")
