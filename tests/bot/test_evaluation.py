"""The "1+3" evaluation in the chat: /tag lists the people a head may file tags about (surname only),
a tag that needs evidence asks for it, a photo goes with the facts (as its caption, or before
them), the filing is stored once however often the last message is replayed, a head's press for a
tag only inspectors file is refused, and /mytags shows the person the tags about them but not the
confidential one."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from backend.evaluation.models import EvalTag, EvalTagPhoto
from tests.bot.conftest import JPEG, BotWorld
from tests.bot.fakebot import Phone
from tests.evaluation.conftest import Setup, make_setup

HEAD, MANAGER = 5004, 5005


@pytest.fixture
async def setup(world: BotWorld, db, settings) -> Setup:
    return await make_setup(world.sessions.client, world.sessions, db, settings)


async def test_a_head_files_a_tag_from_the_chat_and_the_person_reads_it(world: BotWorld, db, setup: Setup):
    api, c, m = world.api, setup.category_id, setup.manager
    bot = await world.bot()
    head = Phone(HEAD)
    await world.bind(bot, "head", head)

    await world.feed(bot, head.text("/tag"))
    listing = api.last(HEAD)
    assert listing["text"] == "要为谁填报标签？"
    people = {b["callback_data"]: b["text"] for b in api.buttons(listing)}
    assert f"e:p:{c}:{m}" in people and f"e:p:{c}:{setup.manager2}" not in people
    assert people[f"e:p:{c}:{m}"].startswith("业扩报装：") and "*" in people[f"e:p:{c}:{m}"]

    await world.feed(bot, head.press(f"e:p:{c}:{m}"))
    tags = {b["callback_data"] for b in api.buttons(api.last(HEAD))}
    assert f"e:t:{c}:{m}:process_breach" in tags and f"e:t:{c}:{m}:complaint" not in tags

    await world.feed(bot, head.press(f"e:t:{c}:{m}:process_breach"))
    assert "此标签需要说明依据" in api.last(HEAD)["text"]
    evidence = head.text("未经现场勘查即出具供电方案，有工单为证")
    await world.feed(bot, evidence)
    assert api.last(HEAD)["text"].startswith("标签已提交")
    await world.feed(bot, evidence)  # the last message again: nothing more is stored

    await world.feed(bot, head.press(f"e:t:{c}:{m}:complaint"))  # inspectors only
    refused = " ".join([api.last(HEAD)["text"], *api.answers()])
    assert "您不能为此人填报这个标签" in refused, refused
    async with db.session() as s:
        rows = (await s.execute(select(EvalTag))).scalars().all()
    assert [(r.tag_code, r.note, r.channel) for r in rows] == [
        ("process_breach", "未经现场勘查即出具供电方案，有工单为证", "bot")
    ]

    inspector = await world.sessions.headers("inspector")
    body = {"client_id": "bot-test-complaint-1", "category_id": c, "person_id": m, "tag_code": "complaint",
            "occurred_on": "2026-09-10", "note": "客户反映属实"}  # fmt: skip
    r = await world.sessions.client.post("/api/evaluation/tags", json=body, headers=inspector)
    assert r.status_code == 201, r.text
    manager = Phone(MANAGER)
    await world.bind(bot, "manager", manager)
    await world.feed(bot, manager.text("/mytags"))
    text = api.last(MANAGER)["text"]
    assert "【廉洁问题】违规办理业扩流程 -6" in text and "廉洁投诉查实" not in text
    assert "有工单为证" not in text  # notes stay in the app


async def test_a_photo_goes_with_the_tag_as_its_caption_or_before_the_facts(
    world: BotWorld, db, setup: Setup
):
    api, c, m = world.api, setup.category_id, setup.manager
    bot = await world.bot()
    head = Phone(HEAD)
    await world.bind(bot, "head", head)
    second = JPEG + b"\x01"  # another picture
    api.files["site1"], api.files["site2"] = JPEG, second

    # a photo without a caption is kept, and the facts that follow file the tag with it
    await world.feed(bot, head.press(f"e:t:{c}:{m}:process_breach"))
    assert "可附一张照片" in api.last(HEAD)["text"]
    await world.feed(bot, head.photo("site1", len(JPEG)))
    assert api.last(HEAD)["text"].startswith("照片已收到")
    await world.feed(bot, head.text("现场未勘查，照片为工单截图"))
    assert api.last(HEAD)["text"].startswith("标签已提交")

    # a photo with a caption is filed at once, the caption as the facts
    await world.feed(bot, head.press(f"e:t:{c}:{m}:late_report"))
    await world.feed(bot, head.photo("site2", len(second), caption="十月报表迟报三天"))
    assert api.last(HEAD)["text"].startswith("标签已提交")

    async with db.session() as s:
        tags = {r.tag_code: r for r in (await s.execute(select(EvalTag))).scalars()}
        photos = {p.tag_id: p for p in (await s.execute(select(EvalTagPhoto))).scalars()}
    assert tags["process_breach"].note == "现场未勘查，照片为工单截图"
    assert tags["late_report"].note == "十月报表迟报三天"
    assert photos[tags["process_breach"].id].sha256 == hashlib.sha256(JPEG).hexdigest()
    assert photos[tags["late_report"].id].sha256 == hashlib.sha256(second).hexdigest()

    # whoever may see the tag gets the photo from the app, byte for byte
    inspector = await world.sessions.headers("inspector")
    r = await world.sessions.client.get(
        f"/api/evaluation/tags/{tags['late_report'].id}/photo", headers=inspector
    )
    assert r.status_code == 200 and r.content == second
