"""Telegram through PTB's Bot against a local Bot API; WeCom, DingTalk, Feishu, the SMS gateway and
e-mail through Apprise against local HTTP and SMTP receivers; per-target failures and fallbacks."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.delivery.models import Delivery, DeliveryAttempt, DeliveryRoute, PersonChannel
from backend.delivery.service import DeliveryService
from backend.kernel.errors import Invalid
from backend.kernel.timeutil import utcnow
from tests.delivery.conftest import TRAIL, World, new_browser
from tests.delivery.fakes import FakeBotApi, FakePushService, HttpReceiver, SmtpReceiver

WECOM = "wechat://ww0123456789:wecom-app-secret-XYZ@1000002/@{address}"
DINGTALK = "dingtalk://SECdingsignsecret0ABC@dingrobottoken0123456789/{address}"
FEISHU = "feishu://{address}"


async def rows(world: World, model):
    async with world.db.session() as s:
        return list((await s.execute(select(model).order_by(model.id))).scalars())


# --- Telegram ------------------------------------------------------------------------------


async def telegram_then_push(world: World, push: FakePushService) -> int:
    """The manager with a bound chat and a phone, Telegram first."""
    manager = await world.person("E0005")
    await world.address(manager, "telegram", "5005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.order(manager, ["telegram", "webpush"])
    return manager


async def test_telegram_sends_a_short_text_with_inline_buttons(world: World, bot_api: FakeBotApi):
    manager = await world.person("E0005")
    await world.address(manager, "telegram", "5005")
    world.with_telegram(bot_api)
    event_id = await world.event({manager: "subject"}, level="medium", subject_id=7)

    async with world.worker() as worker:
        report = await worker.step()
    assert report.sent == 1
    [msg] = bot_api.sent
    assert int(msg["chat_id"]) == 5005
    assert "中风险" in msg["text"] and "https://probity.test/#/warnings/7" in msg["text"]
    [row] = msg["reply_markup"]["inline_keyboard"]
    assert row[0]["url"] == "https://probity.test/#/warnings/7"
    recipient = (await rows(world, DeliveryRoute))[0].recipient_id
    assert row[1]["callback_data"] == f"n:read:{recipient}"
    assert all(len(b.get("callback_data", "").encode()) <= 64 for b in row)
    assert event_id


async def test_a_blocked_bot_falls_back_and_the_chat_is_marked_refused(
    world: World, bot_api: FakeBotApi, push: FakePushService
):
    manager = await telegram_then_push(world, push)
    world.with_telegram(bot_api)
    bot_api.blocked.add(5005)
    await world.event({manager: "subject"})

    async with world.worker() as worker:
        await worker.drain()
    assert len(push.received) == 1
    deliveries = await rows(world, Delivery)
    assert [(d.channel, d.state) for d in deliveries] == [("telegram", "failed"), ("webpush", "sent")]
    assert "blocked" in (deliveries[0].last_error or "")
    [chat] = await rows(world, PersonChannel)
    assert chat.refused_at is not None

    # the next alert does not try Telegram at all
    await world.event({manager: "subject"}, subject_id=2)
    async with world.worker() as worker:
        await worker.drain()
    assert [d.channel for d in await rows(world, Delivery)][2:] == ["webpush"]


async def test_an_unbound_person_is_not_routed_to_telegram(
    world: World, bot_api: FakeBotApi, push: FakePushService
):
    manager = await world.person("E0005")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.order(manager, ["telegram", "webpush"])
    world.with_telegram(bot_api)
    await world.event({manager: "subject"})
    async with world.worker() as worker:
        await worker.drain()
    assert bot_api.sent == [] and len(push.received) == 1


async def test_telegram_switched_off_for_the_deployment_is_neither_offered_nor_routed(
    world: World, bot_api: FakeBotApi, push: FakePushService
):
    manager = await telegram_then_push(world, push)

    async def offered() -> bool:
        async with world.db.session() as s:
            return (await DeliveryService(s, TRAIL, world.settings).mine(manager)).telegram_enabled

    assert not await offered()  # no bot token: no Telegram
    world.with_telegram(bot_api)
    assert await offered()
    world.settings = world.settings.model_copy(update={"telegram_bot_enabled": False})
    assert not await offered()  # a token, but the deployment switched the bot off
    await world.event({manager: "subject"})
    async with world.worker() as worker:
        await worker.drain()
    assert bot_api.sent == [] and len(push.received) == 1
    assert [d.channel for d in await rows(world, Delivery)] == ["webpush"]


async def test_telegram_flood_control_waits_as_told(world: World, bot_api: FakeBotApi):
    manager = await world.person("E0005")
    await world.address(manager, "telegram", "5005")
    world.with_telegram(bot_api)
    bot_api.flood.append(1)
    await world.event({manager: "subject"})
    now = utcnow()
    async with world.worker() as worker:
        assert (await worker.step(now=now)).retried == 1
        [d] = await rows(world, Delivery)
        assert d.next_attempt_at >= now + timedelta(seconds=7)
        assert (await worker.step(now=now + timedelta(seconds=8))).sent == 1


def test_the_telegram_address_is_bound_by_the_bot_not_the_api():
    from backend.delivery.channels import check_address
    from backend.delivery.models import DeliveryChannel

    assert check_address(DeliveryChannel.telegram, "-100123") == "-100123"
    with pytest.raises(Invalid):
        check_address(DeliveryChannel.telegram, "@someone")


# --- Apprise ---------------------------------------------------------------------------------


async def test_wecom_dingtalk_feishu_and_sms_reach_their_services(world: World, patch_apprise: HttpReceiver):
    receiver = patch_apprise
    people = {n: await world.person(n) for n in ("E0005", "E0004", "E0003", "E0006")}
    await world.policy("P00", "wecom", url=WECOM)
    await world.policy("P00", "dingtalk", url=DINGTALK)
    await world.policy("P00", "feishu", url=FEISHU)
    await world.policy("P00", "sms", url=f"json://127.0.0.1:{receiver.port}/sms?:phone={{address}}")
    await world.address(people["E0005"], "wecom", "zhangsan")
    await world.address(people["E0004"], "dingtalk", "13900000004")
    await world.address(people["E0003"], "feishu", "feishuhooktoken0003")
    await world.address(people["E0006"], "sms", "13900000006")
    await world.event({p: "subject" for p in people.values()}, level="high")

    async with world.worker() as worker:
        report = await worker.step()
    assert report.sent == 4, await rows(world, DeliveryAttempt)

    [wecom] = receiver.bodies("/cgi-bin/message/send")
    wecom_msg = json.loads(wecom)
    assert wecom_msg["touser"] == "zhangsan" and wecom_msg["agentid"] == 1000002
    assert "高风险" in wecom_msg["text"]["content"]
    [ding] = receiver.bodies("/robot/send")
    assert "13900000004" in ding.decode()
    assert len(receiver.bodies("/open-apis/bot/v2/hook/feishuhooktoken0003")) == 1
    [sms] = receiver.bodies("/sms")
    assert json.loads(sms)["phone"] == "13900000006"
    attempts = await rows(world, DeliveryAttempt)
    assert {a.target for a in attempts} >= {"WeChat (WeCom)"}


async def test_email_reaches_an_smtp_server(world: World):
    smtp = SmtpReceiver().start()
    try:
        manager = await world.person("E0005")
        url = (
            f"mailto://{smtp.user}:{smtp.password}@127.0.0.1:{smtp.port}"
            "?from=probity@example.com&to={address}&mode=insecure"
        )
        await world.policy("P00", "email", url=url)
        await world.address(manager, "email", "manager@example.com")
        await world.event({manager: "subject"}, level="low")
        async with world.worker() as worker:
            report = await worker.step()
        assert report.sent == 1, await rows(world, DeliveryAttempt)
        [mail] = smtp.messages
        text = mail.decode(errors="replace") if isinstance(mail, bytes) else str(mail)
        assert "manager@example.com" in text
    finally:
        smtp.stop()


async def test_a_failing_service_is_retried_with_its_reason_then_falls_back(
    world: World, patch_apprise: HttpReceiver, push: FakePushService
):
    receiver = patch_apprise
    receiver.fail.add("/cgi-bin/")
    manager = await world.person("E0005")
    await world.policy("C01", "wecom", url=WECOM)
    await world.address(manager, "wecom", "zhangsan")
    await world.subscribe(manager, new_browser(push, "phone"))
    await world.order(manager, ["wecom", "webpush"])
    await world.event({manager: "subject"})

    async with world.worker(delivery_max_attempts=2) as worker:
        first = await worker.step()
        assert first.retried == 1
        await worker.drain(now=utcnow() + timedelta(seconds=1))
    deliveries = await rows(world, Delivery)
    assert [(d.channel, d.state) for d in deliveries] == [("wecom", "failed"), ("webpush", "sent")]
    attempts = [a for a in await rows(world, DeliveryAttempt) if a.channel == "wecom"]
    assert len(attempts) == 2 and all(a.outcome == "retry" for a in attempts)
    assert all(a.error and "wecom-app-secret-XYZ" not in a.error for a in attempts)
    assert "503" in (attempts[0].error or "") or "token" in (attempts[0].error or "").lower()


async def test_a_disabled_unit_policy_keeps_the_channel_out(world: World, patch_apprise: HttpReceiver):
    manager = await world.person("E0005")
    await world.policy("P00", "wecom", url=WECOM)
    await world.policy("C01-S1", "wecom", enabled=False, url=WECOM)
    await world.address(manager, "wecom", "zhangsan")
    await world.event({manager: "subject"})
    async with world.worker() as worker:
        await worker.drain()
    assert patch_apprise.requests == []
    [route] = await rows(world, DeliveryRoute)
    assert route.state == "inapp"


async def test_channel_secrets_never_reach_the_logs_or_the_attempts(
    world: World, patch_apprise: HttpReceiver, caplog: pytest.LogCaptureFixture
):
    """WeCom and DingTalk down, everything logged at DEBUG: no secret of their URLs anywhere."""
    patch_apprise.fail.update({"/cgi-bin/", "/robot/"})
    manager, head = await world.person("E0005"), await world.person("E0004")
    await world.policy("P00", "wecom", url=WECOM)
    await world.policy("P00", "dingtalk", url=DINGTALK)
    await world.address(manager, "wecom", "zhangsan")
    await world.address(head, "dingtalk", "13900000004")
    await world.event({manager: "subject", head: "head"})
    caplog.set_level(logging.INFO)  # the default; and the loggers that write URLs at their most
    for name in ("apprise", "urllib3", "requests", "probity"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with world.worker(delivery_max_attempts=1) as worker:
        report = await worker.step()
    assert report.retried == 2 and report.sent == 0  # their last try: the routes end here
    secrets = ("wecom-app-secret-XYZ", "SECdingsignsecret0ABC", "dingrobottoken0123456789")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert patch_apprise.requests and not any(s in logged for s in secrets)
    attempts = await rows(world, DeliveryAttempt)
    assert {a.channel for a in attempts} == {"wecom", "dingtalk"}
    stored = json.dumps(
        [(a.target, a.error) for a in attempts] + [d.last_error for d in await rows(world, Delivery)]
    )
    assert not any(s in stored for s in secrets)


async def test_a_failing_sender_logs_its_traceback_without_the_channel_secrets(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    """A sender that raises with the filled channel URL in its message: the worker's error record
    (message and traceback) names no secret; the delivery is retried."""
    from notifications.apprise_channel import AppriseSender

    async def broken(self: AppriseSender, jobs: list, message: object) -> list:
        raise RuntimeError(f"cannot post to {jobs[0].url}")

    monkeypatch.setattr(AppriseSender, "send", broken)
    manager = await world.person("E0005")
    await world.policy("P00", "wecom", url=WECOM)
    await world.address(manager, "wecom", "zhangsan")
    await world.event({manager: "subject"})
    caplog.set_level(logging.INFO, logger="probity")
    async with world.worker() as worker:
        report = await worker.step()
    assert report.retried == 1
    [failed] = [r for r in caplog.records if r.name == "probity.delivery" and r.exc_info]
    written = logging.Formatter().format(failed)
    assert "RuntimeError: cannot post to" in written and "***" in written
    assert "wecom-app-secret-XYZ" not in written
