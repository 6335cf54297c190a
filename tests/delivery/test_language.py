"""Each person's language on every channel: the same alert reaches one person in English and another
in zh-CN on Telegram, Web Push and the SMS gateway, from the one catalogue per language."""

from __future__ import annotations

import json

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.delivery.models import PreferenceUpdate
from backend.delivery.service import DeliveryService
from tests.delivery.conftest import ADMIN, TRAIL, World, new_browser
from tests.delivery.fakes import FakeBotApi, FakePushService, HttpReceiver


async def speaks(world: World, person_id: int, language: str | None) -> None:
    async with world.db.session() as s:
        await DeliveryService(s, TRAIL, world.settings).update_preferences(
            ADMIN, person_id, PreferenceUpdate.model_validate({"language": language})
        )


async def test_telegram_speaks_each_persons_language(world: World, bot_api: FakeBotApi) -> None:
    manager, head = await world.person("E0005"), await world.person("E0004")
    await world.address(manager, "telegram", "5005")
    await world.address(head, "telegram", "5004")
    world.with_telegram(bot_api)
    await speaks(world, manager, "en")
    await world.event({manager: "subject", head: "head"}, level="high", subject_id=7)

    async with world.worker() as worker:
        await worker.drain()
    by_chat = {int(m["chat_id"]): m for m in bot_api.sent}
    english, chinese = by_chat[5005], by_chat[5004]
    assert "new high-level (red) warning" in english["text"] and "高风险" not in english["text"]
    assert [b["text"] for b in english["reply_markup"]["inline_keyboard"][0]][:2] == ["Open", "Mark read"]
    assert "高风险（红色）预警" in chinese["text"]
    assert [b["text"] for b in chinese["reply_markup"]["inline_keyboard"][0]][:2] == ["打开", "标为已读"]

    # back to the deployment's language (zh-CN here) when the person clears it
    await speaks(world, manager, None)
    await world.event({manager: "subject"}, level="medium", subject_id=8)
    async with world.worker() as worker:
        await worker.drain()
    assert "中风险（橙色）预警" in bot_api.sent[-1]["text"]


async def test_web_push_and_sms_speak_each_persons_language(
    world: World, push: FakePushService, patch_apprise: HttpReceiver
) -> None:
    manager, head = await world.person("E0005"), await world.person("E0004")
    phone = new_browser(push, "phone")
    await world.subscribe(manager, phone)
    await world.policy("P00", "sms", url=f"json://127.0.0.1:{patch_apprise.port}/sms?:phone={{address}}")
    await world.address(head, "sms", "13900000004")
    await world.order(head, ["sms"])
    await speaks(world, manager, "en")
    await speaks(world, head, "en")
    await world.event({manager: "subject", head: "head"}, level="high", subject_id=7)

    async with world.worker() as worker:
        await worker.drain()
    [got] = push.received
    body = phone.decrypt(got.body)
    assert body["title"] == "Probity" and body["body"].startswith("1 new high-level (red) warning(s), due")
    [sms] = patch_apprise.bodies("/sms")
    assert "1 new high-level (red) warning(s)" in json.loads(sms)["message"]

    # the change is in the trail of acts
    async with world.db.session() as s:
        stmt = (
            select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "delivery.preferences")
        )
        records = (await s.execute(stmt)).scalars()
        assert any((r.new_value or {}).get("language") == "en" for r in records)


async def test_the_person_reads_and_sets_their_language_through_the_api(client, sessions) -> None:
    headers = await sessions.headers("manager")
    mine = (await client.get("/api/delivery/me", headers=headers)).json()
    assert mine["language"] is None and mine["language_in_use"] == "zh"
    r = await client.put("/api/delivery/me/preferences", json={"language": "en"}, headers=headers)
    assert r.status_code == 200 and r.json()["language"] == "en" and r.json()["language_in_use"] == "en"
    r = await client.put("/api/delivery/me/preferences", json={"language": "fr"}, headers=headers)
    assert r.status_code == 400
    r = await client.put("/api/delivery/me/preferences", json={"language": None}, headers=headers)
    assert r.json()["language"] is None and r.json()["language_in_use"] == "zh"


def test_one_catalogue_per_language_for_every_channel() -> None:
    """The messenger's words are entries of the same catalogue as the push and chat texts, and
    every entry exists in both languages (a missing English entry would show zh-CN or a key)."""
    from backend.delivery.payloads import TEXTS
    from backend.messenger import texts as card_texts

    assert set(TEXTS["zh"]) == set(TEXTS["en"])
    assert any(k.startswith("card.") for k in TEXTS["zh"])
    assert getattr(card_texts, "TEXTS", TEXTS) is TEXTS, "the messenger keeps no catalogue of its own"
    assert card_texts.t("en", "btn_confirm") == TEXTS["en"]["card.btn_confirm"] == "Confirm"
    assert card_texts.refusal("zh", "no_such_code") == TEXTS["zh"]["card.refused_other"]
