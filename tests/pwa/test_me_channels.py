"""我的 · channels: SMS goes to the staff directory's mobile number until the person enters another;
Telegram is not offered where the deployment has no bot (see test_telegram_offer.py where it has)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in


def test_sms_shows_the_directory_number_until_the_person_sets_another(live, phone, shots):
    number = live.api("GET", "/api/delivery/me", "manager").json()["sms_from_directory"]
    assert number and number.startswith("1390000")
    page = phone().new_page()
    sign_in(page, "manager")
    page.goto("/#/me")
    sms = page.get_by_label("短信", exact=True)
    expect(sms).to_have_attribute("placeholder", number)
    expect(page.locator("#addr-sms-hint")).to_have_text(
        f"短信发送到人员信息中登记的手机号 {number}；如需发到其他号码，请在此填写"
    )
    shots(page, "me-sms-directory")
    # no Telegram bot in this deployment: neither the binding nor Telegram in the order is offered
    assert live.api("GET", "/api/delivery/me", "manager").json()["telegram_enabled"] is False
    expect(page.locator(".telegram-box")).to_have_count(0)
    expect(page.locator(".order-box")).to_be_visible()
    expect(page.locator(".order-box")).not_to_contain_text("Telegram")

    sms.fill("13900000555")
    sms.locator("xpath=ancestor::div[contains(@class,'inline-field')]").get_by_role(
        "button", name="保存"
    ).click()
    expect(page.get_by_text("已保存").first).to_be_visible()
    page.reload()
    expect(page.get_by_label("短信", exact=True)).to_have_value("13900000555")
    expect(page.locator("#addr-sms-hint")).to_have_count(0)
    assert live.api("GET", "/api/delivery/me", "manager").json()["sms_from_directory"] is None
