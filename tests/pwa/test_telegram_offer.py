"""我的 offers Telegram only where the deployment has a bot: here one is configured (a token; the
bot itself does not run in tests), and the binding is made with a one-time link and undone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.sync_api import expect
from pydantic import SecretStr

from backend.kernel.settings import Settings
from tests.pwa.conftest import sign_in


@pytest.fixture
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    yield settings.model_copy(update={"telegram_bot_token": SecretStr("123456:TEST-bot-token-secret")})


def test_telegram_is_bound_with_a_one_time_link_and_unbound(live, phone, shots):
    from backend.audit.service import AuditTrail
    from backend.telegram.service import TelegramService
    from tests.conftest import TEST_SECRET

    page = phone().new_page()
    sign_in(page, "manager")
    page.goto("/#/me")
    box = page.locator(".telegram-box")
    expect(box).to_contain_text("未绑定")
    box.get_by_role("button", name="绑定 Telegram").click()
    command = box.locator("code.start-command")
    expect(command).to_have_text(re.compile(r"^/start \S{8,}$"))
    shots(page, "telegram-link")
    code = command.inner_text().split(" ", 1)[1]

    async def bind(db):
        async with db.session() as s:
            await TelegramService(s, AuditTrail(TEST_SECRET), live.settings, None).bind(
                code, user_id=424242, chat_id=424242, language="zh"
            )

    live.run(bind)
    page.reload()
    expect(box).to_contain_text("已绑定")
    page.once("dialog", lambda d: d.accept())
    box.get_by_role("button", name="解除 Telegram 绑定").click()
    expect(box).to_contain_text("未绑定")
    assert live.api("GET", "/api/telegram/me", "manager").json()["bound"] is False
    order = page.locator(".order-box")
    expect(order).to_contain_text("Telegram")
