"""WeCom both ways against a local fake: alerts arrive as template cards through the outbox, presses
come back as encrypted, signed callbacks and go through the same services as the PWA and bot."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.delivery.models import Delivery, DeliveryAttempt
from backend.messenger.crypto import WeComCrypto
from backend.org.models import Person
from backend.warnings.models import Warning
from tests.messenger.conftest import WeComWorld, state_of, submitted
from tests.messenger.fake_wecom import AES_KEY, TOKEN


def button(card: dict[str, Any], text: str) -> dict[str, Any]:
    found = [b for b in card["button_list"] if b["text"] == text]
    assert found, f"no {text} button in {[b['text'] for b in card['button_list']]}"
    return found[0]


def confirm_card(world: WeComWorld, user_id: str = "lisi") -> dict[str, Any]:
    """The card that asks a head to decide on a reply (its raised card may arrive after it)."""
    cards = [c for c in world.cards_to(user_id) if any(b["text"] == "确认" for b in c["button_list"])]
    assert len(cards) == 1
    return cards[0]


async def test_a_red_warning_arrives_as_a_card_to_the_right_user_id(world: WeComWorld) -> None:
    app_id = await world.set_up()
    wid = await world.seed.warning("E0005", level="high")
    await world.drain()

    cards = world.cards_to("zhangsan")
    assert len(cards) == 1
    card = cards[0]
    assert card["card_type"] == "button_interaction"
    facts = {f["keyname"]: f["value"] for f in card["horizontal_content_list"]}
    assert facts["等级"] == "高风险（红色）"
    assert facts["处理期限"].endswith("日前")
    assert "高风险（红色）预警" in card["main_title"]["title"]
    assert [b["text"] for b in card["button_list"]] == ["查看", "已读", "核查反馈"]
    view = button(card, "查看")
    assert view["type"] == 1
    assert view["url"] == f"https://probity.test/messenger/wecom/{app_id}/sso?to=/warnings/{wid}"
    assert button(card, "核查反馈")["url"].endswith(f"?to=/warnings/{wid}/reply")
    assert button(card, "已读")["key"].startswith("n:read:")

    sent = next(m for m in world.fake.sent if m["touser"] == "zhangsan")
    assert sent["agentid"] == 1000002 and sent["msgtype"] == "template_card"
    assert sent["enable_duplicate_check"] == 1 and sent["duplicate_check_interval"] > 0
    # the tiers: the head and the unit's inspector get a card too, without the reply button
    head_card = world.cards_to("lisi")[0]
    assert [b["text"] for b in head_card["button_list"]] == ["查看", "已读"]
    assert world.cards_to("zhaoliu"), "the discipline inspector is told of a red warning"
    assert not world.cards_to("wangwu"), "nobody outside the scope is told"

    # the minimal payload: no name, customer or evidence leaves for WeCom
    async with world.db.session() as s:
        names = [p.name for p in (await s.execute(select(Person))).scalars()]
        warning = await s.get(Warning, wid)
        assert warning is not None
    payload = json.dumps(world.fake.sent, ensure_ascii=False)
    assert not [n for n in names if n in payload]
    assert warning.object_key not in payload and "120.5" not in payload and "T01" not in payload

    # recorded as delivered on wecom, and a second pass sends nothing again
    async with world.db.session() as s:
        rows = (await s.execute(select(Delivery).where(col(Delivery.channel) == "wecom"))).scalars().all()
        assert rows and all(d.state == "sent" for d in rows)
    count = len(world.fake.sent)
    await world.drain()
    assert len(world.fake.sent) == count


async def test_the_topic_shows_only_where_the_unit_allows_it(world: WeComWorld) -> None:
    await world.set_up(show_topic=True)
    await world.seed.warning("E0005", level="medium", topic_code="T07")
    await world.drain()
    card = world.cards_to("zhangsan")[0]
    assert "T07" in json.dumps(card, ensure_ascii=False)
    assert {f["value"] for f in card["horizontal_content_list"]} >= {"中风险（橙色）"}


async def test_a_heads_confirm_press_confirms_the_reply_through_channel_wecom(world: WeComWorld) -> None:
    await world.set_up()
    wid = await submitted(world)
    card = confirm_card(world)
    assert [b["text"] for b in card["button_list"]] == ["查看", "已读", "确认", "退回"]
    assert button(card, "退回")["url"].endswith(f"?to=/warnings/{wid}"), "退回 opens the PWA for the reason"

    r = await world.press("lisi", button(card, "确认")["key"])
    assert r.status_code == 200
    assert await state_of(world, wid) == "confirmed"
    async with world.db.session() as s:
        record = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(col(AuditRecord.action) == "verification.confirm")
            )
        ).scalar_one()
    assert record.channel == "wecom"
    assert record.actor_person_id == await world.person_id("E0004")
    update = world.fake.updates[-1]
    assert update["userids"] == ["lisi"] and update["response_code"] == "rc-press"
    assert update["template_card"]["replace_text"] == "已确认"
    assert "由您于" in update["template_card"]["main_title"]["desc"]


async def test_a_press_by_someone_who_may_not_is_refused_on_the_card(world: WeComWorld) -> None:
    await world.set_up()
    wid = await submitted(world)
    key = button(confirm_card(world), "确认")["key"]

    # a manager of another station: the warning is outside their scope
    r = await world.press("wangwu", key)
    assert r.status_code == 200
    assert await state_of(world, wid) == "submitted"
    refusal = world.fake.updates[-1]
    assert refusal["userids"] == ["wangwu"]
    assert refusal["template_card"]["replace_text"] == "未办理"
    assert refusal["template_card"]["main_title"]["desc"] == "找不到这条预警，或它不在您的范围内。"

    # the person who replied cannot confirm their own reply
    await world.press("zhangsan", key)
    assert await state_of(world, wid) == "submitted"
    assert world.fake.updates[-1]["template_card"]["main_title"]["desc"] == "不能确认自己提交的反馈。"

    # a WeCom user bound to nobody here
    await world.press("stranger", key)
    assert await state_of(world, wid) == "submitted"
    assert "还没有关联" in world.fake.updates[-1]["template_card"]["main_title"]["desc"]


async def test_read_press_marks_the_notification_read(world: WeComWorld) -> None:
    await world.set_up()
    await world.seed.warning("E0005", level="high")
    await world.drain()
    key = button(world.cards_to("zhangsan")[0], "已读")["key"]
    r = await world.press("zhangsan", key)
    assert r.status_code == 200
    assert world.fake.updates[-1]["template_card"]["replace_text"] == "已读"
    h = await world.sessions.headers("manager")
    listed = (await world.client.get("/api/notifications", headers=h)).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert all(i.get("read_at") for i in items if i["id"] == int(key.rsplit(":", 1)[1]))
    # someone else's notification: refused
    await world.press("lisi", key)
    assert (
        world.fake.updates[-1]["template_card"]["main_title"]["desc"] == "找不到这条消息，或它不是发给您的。"
    )


@pytest.mark.parametrize("attack", ["forged", "stale", "future", "replayed", "other_corp"])
async def test_forged_stale_and_replayed_callbacks_are_refused(world: WeComWorld, attack: str) -> None:
    await world.set_up()
    wid = await submitted(world)
    key = button(confirm_card(world), "确认")["key"]
    updates = len(world.fake.updates)
    options: dict[str, Any] = {}
    if attack == "forged":
        options["signature"] = "0" * 40
    elif attack == "stale":
        options["timestamp"] = int(time.time()) - 3600
    elif attack == "future":
        options["timestamp"] = int(time.time()) + 3600
    elif attack == "other_corp":
        options["crypto"] = WeComCrypto(TOKEN, AES_KEY, "wwsomeothercorp99")
    elif attack == "replayed":
        options["nonce"] = "nonce-once-only"
        first = await world.press("wangwu", key, **options)  # refused by the services, but received
        assert first.status_code == 200
        updates = len(world.fake.updates)
    r = await world.press("lisi", key, **options)
    assert r.status_code == 403
    assert await state_of(world, wid) == "submitted"
    assert len(world.fake.updates) == updates, "a refused callback changes no card"


async def test_url_verification_echoes_the_decrypted_echostr(world: WeComWorld) -> None:
    app_id = await world.set_up()
    query = world.fake.verification("8362179235419011")
    r = await world.client.get(f"/messenger/wecom/{app_id}/callback", params=query)
    assert r.status_code == 200 and r.text == "8362179235419011"
    again = await world.client.get(f"/messenger/wecom/{app_id}/callback", params=query)
    assert again.status_code == 403, "the same nonce twice"
    forged = {**world.fake.verification("1"), "msg_signature": "f" * 40}
    assert (await world.client.get(f"/messenger/wecom/{app_id}/callback", params=forged)).status_code == 403


async def test_an_expired_token_is_fetched_again_once(
    world: WeComWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await world.set_up()
    await world.seed.warning("E0005", level="high")
    await world.drain()
    assert world.fake.tokens_issued == 1
    first = len(world.cards_to("zhangsan"))
    calls_before = len(world.fake.of("/cgi-bin/message/send"))
    sent_before = len(world.fake.sent)
    old_tokens = set(world.fake.valid)

    world.fake.expire_tokens()
    await world.seed.warning("E0005", level="high")
    await world.drain()
    assert world.fake.tokens_issued == 2, "one new token after WeCom said 42001"
    assert len(world.cards_to("zhangsan")) == first + 1
    after = world.fake.of("/cgi-bin/message/send")[calls_before:]
    refused = [c for c in after if c.query["access_token"] in old_tokens]
    # every send refused for the old token was tried once more (those begun after the new token
    # was fetched went through at once)
    assert refused and len(after) == (len(world.fake.sent) - sent_before) + len(refused)

    # a token WeCom keeps refusing is fetched again once, not in a loop; the delivery records why
    world.fake.always_expired = True
    await world.seed.warning("E0005", level="low")
    before = world.fake.tokens_issued
    async with world.worker() as worker:
        await worker.step()
    assert world.fake.tokens_issued == before + 1, "refreshed once, then the send fails"
    async with world.db.session() as s:
        errors = [a.error or "" for a in (await s.execute(select(DeliveryAttempt))).scalars()]
    assert any("42001" in e for e in errors)
    for token in world.fake.valid | world.fake.expired:
        assert token not in caplog.text
        assert all(token not in e for e in errors)


async def test_xml_with_entities_or_garbage_is_refused(world: WeComWorld) -> None:
    app_id = await world.set_up()
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<xml><Encrypt>&b;</Encrypt></xml>"
    )
    for body in (bomb, b"not xml at all"):
        query, _ = world.fake.callback("<xml/>")
        r = await world.client.post(
            f"/messenger/wecom/{app_id}/callback",
            params=query,
            content=body,
            headers={"Content-Type": "text/xml"},
        )
        assert r.status_code == 403 and r.text == "bad_message"
