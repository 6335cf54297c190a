"""DingTalk's interactive cards with Stream mode, against a local fake: an alert arrives as a card
from the app's robot to the right user id; a press comes back on the connection the worker opened
(no public URL) and goes through the same services as the PWA and bot (trail channel
``dingtalk``); the presser's card then says what was done; a press by someone who may not do it is
refused on their card only; a frame sent again is not pressed twice; a ping is answered; a
disconnect is followed by a new connection; an expired token is fetched again once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.messenger.stream import Streams
from backend.org.models import Person
from tests.messenger.conftest import TRAIL, WeComWorld, state_of, submitted

TEMPLATE = "tpl-probity-alert.schema"


async def until(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    for _ in range(int(seconds / 0.02)):
        found = check()
        if found:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("not in time")


@pytest.fixture
async def streams(dworld: WeComWorld) -> AsyncIterator[Streams]:
    await dworld.set_up(card_template_id=TEMPLATE)
    running = await Streams(dworld.db, dworld.settings, TRAIL).start()
    await until(lambda: dworld.fake.sockets)
    yield running
    await running.stop()


def cards_of(world: WeComWorld, user: str) -> list[tuple[str, dict[str, Any]]]:
    return [(track, c) for track, c in world.fake.interactive.items() if c["user"] == user]


async def confirm_card(world: WeComWorld) -> tuple[int, str, dict[str, Any]]:
    wid = await submitted(world)
    found = [(t, c) for t, c in cards_of(world, "lisi") if c["params"]["confirm_key"]]
    assert len(found) == 1
    return wid, found[0][0], found[0][1]


async def confirms(world: WeComWorld) -> list[AuditRecord]:
    async with world.db.session() as s:
        stmt = (
            select(AuditRecord)
            .order_by(AuditRecord.id)
            .where(col(AuditRecord.action) == "verification.confirm")
        )
        return list((await s.execute(stmt)).scalars())


async def test_a_red_warning_arrives_as_an_interactive_card_to_the_right_user_id(
    dworld: WeComWorld, streams: Streams
) -> None:
    wid = await dworld.seed.warning("E0005", level="high")
    await dworld.drain()
    [(_, card)] = cards_of(dworld, "zhangsan")
    params = card["params"]
    assert card["template"] == TEMPLATE
    assert "高风险（红色）" in params["markdown"] and "处理期限：" in params["markdown"]
    assert (params["view_label"], params["read_label"], params["reply_label"]) == ("查看", "已读", "核查反馈")
    assert params["view_url"].endswith(f"/sso?to=/warnings/{wid}")
    assert params["read_key"].startswith("n:read:") and params["confirm_key"] == ""
    assert all(isinstance(v, str) for v in params.values())  # DingTalk's card data is strings
    assert not [m for m in dworld.fake.sent if m["userid_list"] == "zhangsan"]  # no work notice too
    async with dworld.db.session() as s:
        names = [p.name for p in (await s.execute(select(Person))).scalars()]
    payload = json.dumps([c["params"] for c in dworld.fake.interactive.values()], ensure_ascii=False)
    assert not [n for n in names if n in payload] and "CUST-" not in payload and "120.5" not in payload


async def test_a_heads_confirm_press_comes_back_through_the_stream(
    dworld: WeComWorld, streams: Streams
) -> None:
    wid, track, card = await confirm_card(dworld)
    assert card["params"]["confirm_label"] == "确认" and card["params"]["return_url"]
    frame = dworld.fake.press_frame("lisi", track, card["params"]["confirm_key"], message_id="m-1")
    dworld.fake.send_frame(frame)
    ack = await until(lambda: dworld.fake.acks.get("m-1"))
    assert ack["code"] == 200 and ack["message"] == "OK"
    assert await state_of(dworld, wid) == "confirmed"
    [record] = await confirms(dworld)
    assert record.channel == "dingtalk" and record.actor_person_id == await dworld.person_id("E0004")
    view = await until(lambda: card.get("private", {}).get("lisi"))
    assert view["done"] == "true" and view["status"].startswith("已确认") and "由您于" in view["status"]
    assert card["params"]["done"] == "false"  # nobody else's view changed

    # DingTalk sends the same frame again (our acknowledgement lost): acknowledged, not pressed again
    del dworld.fake.acks["m-1"]
    dworld.fake.send_frame(frame)
    await until(lambda: dworld.fake.acks.get("m-1"))
    assert len(await confirms(dworld)) == 1
    assert card["private"]["lisi"]["status"].startswith("已确认")


async def test_a_press_by_someone_who_may_not_is_refused_on_their_card_only(
    dworld: WeComWorld, streams: Streams
) -> None:
    wid, track, card = await confirm_card(dworld)
    key = card["params"]["confirm_key"]
    dworld.fake.send_frame(dworld.fake.press_frame("wangwu", track, key, message_id="m-2"))
    await until(lambda: dworld.fake.acks.get("m-2"))
    view = await until(lambda: card.get("private", {}).get("wangwu"))
    assert view["status"] == "未办理 · 找不到这条预警，或它不在您的范围内。"
    assert await state_of(dworld, wid) == "submitted" and "lisi" not in card.get("private", {})

    # a frame naming another corp is acknowledged and does nothing
    dworld.fake.send_frame(dworld.fake.press_frame("lisi", track, key, message_id="m-3", corp="dingother"))
    await until(lambda: dworld.fake.acks.get("m-3"))
    await asyncio.sleep(0.2)
    assert await state_of(dworld, wid) == "submitted" and not await confirms(dworld)


async def test_pings_are_answered_and_a_disconnect_opens_a_new_connection(
    dworld: WeComWorld, streams: Streams
) -> None:
    dworld.fake.ping("ping-1")
    await until(lambda: dworld.fake.pings_answered == 1)
    [(_, link)] = streams.links.values()
    assert link.connections == 1
    dworld.fake.send_frame(
        {"type": "SYSTEM", "headers": {"topic": "disconnect", "messageId": "d-1"}, "data": ""}
    )
    await until(lambda: link.connections == 2, seconds=15)
    opened = dworld.fake.of("/v1.0/gateway/connections/open")
    assert len(opened) == 2
    assert opened[0].body["subscriptions"] == [{"type": "CALLBACK", "topic": "/v1.0/card/instances/callback"}]


async def test_an_expired_token_is_fetched_again_once(dworld: WeComWorld, streams: Streams) -> None:
    await dworld.seed.warning("E0005", level="high")
    dworld.fake.expire_tokens()
    before = dworld.fake.tokens_issued
    await dworld.drain()
    assert len(cards_of(dworld, "zhangsan")) == 1
    assert dworld.fake.tokens_issued == before + 1
