"""The personal ladder in the chat: /cases lists my cases with 答复 and 申诉; an inquiry is answered
with the explanation and the measures, once however often the last message is replayed; an appeal
is sent; another person's case cannot be answered from a button."""

from __future__ import annotations

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.ladder.models import LadderAppeal, LadderCase, LadderStep
from tests.bot.conftest import BotWorld
from tests.bot.fakebot import Phone
from tests.ladder.test_ladder import issue

MANAGER, MANAGER2 = 5005, 5006


async def test_an_inquiry_answered_and_an_appeal_sent_from_the_chat(world: BotWorld, db):
    api, client, sessions = world.api, world.sessions.client, world.sessions
    case = await issue(client, sessions, db, tier="inquiry")
    bot = await world.bot()
    phone = Phone(MANAGER)
    await world.bind(bot, "manager", phone)

    await world.feed(bot, phone.text("/cases"))
    listing = api.last(MANAGER)
    assert "我的廉情预警" in listing["text"] and "【廉情预警质询】多户电费由同一银行卡代缴" in listing["text"]
    assert "待答复" in listing["text"]
    data = {b["text"]: b["callback_data"] for b in api.buttons(listing)}
    assert data == {
        "答复：多户电费由同一银行卡代缴": f"l:ans:{case['id']}",
        "申诉：多户电费由同一银行卡代缴": f"l:app:{case['id']}",
    }

    await world.feed(bot, phone.press(f"l:ans:{case['id']}"))
    assert "请写下您的书面说明" in api.last(MANAGER)["text"]
    await world.feed(bot, phone.text("代缴为客户委托，已补签委托书"))
    assert "整改措施" in api.last(MANAGER)["text"]
    measures = phone.text("已逐户核实并停止代缴")
    await world.feed(bot, measures)
    assert api.last(MANAGER)["text"] == "已提交答复，纪检人员会跟进回访。"
    await world.feed(bot, measures)  # the last message again (a replay): nothing more is stored
    async with db.session() as s:
        row = await s.get(LadderCase, case["id"])
        answers = (
            (
                await s.execute(
                    select(LadderStep).where(LadderStep.case_id == case["id"], LadderStep.kind == "answered")
                )
            )
            .scalars()
            .all()
        )
    assert row.state == "answered"
    assert [(a.text, a.data["measures"]) for a in answers] == [
        ("代缴为客户委托，已补签委托书", "已逐户核实并停止代缴")
    ]

    await world.feed(bot, phone.press(f"l:app:{case['id']}"))
    assert "申诉理由" in api.last(MANAGER)["text"]
    await world.feed(bot, phone.text("代缴系客户书面委托，不属违规"))
    assert api.last(MANAGER)["text"] == "已提交申诉，纪检人员答复后会通知您。"
    async with db.session() as s:
        appeals = (
            (await s.execute(select(LadderAppeal).where(LadderAppeal.case_id == case["id"]))).scalars().all()
        )
        channels = (
            await s.execute(
                select(AuditRecord.action, AuditRecord.channel).where(
                    AuditRecord.object_type == "ladder_case"
                )
            )
        ).all()
    assert [a.text for a in appeals] == ["代缴系客户书面委托，不属违规"]
    assert {c for a, c in channels if a in ("ladder.answered", "ladder.appealed")} == {"bot"}, channels

    # someone else pressing the same button is refused in words, and nothing is stored
    other = Phone(MANAGER2)
    await world.bind(bot, "manager2", other)
    await world.feed(bot, other.press(f"l:ans:{case['id']}"))
    refused = " ".join(api.texts(MANAGER2)[-1:] + api.answers())
    assert "找不到这份廉情预警" in refused or "只有本人" in refused, refused


INSPECTOR = 5009


async def test_an_inspector_escalates_answers_an_appeal_and_lifts_from_the_chat(world: BotWorld, db):
    api, client, sessions = world.api, world.sessions.client, world.sessions
    case = await issue(client, sessions, db, tier="notice")
    cid = case["id"]
    r = await client.post(
        f"/api/ladder/{cid}/appeal",
        json={"text": "代缴系客户委托"},
        headers=await sessions.headers("manager"),
    )
    assert r.status_code in (200, 201), r.text
    bot = await world.bot()
    phone = Phone(INSPECTOR)
    await world.bind(bot, "inspector", phone)

    await world.feed(bot, phone.text("/cases"))
    listing = api.last(INSPECTOR)
    assert (
        "所辖单位的廉情预警：" in listing["text"]
        and "【廉情预警告知】多户电费由同一银行卡代缴" in listing["text"]
    )
    data = {b["text"]: b["callback_data"] for b in api.buttons(listing)}
    assert data == {
        "升级：多户电费由同一银行卡代缴": f"l:esc:{cid}",
        "回访：多户电费由同一银行卡代缴": f"l:vis:{cid}",
        "答复申诉：多户电费由同一银行卡代缴": f"l:aap:{cid}",
    }

    await world.feed(bot, phone.press(f"l:esc:{cid}"))
    assert "升级理由" in api.last(INSPECTOR)["text"]
    await world.feed(bot, phone.text("逾期未书面说明"))
    assert api.last(INSPECTOR)["text"] == "已升级，已通知本人。"

    await world.feed(bot, phone.press(f"l:aap:{cid}"))
    await world.feed(bot, phone.text("委托书日期晚于代缴时间"))
    assert api.last(INSPECTOR)["text"] == "复核结论："
    await world.feed(bot, phone.press(f"l:ano:{cid}"))
    assert api.last(INSPECTOR)["text"] == "申诉已答复，已通知本人。"

    await world.feed(bot, phone.press(f"l:vis:{cid}"))
    await world.feed(bot, phone.text("已停止代缴，逐户核实完毕"))
    await world.feed(bot, phone.press(f"l:lift:{cid}"))
    assert api.last(INSPECTOR)["text"] == "回访已登记。"
    async with db.session() as s:
        row = await s.get(LadderCase, cid)
        appeal = (await s.execute(select(LadderAppeal).where(LadderAppeal.case_id == cid))).scalar_one()
        channels = (
            await s.execute(
                select(AuditRecord.action, AuditRecord.channel).where(
                    AuditRecord.object_type == "ladder_case"
                )
            )
        ).all()
    assert (row.tier, row.state) == ("inquiry", "lifted")
    assert (appeal.outcome, appeal.answer) == ("rejected", "委托书日期晚于代缴时间")
    assert {
        c for a, c in channels if a in ("ladder.escalated", "ladder.visited", "ladder.appeal_answered")
    } == {"bot"}

    # the person is no inspector: their /cases shows no unit list and no inspector buttons
    person = Phone(MANAGER)
    await world.bind(bot, "manager", person)
    await world.feed(bot, person.text("/cases"))
    mine = api.last(MANAGER)
    assert "所辖单位" not in mine["text"] and not [
        b for b in api.buttons(mine) if b["callback_data"].startswith("l:esc")
    ]
