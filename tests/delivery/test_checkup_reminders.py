"""Check-up invitations and reminders reach the chat with an answer button that the bot answers:
the delivery worker sends through PTB to the fake Bot API, the press opens the campaign in the chat.

Runs on the bot tests' set-up (the real PTB Application of ``bot/`` against a local Bot API)."""

from __future__ import annotations

from backend.delivery.payloads import ANSWER_CHECKUP, Item, render
from bot.checkup import ANSWER_CHECKUP as BOT_ANSWERS
from tests.bot.conftest import BotWorld, app, bot_api, bot_settings, world  # noqa: F401 - fixtures
from tests.bot.fakebot import Phone
from tests.bot.test_checkup import open_campaign

MANAGER = 5005


def test_the_answer_button_is_the_one_the_bot_answers():
    assert ANSWER_CHECKUP == BOT_ANSWERS
    items = [Item(i, i, "checkup.reminder", None, "checkup_campaign", 30 + i) for i in (1, 2)]
    one = render(items[:1], ["k1"], public_url="https://p.test", language="en")
    assert one.link == "https://p.test/#/checkups/31"
    assert [b.callback_data for b in one.buttons if b.callback_data] == ["n:read:1", "c:go:31"]
    assert one.body == "1 integrity check-up(s) not finished yet"
    two = render(items, ["k1", "k2"], public_url="https://p.test", language="en")
    assert two.link == "https://p.test/#/checkups" and two.count == 2
    assert [b.callback_data for b in two.buttons if b.callback_data] == ["c:go:31", "c:go:32"]


async def test_a_checkup_reminder_in_the_chat_opens_the_campaign_when_answer_is_pressed(
    world: BotWorld,  # noqa: F811 - the bot tests' fixture
):
    api = world.api
    cid = await open_campaign(world)
    bot = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)
    async with world.worker() as worker:
        await worker.drain()  # the invitation
    invitation = api.last(MANAGER)
    assert "廉洁体检邀请您作答" in invitation["text"]
    assert api.button(invitation, "c:go:") == f"c:go:{cid}"

    admin = await world.sessions.headers("admin")
    r = await world.sessions.client.post(f"/api/checkups/campaigns/{cid}/remind", headers=admin)
    assert r.status_code == 200 and r.json()["count"] >= 1, r.text
    async with world.worker() as worker:
        await worker.drain()
    reminder = api.last(MANAGER)
    assert reminder["text"].startswith("1 项廉洁体检尚未完成")
    assert "日前处理" in reminder["text"]  # the deadline, and nothing of the questionnaire
    assert "2031年度廉洁体检" not in reminder["text"]
    buttons = api.buttons(reminder)
    assert buttons[0]["url"].endswith(f"/#/checkups/{cid}")
    assert [b["text"] for b in buttons] == ["打开", "标为已读", "作答"]
    answer = api.button(reminder, "c:go:")
    assert answer == f"c:go:{cid}" and len(answer.encode()) <= 64

    await world.feed(bot, manager.press(answer))
    assert api.texts(MANAGER)[-1].startswith("第 1/20 题")
