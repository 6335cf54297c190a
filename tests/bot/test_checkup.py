"""The check-up in the chat: one statement per message with scale buttons, each answer saved at
once, a restart resumes at the next statement, one submission however often Submit is tapped, my
own grade with why; unbound chats and people outside the campaign are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.checkups.content import default_policy, first_questionnaire
from backend.checkups.crypto import Sealer
from backend.checkups.models import CheckupResponse, CheckupResult
from backend.checkups.service import CheckupService
from backend.telegram.service import TelegramService
from tests.bot.conftest import TRAIL, BotWorld
from tests.bot.fakebot import Phone

MANAGER, MANAGER2, STRANGER = 5005, 5006, 9009


async def open_campaign(world: BotWorld) -> int:
    """Through the API as the admin: this year's questionnaire, policy and a campaign for C01."""
    client, admin = world.sessions.client, await world.sessions.headers("admin")
    q = await client.post(
        "/api/checkups/questionnaires", json=first_questionnaire().model_dump(mode="json"), headers=admin
    )
    assert q.status_code == 201, q.text
    p = await client.post(
        "/api/checkups/policies", json=default_policy().model_dump(mode="json"), headers=admin
    )
    assert p.status_code == 201, p.text
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "year": 2031,
        "title": "2031年度廉洁体检",
        "questionnaire_id": q.json()["id"],
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "unit_codes": ["C01"],
    }
    r = await client.post("/api/checkups/campaigns", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def mine(world: BotWorld, cid: int) -> dict[str, Any]:
    """What the PWA reads for the manager: saved answers and where to resume."""
    r = await world.sessions.client.get(
        f"/api/checkups/mine/{cid}", headers=await world.sessions.headers("manager")
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_answer_by_buttons_resume_after_restart_and_submit_once(world: BotWorld):
    api = world.api
    cid = await open_campaign(world)
    first = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(first, "manager", manager)

    await world.feed(first, manager.text("/checkup"))
    listing = api.last(MANAGER)
    assert "2031年度廉洁体检" in listing["text"] and "已答 0/20 题" in listing["text"]
    await world.feed(first, manager.press(api.button(listing, f"c:go:{cid}")))
    question = api.last(MANAGER)
    assert question["text"].startswith("第 1/20 题")
    buttons = api.buttons(question)
    assert [b["text"] for b in buttons] == ["完全不同意", "比较不同意", "说不清", "比较同意", "完全同意"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)

    await world.feed(first, manager.press(f"c:a:{cid}:0:2"))
    assert api.texts(MANAGER)[-1].startswith("第 2/20 题")
    assert api.of("editMessageText")[-1]["text"].endswith("→ 比较不同意")  # the chosen answer shown
    await world.feed(first, manager.press(api.button(api.last(MANAGER), f"c:a:{cid}:1:4")))
    assert api.texts(MANAGER)[-1].startswith("第 3/20 题")
    saved = await mine(world, cid)  # saved at once, as the PWA sees it
    assert (saved["answered"], saved["next_index"]) == (2, 2)
    assert [q["answer"] for q in saved["questions"][:3]] == [2, 4, None]

    # the process dies; a new one starts on the same database and resumes at statement 3
    second = await world.bot()
    await world.feed(second, manager.text("/checkup"))
    listing = api.last(MANAGER)
    assert "已答 2/20 题" in listing["text"] and "继续作答" in str(listing["reply_markup"])
    await world.feed(second, manager.press(api.button(listing, f"c:go:{cid}")))
    assert api.texts(MANAGER)[-1].startswith("第 3/20 题")
    for index in range(2, 20):
        await world.feed(second, manager.press(api.button(api.last(MANAGER), f"c:a:{cid}:{index}:1")))
    confirm = api.last(MANAGER)
    assert "全部 20 题已作答" in confirm["text"]

    submit = api.button(confirm, f"c:submit:{cid}")
    await world.feed(second, manager.press(submit), manager.press(submit))  # a double tap
    done = api.last(MANAGER)
    assert done["text"].startswith("体检已提交") and "您的综合等级" in done["text"]
    assert "综合得分" in done["text"]  # why: the factors, weights and cut-offs
    assert [b.get("url") for b in api.buttons(done)] == [f"https://probity.test/#/checkups/{cid}/result"]
    assert api.answers()[-1] == "这次体检已经提交过了，没有重复提交。"
    assert sum("您的综合等级" in text for text in api.texts(MANAGER)) == 1
    assert all(
        "综合等级" not in str(c["text"]) for c in api.of("sendMessage") if int(c["chat_id"]) != MANAGER
    )

    async with world.db.session() as s:
        telegram = TelegramService(s, TRAIL, world.settings)
        binding = await telegram.binding(MANAGER)
        assert binding is not None
        me = await telegram.principal(binding)
        checkups = CheckupService(s, TRAIL, Sealer.from_settings(world.settings))
        results = await checkups.person_results(cid, me.person_id, me)
        assert len(results) == 1 and results[0].reason == "submit"
        campaign = next(c for c in await checkups.my_campaigns(me) if c.campaign_id == cid)
        assert (campaign.status, campaign.answered) == ("submitted", 20)
        response = (
            await s.execute(
                select(CheckupResponse).where(
                    col(CheckupResponse.campaign_id) == cid, col(CheckupResponse.person_id) == me.person_id
                )
            )
        ).scalar_one()
        assert response.submissions == 1
        assert (
            await s.execute(
                select(func.count()).select_from(CheckupResult).where(col(CheckupResult.campaign_id) == cid)
            )
        ).scalar_one() == 1

    # afterwards: /checkup offers my result, and old answer buttons change nothing
    await world.feed(second, manager.text("/checkup"), manager.press(f"c:a:{cid}:0:5"))
    assert "已提交" in api.texts(MANAGER)[-1] and f"c:result:{cid}" in str(api.last(MANAGER)["reply_markup"])
    assert api.answers()[-1] == "无法执行：这次体检已经提交过了。"
    await world.feed(second, manager.press(f"c:result:{cid}"))
    assert api.texts(MANAGER)[-1].startswith(("🔴", "🟠", "🟢"))


async def test_an_unbound_chat_and_an_outsider_are_refused(world: BotWorld):
    api = world.api
    cid = await open_campaign(world)
    bot = await world.bot()
    stranger = Phone(STRANGER)
    await world.feed(bot, stranger.text("/checkup"))
    assert "只为已绑定的账号服务" in api.texts(STRANGER)[-1]
    await world.feed(bot, stranger.press(f"c:go:{cid}"), stranger.press(f"c:a:{cid}:0:1"))
    assert all("只为已绑定的账号服务" in a for a in api.answers()[-2:])
    assert len(api.texts(STRANGER)) == 1  # nothing else: no statement shown

    outsider = Phone(MANAGER2, language_code="en")  # manager2 works in C02: not in the campaign
    await world.bind(bot, "manager2", outsider)
    await world.feed(bot, outsider.press(f"c:go:{cid}"), outsider.press(f"c:a:{cid}:0:1"))
    assert api.answers()[-2:] == ["Not done: You are not in this check-up."] * 2
    await world.feed(bot, outsider.text("/help"))
    assert "/checkup my integrity check-up" in api.texts(MANAGER2)[-1]
    async with world.db.session() as s:
        answered = (
            await s.execute(
                select(func.sum(col(CheckupResponse.answered))).where(col(CheckupResponse.campaign_id) == cid)
            )
        ).scalar_one()
        assert not answered


async def test_a_whole_checkup_in_the_chat_records_each_answer_and_no_read(world: BotWorld):
    """Going through my own questionnaire shows me no answer: no ``checkup.answers.read`` (a read
    of individual data) per tap, while every answer saved, a changed one too, is in the trail."""
    api = world.api
    cid = await open_campaign(world)
    bot = await world.bot()
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)
    chosen = {index: index % 5 + 1 for index in range(20)}

    await world.feed(bot, manager.text("/checkup"))
    await world.feed(bot, manager.press(api.button(api.last(MANAGER), f"c:go:{cid}")))
    for index in range(20):
        await world.feed(
            bot, manager.press(api.button(api.last(MANAGER), f"c:a:{cid}:{index}:{chosen[index]}"))
        )
        if index == 9:  # an earlier statement's button pressed again: a change, then on at 11
            chosen[0] = 4
            await world.feed(bot, manager.press(f"c:a:{cid}:0:4"), manager.press(f"c:a:{cid}:20:1"))
            assert api.answers()[-1] == "这个表单已经结束。"  # no statement 21: nothing saved
            assert api.texts(MANAGER)[-1].startswith("第 11/20 题")
    await world.feed(bot, manager.press(api.button(api.last(MANAGER), f"c:submit:{cid}")))
    assert api.texts(MANAGER)[-1].startswith("体检已提交")

    async with world.db.session() as s:
        records = (
            (
                await s.execute(
                    select(AuditRecord)
                    .where(col(AuditRecord.action).like("checkup.%"))
                    .order_by(col(AuditRecord.id))
                )
            )
            .scalars()
            .all()
        )
        telegram = TelegramService(s, TRAIL, world.settings)
        binding = await telegram.binding(MANAGER)
        assert binding is not None
        me = await telegram.principal(binding)
        response_id = (
            await s.execute(
                select(CheckupResponse.id).where(
                    col(CheckupResponse.campaign_id) == cid, col(CheckupResponse.person_id) == me.person_id
                )
            )
        ).scalar_one()
        mine = await CheckupService(s, TRAIL, Sealer.from_settings(world.settings)).my_checkup(cid, me)
    mine_acts = [r for r in records if r.actor_person_id == me.person_id]
    assert [r.action for r in mine_acts if r.action != "checkup.answers.save"] == ["checkup.submit"]
    saves = [r for r in mine_acts if r.action == "checkup.answers.save"]
    assert {(r.channel, r.object_id) for r in saves} == {("bot", str(response_id))}
    assert [(r.new_value or {})["answered"] for r in saves] == [*range(1, 11), 10, *range(11, 21)]
    assert {q.index: q.answer for q in mine.questions} == chosen
