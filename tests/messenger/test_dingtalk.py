"""DingTalk both ways against a local fake: alerts as work notices with action cards through the
outbox; 已读 / 确认 pressed through DingTalk's sign-in (免登) for the one person the card went to,
through the same services as the PWA and bot (trail channel ``dingtalk``); sign-in to the PWA."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.messenger.controller import COOKIE
from backend.org.models import Person
from tests.messenger.conftest import WeComWorld, state_of, submitted


def link(card: dict[str, Any], title: str) -> str:
    found = [b["action_url"] for b in card["btn_json_list"] if b["title"] == title]
    assert found, f"no {title} in {[b['title'] for b in card['btn_json_list']]}"
    return found[0]


async def decide_card(world: WeComWorld) -> tuple[int, dict[str, Any]]:
    wid = await submitted(world)
    cards = [c for c in world.cards_to("lisi") if any(b["title"] == "确认" for b in c["btn_json_list"])]
    assert len(cards) == 1
    return wid, cards[0]


async def test_a_red_warning_arrives_as_an_action_card_to_the_right_user_id(dworld: WeComWorld) -> None:
    app_id = await dworld.set_up()
    wid = await dworld.seed.warning("E0005", level="high")
    await dworld.drain()
    cards = dworld.cards_to("zhangsan")
    assert len(cards) == 1
    card = cards[0]
    assert "高风险（红色）" in card["markdown"] and "处理期限：" in card["markdown"]
    assert [b["title"] for b in card["btn_json_list"]] == ["查看", "已读", "核查反馈"]
    assert link(card, "查看") == f"https://probity.test/messenger/dingtalk/{app_id}/sso?to=/warnings/{wid}"
    assert link(card, "已读").startswith(f"https://probity.test/messenger/dingtalk/{app_id}/sso?to=/press/r-")
    sent = next(m for m in dworld.fake.sent if m["userid_list"] == "zhangsan")
    assert sent["agent_id"] == 2000001
    assert dworld.cards_to("lisi") and dworld.cards_to("zhaoliu") and not dworld.cards_to("wangwu")
    async with dworld.db.session() as s:
        names = [p.name for p in (await s.execute(select(Person))).scalars()]
    payload = json.dumps(dworld.fake.sent, ensure_ascii=False)
    assert not [n for n in names if n in payload] and "CUST-" not in payload and "120.5" not in payload


async def test_a_heads_confirm_confirms_the_reply_through_channel_dingtalk(dworld: WeComWorld) -> None:
    await dworld.set_up()
    wid, card = await decide_card(dworld)
    assert [b["title"] for b in card["btn_json_list"]] == ["查看", "已读", "确认", "退回"]

    page = await dworld.open_link(link(card, "确认"), user="lisi")
    assert page.status_code == 200
    assert "已确认" in page.text and "由您于" in page.text
    assert await state_of(dworld, wid) == "confirmed"
    async with dworld.db.session() as s:
        record = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(col(AuditRecord.action) == "verification.confirm")
            )
        ).scalar_one()
    assert record.channel == "dingtalk" and record.actor_person_id == await dworld.person_id("E0004")

    again = await dworld.open_link(link(card, "确认"), user="lisi")
    assert again.status_code == 403 and "预警当前的状态不允许这个操作。" in again.text


async def test_a_press_by_the_wrong_person_is_refused(dworld: WeComWorld) -> None:
    await dworld.set_up()
    wid, card = await decide_card(dworld)
    page = await dworld.open_link(link(card, "确认"), user="wangwu")
    assert page.status_code == 403 and "这个按钮属于发给其他人的消息" in page.text
    forged = link(card, "确认")[:-4] + "0000"
    page = await dworld.open_link(forged, user="lisi")
    assert page.status_code == 403
    assert await state_of(dworld, wid) == "submitted"


async def test_read_marks_the_notification_read(dworld: WeComWorld) -> None:
    await dworld.set_up()
    await dworld.seed.warning("E0005", level="high")
    await dworld.drain()
    page = await dworld.open_link(link(dworld.cards_to("zhangsan")[0], "已读"), user="zhangsan")
    assert page.status_code == 200 and "已读" in page.text
    listed = (
        await dworld.client.get("/api/notifications", headers=await dworld.sessions.headers("manager"))
    ).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert items and all(i.get("read_at") for i in items)


async def test_sign_in_opens_a_session_and_an_unknown_user_gets_a_clear_page(dworld: WeComWorld) -> None:
    await dworld.set_up()
    wid = await dworld.seed.warning("E0005", level="high")
    await dworld.drain()
    view = link(dworld.cards_to("zhangsan")[0], "查看")
    r = await dworld.open_link(view, user="zhangsan")
    assert r.status_code == 302 and r.headers["location"].startswith("/#/sso/")
    cookie = dworld.client.cookies.get(COOKIE)
    got = await dworld.client.post(
        "/messenger/sso/exchange",
        json={"code": r.headers["location"].rsplit("/", 1)[1]},
        headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {},
    )
    assert got.status_code == 200, got.text
    assert got.json()["target"] == f"/warnings/{wid}"
    me = await dworld.client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {got.json()['access_token']}"}
    )
    assert me.json()["username"] == "manager"

    dworld.fake.members.add("stranger")
    page = await dworld.open_link(view, user="stranger")
    assert page.status_code == 403 and "您的账号（stranger）还没有关联到本系统的人员" in page.text
    page = await dworld.open_link(view, user="outsider")
    assert page.status_code == 403 and "只有本单位通讯录中的成员可以登录" in page.text


async def test_an_expired_token_is_fetched_again_once(dworld: WeComWorld) -> None:
    await dworld.set_up()
    await dworld.seed.warning("E0005", level="low")
    await dworld.drain()
    assert dworld.fake.tokens_issued == 1
    dworld.fake.expire_tokens()
    await dworld.seed.warning("E0005", level="low")
    await dworld.drain()
    assert dworld.fake.tokens_issued == 2
    assert len(dworld.cards_to("zhangsan")) == 2


async def test_matching_by_mobile(dworld: WeComWorld) -> None:
    app_id = await dworld.set_up(bind={})
    async with dworld.db.session() as s:
        phone = (await s.execute(select(Person.phone).where(col(Person.employee_no) == "E0005"))).scalar_one()
    dworld.fake.mobiles = {str(phone): "zhangsan"}
    r = await dworld.client.post(
        f"/api/messenger/apps/{app_id}/match-by-mobile", headers=await dworld.sessions.headers("admin")
    )
    assert r.status_code == 200 and r.json()["matched"] == 1 and r.json()["provider"] == "dingtalk"
