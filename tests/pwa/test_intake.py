"""The public report form in a phone's browser, without an account (proof of work solved by the
page, a photo attached, the receipt code shown once, the state looked up), then an inspector reads
and handles the report, and the sender sees the new state and the note meant for them."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.helpers import png
from tests.pwa.test_a11y import audit

BODY = "11月20日抄表员以\u201c电表故障\u201d为由向我索要200元，否则估抄电量。"


def test_a_report_from_the_public_and_its_handling(live, phone, shots, tmp_path):
    photo = tmp_path / "meter.png"
    photo.write_bytes(png(64, 48))
    page = phone().new_page()
    page.goto("/")
    page.get_by_role("link", name="我要举报（无需登录）").click()
    expect(page.get_by_role("heading", name="廉情信息反映")).to_be_visible()
    problems = audit(page, "report form")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#report-subject-error")).to_have_text("请填写标题")
    page.get_by_label("标题").fill("抄表员索要好处费")
    expect(page.locator("#report-subject-error")).to_be_hidden()  # cleared as the user types
    page.get_by_label("具体情况").fill(BODY)
    page.get_by_label("涉及的单位或人员（选填）").fill("城东供电所")
    page.locator("input[name=files]").set_input_files(str(photo))
    expect(page.locator(".report-chosen")).to_have_text("meter.png")
    shots(page, "report-form", full_page=True)
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="已提交")).to_be_visible(timeout=30_000)
    code = page.locator(".receipt-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-9]{16}", code), code
    problems += audit(page, "report sent")
    shots(page, "report-sent", full_page=True)

    page.get_by_label("查询码").fill(code.lower())
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator(".report-status dl")).to_contain_text("已受理")

    boss = phone().new_page()
    sign_in(boss, "inspector")
    boss.goto("/#/me")
    boss.get_by_role("link", name=re.compile("信访举报")).click()
    expect(boss.get_by_role("heading", name="信访举报")).to_be_visible()
    card = boss.locator("a.wcard", has_text="抄表员索要好处费")
    expect(card).to_contain_text("廉洁问题")
    expect(card).to_contain_text("1 个附件")
    problems += audit(boss, "intake list")
    card.click()
    expect(boss.get_by_text(BODY)).to_be_visible()
    expect(boss.locator("img.report-photo")).to_be_visible()
    expect(boss.locator("dl.facts")).to_contain_text("城东供电所")
    expect(boss.locator("dl.facts")).to_contain_text("匿名")
    boss.get_by_role("button", name="已转为问题线索").click()
    boss.get_by_label("给反映人的说明").fill("已受理，正在核查，感谢反映。")
    boss.get_by_label("内部备注").fill("转纪检组，线索编号待定")
    problems += audit(boss, "intake detail")
    shots(boss, "intake-detail", full_page=True)
    boss.get_by_role("button", name="保存").click()
    expect(boss.get_by_role("heading", name="信访举报")).to_be_visible()
    expect(boss.locator("a.wcard", has_text="抄表员索要好处费")).to_contain_text("已转为问题线索")

    page.get_by_role("button", name="查询", exact=True).click()
    status = page.locator(".report-status dl")
    expect(status).to_contain_text("已转为问题线索")
    expect(status).to_contain_text("已受理，正在核查，感谢反映。")
    expect(status).not_to_contain_text("线索编号")
    assert not re.search(r"\d{4}-\d{2}-\d{2}|[a-z]+_[a-z]+", status.inner_text()), status.inner_text()
    shots(page, "report-status", full_page=True)
    assert not problems, problems
