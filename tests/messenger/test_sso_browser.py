"""WeCom / DingTalk single sign-on in a real browser: the 查看 link of a card, opened in the messenger's
browser, goes through its OAuth (the local fake) and lands on the warning in the PWA, signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.messenger.models import Provider
from backend.messenger.service import MessengerService
from tests.messenger.conftest import ADMIN, TRAIL, USERS, app_body
from tests.messenger.fake_base import FakeMessenger
from tests.pwa import conftest as pwa
from tests.pwa.conftest import LiveServer, Shots
from tests.warnings.conftest import Seeder

#: the PWA tests' browser, phone and screenshot fixtures, used here too
browser, phone, shots = pwa.browser, pwa.phone, pwa.shots


@pytest.fixture
def live(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The app under uvicorn, its public address known before it starts (WeCom redirects to it)."""
    port = pwa._free_port()
    monkeypatch.setattr(pwa, "_free_port", lambda: port)
    with LiveServer(settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})) as server:
        yield server


#: who the PWA's stored session belongs to, asked of the server with its access token
ME = """async () => {
  const s = await globalThis.ProbityCore.session.get();
  const res = await fetch("/api/auth/me", { headers: { Authorization: "Bearer " + s.access } });
  return (await res.json()).username;
}"""


def set_up(live: LiveServer, fake: FakeMessenger, provider: Provider) -> tuple[int, int]:
    units = live.api("GET", "/api/units", "admin").json()
    root = next(u for u in units if u["code"] == "P00")
    body = app_body(fake)
    r = live.api("PUT", f"/api/messenger/units/{root['id']}/{provider.value}", "admin", json=body)
    assert r.status_code == 200, r.text

    async def seed(db: Database) -> int:
        async with db.session() as s:
            await MessengerService(s, TRAIL, live.settings).set_user_ids(
                ADMIN, provider, sorted(USERS.items())
            )
        return await Seeder(db).warning("E0005", level="high")

    return int(r.json()["id"]), int(live.run(seed))


@pytest.mark.parametrize("provider", [Provider.wecom, Provider.dingtalk])
def test_a_messenger_sso_code_opens_the_pwa_signed_in(
    live: LiveServer, phone: Any, shots: Shots, provider: Provider, request: pytest.FixtureRequest
) -> None:
    fake: FakeMessenger = request.getfixturevalue("wecom" if provider == Provider.wecom else "dingtalk_fake")
    app_id, wid = set_up(live, fake, provider)
    fake.current_user = "zhangsan"
    page = phone().new_page()
    page.goto(f"/messenger/{provider.value}/{app_id}/sso?to=/warnings/{wid}")
    page.wait_for_url(re.compile(rf"#/warnings/{wid}$"))
    page.wait_for_selector("nav.tabs:not([hidden])")
    page.wait_for_selector(".detail-head")
    assert "高" in page.locator(".detail-head").inner_text()
    me = page.evaluate(ME)
    assert me == "manager"
    assert not page.get_by_label("密码").count(), "no password was asked"
    shots(page, f"{provider.value}-sso-warning")

    # 我的 shows the binding
    page.evaluate("location.hash = '#/me'")
    binding = page.locator(f".messenger-{provider.value}")
    binding.wait_for()
    name = "企业微信" if provider == Provider.wecom else "钉钉"
    assert binding.inner_text() == f"{name} · 已关联（账号 zhangsan），提醒以卡片发送，可在消息中直接办理"
    assert "null" not in page.locator(".messenger-box").inner_text()
    binding.evaluate("e => e.scrollIntoView({ block: 'center' })")
    shots(page, f"{provider.value}-binding")

    # the same link opened by a member nobody here is linked to: a clear page, in Chinese
    fake.members.add("stranger")
    fake.current_user = "stranger"
    other = phone().new_page()
    other.goto(f"/messenger/{provider.value}/{app_id}/sso?to=/warnings/{wid}")
    other.wait_for_selector("#why")
    assert "您的账号（stranger）还没有关联到本系统的人员" in other.locator("#why").inner_text()
    assert other.locator("h1").inner_text() == "无法登录"
    shots(other, f"{provider.value}-sso-unknown")


def test_a_messenger_sign_in_asks_for_the_second_factor_when_the_account_has_one(
    live: LiveServer, phone: Any, shots: Shots, wecom: FakeMessenger
) -> None:
    import pyotp

    app_id, wid = set_up(live, wecom, Provider.wecom)
    secret = live.api("POST", "/api/auth/totp/setup", "manager").json()["secret"]
    r = live.api("POST", "/api/auth/totp/activate", "manager", json={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200, r.text
    recovery = r.json()["recovery_codes"][0]

    wecom.current_user = "zhangsan"
    page = phone().new_page()
    page.goto(f"/messenger/wecom/{app_id}/sso?to=/warnings/{wid}")
    # the same second step as a password sign-in: no session until the code is given
    code = page.get_by_label("6 位动态码", exact=True)
    code.wait_for()
    assert "已通过企业微信或钉钉确认您的身份" in page.locator("form.login-code").inner_text()
    assert page.evaluate("async () => !(await globalThis.ProbityCore.session.get())?.access")
    shots(page, "wecom-sso-second-factor")
    page.get_by_role("button", name="使用恢复码").click()
    page.get_by_label("恢复码", exact=True).fill(recovery)
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url(re.compile(rf"#/warnings/{wid}$"))
    page.wait_for_selector(".detail-head")
    assert page.evaluate(ME) == "manager"
