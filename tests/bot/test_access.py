"""Who the bot serves: unbound chats get the explanation and nothing else; a button pressed by
someone else is refused by the same checks as the API; disabled accounts stop at once."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from backend.auth.models import Account
from backend.warnings.models import Verification, Warning
from tests.bot.conftest import BotWorld
from tests.bot.fakebot import Phone

MANAGER, MANAGER2, HEAD, STRANGER = 5005, 6006, 4004, 9999


async def test_an_unbound_chat_gets_the_polite_explanation_and_nothing_else(world: BotWorld):
    api = world.api
    bot = await world.bot()
    wid = await world.seed.warning("E0005")
    stranger = Phone(STRANGER)
    await world.feed(
        bot,
        stranger.text("/start"),
        stranger.text("/inbox"),
        stranger.text("/help"),
        stranger.text("/stats"),
        stranger.text("你好"),
        stranger.text(f"/start not-a-real-code-{wid}"),
    )
    texts = api.texts(STRANGER)
    assert len(texts) == 6
    assert all("只为已绑定的账号服务" in t for t in texts[:5])
    assert "绑定链接无效" in texts[5]
    await world.feed(bot, stranger.press(f"w:verify:{wid}"), stranger.press("n:read:1"))
    answers = api.answers()
    assert len(answers) == 2 and all("只为已绑定的账号服务" in a for a in answers)
    assert len(api.texts(STRANGER)) == 6  # nothing else was said
    english = Phone(STRANGER + 1, language_code="en-GB")
    await world.feed(bot, english.text("/inbox"))
    assert "only serves linked accounts" in api.texts(STRANGER + 1)[0]


async def test_a_button_pressed_by_someone_else_is_refused(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager, manager2, head = Phone(MANAGER), Phone(MANAGER2), Phone(HEAD)
    for user, phone in (("manager", manager), ("manager2", manager2), ("head", head)):
        await world.bind(bot, user, phone)
    wid = await world.seed.warning("E0005")

    # another county's manager: the warning does not exist for them
    await world.feed(bot, manager2.press(f"w:verify:{wid}"))
    assert "找不到这条预警" in api.answers()[-1]
    # the head sees it but only the responsible person replies
    await world.feed(bot, head.press(f"w:verify:{wid}"))
    assert "只有预警的责任人可以反馈" in api.answers()[-1]
    # nobody confirms their own reply, and nothing is there to confirm yet
    await world.feed(bot, manager.press(f"w:confirm:{wid}"))
    assert "不能确认或退回自己的反馈" in api.answers()[-1]
    await world.feed(bot, manager2.press(f"w:confirm:{wid}"), manager2.press(f"w:return:{wid}"))
    assert all("找不到这条预警" in a for a in api.answers()[-2:])
    # someone else's notification cannot be marked read
    await world.feed(bot, manager2.press("n:read:1"))
    assert "找不到这条消息" in api.answers()[-1]
    async with world.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Verification))).scalar_one() == 0
        warning = await s.get(Warning, wid)
        assert warning is not None and warning.state == "delivered"


async def test_a_disabled_account_is_refused_at_once(world: BotWorld):
    api = world.api
    bot = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)
    async with world.db.session() as s:
        account = (await s.execute(select(Account).where(Account.username == "manager"))).scalar_one()
        account.active = False
        await s.commit()
    await world.feed(bot, manager.text("/inbox"))
    assert "账号已停用" in api.texts(MANAGER)[-1]


async def test_one_error_handler_answers_and_logs_the_unexpected(world: BotWorld, monkeypatch):
    api = world.api
    bot = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)

    async def broken(*_args, **_kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr("bot.commands.open_warnings", broken)
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logger = logging.getLogger("probity.bot")
    logger.addHandler(handler)
    try:
        await world.feed(bot, manager.text("/due"))
    finally:
        logger.removeHandler(handler)
    assert api.texts(MANAGER)[-1] == "抱歉，处理时出错了，已记录。请稍后再试。"
    assert "the database fell over" not in api.texts(MANAGER)[-1]
    assert [r.exc_info[1].args for r in seen if r.exc_info] == [("the database fell over",)]
