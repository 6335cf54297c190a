"""The shell: languages, errors from their code, the channel header, token refresh, the service
worker and manifest, push subscription (against a stubbed pushManager), the iPhone guidance."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import jwt
from playwright.sync_api import expect

from backend.auth.service import ALGORITHM, Keys
from backend.kernel.timeutil import utcnow
from tests.pwa.conftest import sign_in
from tests.pwa.helpers import seed_warnings

# A pushManager that answers like a browser's, with a real P-256 key, and no push service.
PUSH_STUB = """
(() => {
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  let current = null;
  PushManager.prototype.subscribe = async function (options) {
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
    const auth = crypto.getRandomValues(new Uint8Array(16));
    const json = { endpoint: "https://push.example.test/send/" + b64(auth), expirationTime: null,
                   keys: { p256dh: b64(raw), auth: b64(auth) } };
    window.__serverKeyLength = new Uint8Array(options.applicationServerKey).length;
    const unsubscribe = async () => { current = null; return true; };
    current = { endpoint: json.endpoint, toJSON: () => json, unsubscribe };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_language_switch_and_errors_in_the_users_language(live, phone, shots):
    seed_warnings(live)
    page = phone().new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_label("用户名").fill("manager")
    page.get_by_label("密码").fill("not-the-password")
    page.locator("form.login button[type=submit]").click()
    expect(page.locator("form.login .alert-error")).to_have_text("用户名或密码错误")
    shots(page, "login-error-zh")

    page.get_by_role("button", name="Switch to English / 切换语言").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Password").fill("still-wrong")
    page.get_by_label("Username").fill("manager")
    page.locator("form.login button[type=submit]").click()
    expect(page.locator("form.login .alert-error")).to_have_text("Wrong username or password")

    sign_in(page, "manager", labels=("Username", "Password"))
    expect(page.get_by_role("heading", name="My warnings")).to_be_visible()
    expect(page.locator("nav.tabs")).to_contain_text("Warnings")
    expect(page.locator(".level-tabs")).to_contain_text("High · red")
    expect(page.locator(".provisional").first).to_have_text("provisional")
    shots(page, "inbox-en")
    page.reload()
    expect(page.get_by_role("heading", name="My warnings")).to_be_visible()

    # switched before signing in: the browser keeps it, the server has nothing of the person's
    assert stored_language(live, "manager") is None
    page.goto("/#/me")
    page.get_by_label("简体中文").check()
    expect(page.get_by_role("heading", name="我的", exact=True)).to_be_visible()
    # signed in: the server keeps it too, and every channel speaks it
    wait_for(lambda: stored_language(live, "manager") == "zh")
    page.get_by_role("button", name="Switch to English / 切换语言").click()
    expect(page.get_by_role("heading", name="Me", exact=True)).to_be_visible()
    wait_for(lambda: stored_language(live, "manager") == "en")
    page.get_by_label("简体中文").check()
    page.goto("/#/warnings")
    expect(page.get_by_role("heading", name="我的预警")).to_be_visible()
    wait_for(lambda: stored_language(live, "manager") == "zh")


def stored_language(live, username: str) -> str | None:
    return live.api("GET", "/api/delivery/me", username).json()["language"]


def wait_for(check, seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "the server never stored it"
        time.sleep(0.1)


def test_every_call_says_pwa_and_an_expired_token_is_refreshed(live, phone):
    seed_warnings(live)
    page = phone().new_page()
    api_calls: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda r: api_calls.append((r.url, r.headers.get("x-probity-channel"))) if "/api/" in r.url else None,
    )
    sign_in(page, "manager")
    expect(page.locator("a.wcard")).to_have_count(4)
    before = page.evaluate("globalThis.ProbityCore.session.get()")
    claims = jwt.decode(before["access"], options={"verify_signature": False})
    past = utcnow() - timedelta(hours=2)
    expired = jwt.encode(
        {**claims, "iat": past, "exp": past + timedelta(minutes=15)},
        Keys.from_settings(live.settings).token_key,
        algorithm=ALGORITHM,
    )
    page.evaluate(
        "async (token) => { const s = await ProbityCore.session.get();"
        " await ProbityCore.session.set({ ...s, access: token }); }",
        expired,
    )
    page.reload()
    expect(page.get_by_role("heading", name="我的预警")).to_be_visible()
    expect(page.locator("a.wcard")).to_have_count(4)
    after = page.evaluate("globalThis.ProbityCore.session.get()")
    assert after["access"] != expired
    assert after["refresh"] != before["refresh"]  # rotated
    assert any(url.endswith("/api/auth/refresh") for url, _ in api_calls)
    assert api_calls and all(channel == "pwa" for _, channel in api_calls)

    page.goto("/#/me")
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert page.evaluate("globalThis.ProbityCore.session.get()") is None
    ended = httpx.post(f"{live.url}/api/auth/refresh", json={"refresh_token": after["refresh"]})
    assert ended.status_code == 401  # signing out ended the session on the server too


def test_the_shell_installs_and_opens_offline(live, phone, shots):
    seed_warnings(live)
    ctx = phone()
    page = ctx.new_page()
    manifest = page.request.get(f"{live.url}/manifest.json").json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(f"{live.url}{icon['src']}").ok
    sign_in(page, "manager")
    expect(page.locator("a.wcard")).to_have_count(4)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the worker's control: the inbox it answered is kept
    expect(page.locator("a.wcard")).to_have_count(4)
    assert page.evaluate("!!navigator.serviceWorker.controller")

    ctx.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="我的预警")).to_be_visible()
    expect(page.locator("a.wcard")).to_have_count(4)
    expect(page.locator(".alert-warn")).to_contain_text("离线")
    expect(page.locator("#status")).to_contain_text("当前离线")
    shots(page, "offline-inbox")


def test_push_subscription_with_a_stubbed_push_manager(live, phone, shots):
    ctx = phone()
    ctx.grant_permissions(["notifications"])
    ctx.add_init_script(PUSH_STUB)
    page = ctx.new_page()
    sign_in(page, "manager")
    page.goto("/#/me")
    expect(page.get_by_text("未开启", exact=True)).to_be_visible()
    page.get_by_role("button", name="开启通知").click()
    expect(page.get_by_role("button", name="关闭通知")).to_be_visible()
    expect(page.get_by_text("已开启：有新预警时这台设备会收到通知")).to_be_visible()
    assert page.evaluate("window.__serverKeyLength") == 65  # the VAPID key, decoded
    shots(page, "push-on", full_page=True)
    mine = live.api("GET", "/api/delivery/me", "manager").json()
    assert [s["service"] for s in mine["subscriptions"]] == ["push.example.test"]

    page.get_by_role("button", name="关闭通知").click()
    expect(page.get_by_role("button", name="开启通知")).to_be_visible()
    assert live.api("GET", "/api/delivery/me", "manager").json()["subscriptions"] == []


def test_an_iphone_in_safari_is_told_to_add_to_home_screen(live, phone, shots):
    page = phone(user_agent=IPHONE).new_page()
    sign_in(page, "manager")
    page.goto("/#/me")
    expect(page.get_by_text("添加到主屏幕", exact=False).first).to_be_visible()
    expect(page.get_by_role("button", name="开启通知")).to_have_count(0)
    shots(page, "iphone-push-guidance")
