"""WeCom and DingTalk speak each person's language: the cards, the card updated after a press and
the pages a press opens, in English for the person who chose it and zh-CN for the others."""

from __future__ import annotations

from typing import Any

from tests.messenger.conftest import WeComWorld, submitted


async def choose(world: WeComWorld, username: str, language: str) -> None:
    r = await world.client.put(
        "/api/delivery/me/preferences",
        json={"language": language},
        headers=await world.sessions.headers(username),
    )
    assert r.status_code == 200, r.text


def texts(card: dict[str, Any]) -> list[str]:
    return [b["text"] for b in card["button_list"]]


async def test_wecom_cards_and_press_outcomes_in_each_persons_language(world: WeComWorld) -> None:
    await world.set_up()
    await choose(world, "head", "en")
    wid = await submitted(world)

    # the head chose English: the card asking them to decide is in English
    [card] = [c for c in world.cards_to("lisi") if "Confirm" in texts(c)]
    assert texts(card) == ["View", "Read", "Confirm", "Return"]
    facts = {f["keyname"]: f["value"] for f in card["horizontal_content_list"]}
    assert facts["Level"] == "high-level (red)"
    # the manager did not: their card is in zh-CN
    assert texts(world.cards_to("zhangsan")[0]) == ["查看", "已读", "核查反馈"]

    key = next(b["key"] for b in card["button_list"] if b["text"] == "Confirm")
    await world.press("lisi", key)
    update = world.fake.updates[-1]["template_card"]
    assert update["replace_text"] == "Confirmed" and update["main_title"]["desc"].startswith("by you on")
    # a refusal is told in the presser's language (the manager cannot confirm their own reply)
    await world.press("zhangsan", key)
    assert world.fake.updates[-1]["template_card"]["main_title"]["desc"] == "不能确认自己提交的反馈。"
    assert wid


async def test_dingtalk_action_cards_in_each_persons_language(dworld: WeComWorld) -> None:
    await dworld.set_up()
    await choose(dworld, "manager", "en")
    await dworld.seed.warning("E0005", level="high")
    await dworld.drain()
    english = str(dworld.cards_to("zhangsan")[0])
    assert "high-level (red)" in english and "高风险" not in english
    assert "高风险" in str(dworld.cards_to("lisi")[0])
