"""Two-step verification on the phone: enrol in 我的, sign out, sign in with the password and a code."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pyotp
import pytest
from playwright.sync_api import expect

from tests.pwa.conftest import sign_in


@pytest.fixture
def settings(settings):
    """Administrators must use a second factor here (as in production); other roles need not."""
    return settings.model_copy(update={"totp_required_roles": "admin"})


ENGLISH = re.compile(r"\b(totp|second_factor|challenge|undefined|null)\b", re.IGNORECASE)


def test_enrol_sign_out_and_sign_in_with_a_code(live, phone, shots):
    page = phone().new_page()
    sign_in(page, "manager")
    page.goto("/#/me")
    section = page.locator("section#sec-totp, section[aria-labelledby=sec-totp]")
    expect(section.get_by_role("heading", name="两步验证")).to_be_visible()
    expect(section).to_contain_text("两步验证未开启")
    section.get_by_role("button", name="开启两步验证").click()

    key = section.locator(".totp-secret")
    expect(key).to_be_visible()
    shown = key.inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", shown), shown  # groups of four
    secret = shown.replace(" ", "")
    qr = section.get_by_role("img", name="二维码：用验证器应用扫描添加")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 180  # large enough to scan from the screen
    link = section.get_by_label("添加链接")
    assert link.input_value().startswith("otpauth://totp/Probity:manager?secret=" + secret)
    code_box = section.get_by_label("6 位动态码")
    assert code_box.get_attribute("inputmode") == "numeric"
    assert code_box.get_attribute("autocomplete") == "one-time-code"
    section.scroll_into_view_if_needed()
    shots(page, "totp-enrol")
    assert not ENGLISH.search(section.inner_text())

    totp = pyotp.TOTP(secret)
    code_box.fill(totp.at(datetime.now()))
    section.get_by_role("button", name="确认开启").click()
    expect(section).to_contain_text("两步验证已开启")
    codes = section.locator(".recovery-codes li")
    expect(codes).to_have_count(10)
    expect(section).to_contain_text("只显示这一次")
    section.scroll_into_view_if_needed()
    shots(page, "totp-recovery-codes")
    # the password alone no longer signs in
    step = httpx.post(f"{live.url}/api/auth/login", json={"username": "manager", "password": "demo"}).json()
    assert step["second_factor"] == "totp" and "access_token" not in step

    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("用户名").fill("manager")
    page.get_by_label("密码").fill("demo")
    page.locator("form.login button[type=submit]").click()
    code_field = page.get_by_label("6 位动态码")
    expect(code_field).to_be_visible()
    assert code_field.get_attribute("inputmode") == "numeric"
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    expect(page.get_by_role("button", name="使用恢复码")).to_be_visible()
    shots(page, "totp-sign-in-code")
    assert not ENGLISH.search(page.locator("main, body").first.inner_text())
    # the code of the activation's time step was used: the next step's code (within the window)
    code_field.fill(totp.at(datetime.now(), counter_offset=1))
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_selector("nav.tabs:not([hidden])")
    page.goto("/#/me")
    expect(page.locator("section[aria-labelledby=sec-totp]")).to_contain_text("剩余 10 个恢复码")


def test_a_required_role_sets_the_factor_up_while_signing_in(live, phone, shots):
    page = phone().new_page()
    page.goto("/")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("demo")
    page.locator("form.login button[type=submit]").click()
    expect(page.get_by_role("heading", name="开启两步验证")).to_be_visible()
    expect(page.get_by_text("您的角色要求两步验证")).to_be_visible()
    expect(page.get_by_role("img", name="二维码：用验证器应用扫描添加")).to_be_visible()
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    shots(page, "totp-required-enrol", full_page=True)
    page.get_by_label("6 位动态码").fill(pyotp.TOTP(secret).at(datetime.now()))
    page.get_by_role("button", name="确认开启").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    shots(page, "totp-required-recovery")
    page.get_by_role("button", name="我已保存恢复码，继续").click()
    page.wait_for_selector("nav.tabs:not([hidden])")
    assert "/api/auth" not in page.url
