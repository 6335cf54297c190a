"""Nothing leaked: a person's name and the evidence never leave for a third-party service, on any
channel, whatever an event's payload holds; the detail setting adds only the topic code."""

from __future__ import annotations

import json

from sqlalchemy import update

from backend.org.models import Person
from tests.delivery.conftest import World, new_browser
from tests.delivery.fakes import FakeBotApi, FakePushService, HttpReceiver, SmtpReceiver

NAME = "MARKER-NAME-张三丰"
EVIDENCE = "MARKER-EVIDENCE-户号3300123"
CUSTOMER = "MARKER-CUSTOMER-李四"
WECOM = "wechat://ww0123456789:wecom-app-secret-XYZ@1000002/@{address}"


async def _rename(world: World, person_id: int) -> None:
    async with world.db.session() as s:
        await s.execute(update(Person).where(Person.id == person_id).values(name=NAME))
        await s.commit()


async def test_names_customers_and_evidence_never_leave(
    world: World, push: FakePushService, bot_api: FakeBotApi, patch_apprise: HttpReceiver
):
    smtp = SmtpReceiver().start()
    try:
        people = [await world.person(n) for n in ("E0005", "E0004", "E0003", "E0006", "E0008")]
        for p in people:
            await _rename(world, p)
        phone = new_browser(push, "phone")
        await world.subscribe(people[0], phone)
        world.with_telegram(bot_api)
        await world.address(people[1], "telegram", "5004")
        await world.policy("P00", "wecom", url=WECOM)
        await world.address(people[2], "wecom", "lisi")
        await world.policy("P00", "sms", url=f"json://127.0.0.1:{patch_apprise.port}/sms?:phone={{address}}")
        await world.address(people[3], "sms", "13900000006")
        await world.policy(
            "P00",
            "email",
            url=f"mailto://{smtp.user}:{smtp.password}@127.0.0.1:{smtp.port}?from=p@example.com&to={{address}}",
        )
        await world.address(people[4], "email", "someone@example.com")
        # a careless writer put everything into the event payload
        await world.event(
            {p: "subject" for p in people},
            level="high",
            data={"person_name": NAME, "evidence": {"note": EVIDENCE}, "customer": CUSTOMER, "title": NAME},
        )

        async with world.worker() as worker:
            report = await worker.step()
        assert report.sent == 5

        outgoing = [json.dumps(phone.decrypt(r.body), ensure_ascii=False) for r in push.received]
        outgoing += [json.dumps(m, ensure_ascii=False) for m in bot_api.sent]
        outgoing += [r.body.decode("utf-8", "replace") + r.path for r in patch_apprise.requests]
        outgoing += [m.decode("utf-8", "replace") for m in smtp.messages]
        assert len(outgoing) >= 5
        for text in outgoing:
            for marker in ("MARKER", "张三丰", "3300123", "李四"):
                assert marker not in text, text
        # what does leave: level, count, due date and link
        assert all("probity.test" in t for t in outgoing if "cgi-bin/gettoken" not in t)
    finally:
        smtp.stop()


async def test_the_detail_setting_is_off_by_default_and_adds_only_the_topic(
    world: World, bot_api: FakeBotApi
):
    manager = await world.person("E0005")
    world.with_telegram(bot_api)
    await world.address(manager, "telegram", "5005")
    await world.event({manager: "subject"}, data={"topic_code": "T01"})
    async with world.worker() as worker:
        await worker.step()
    assert "T01" not in bot_api.sent[0]["text"]

    await world.policy("C01", "telegram", detail=True)
    await world.event({manager: "subject"}, subject_id=2, data={"topic_code": "T01", "evidence": EVIDENCE})
    async with world.worker() as worker:
        await worker.step()
    assert "T01" in bot_api.sent[1]["text"]
    assert EVIDENCE not in bot_api.sent[1]["text"]
