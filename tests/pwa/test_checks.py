"""The high-risk check sheet (B.17) on the phone: the head opens a red warning found true, fills
the sheet (each field required, errors clearing as they type), an inspector over the unit adds the
unit leader's opinion, and the sheet downloads as the printable form."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.pwa.conftest import sign_in
from tests.pwa.helpers import true_warning
from tests.pwa.test_a11y import audit

FILLED = {
    "风险描述": "连续三个月零电量，疑似换表未抄底度",
    "风险核查结果": "现场核实换表时未抄录旧表读数，少计电量 1 200 千瓦时",
    "可能存在的廉政风险": "抄表员与用户串通少计电量",
    "相关防控要求": "换表须双人到场并拍照留存读数",
    "业务部门负责人意见": "追补电费，对责任人约谈提醒",
}


def test_the_head_fills_the_check_sheet_and_the_inspector_signs(live, phone, shots):
    wid = true_warning(live, "high")
    head = phone().new_page()
    sign_in(head, "head")
    head.goto(f"/#/warnings/{wid}")
    head.get_by_role("link", name="填写高风险问题核查单").click()
    expect(head.get_by_role("heading", name="填写高风险问题核查单")).to_be_visible()
    head.get_by_role("button", name="提交核查单").click()
    expect(head.locator("#check-risk_description-error")).to_have_text("请填写此项")
    problems = audit(head, "check sheet form")
    for label, text in FILLED.items():
        head.get_by_label(label).fill(text)
    expect(head.locator("#check-risk_description-error")).to_be_hidden()
    shots(head, "check-sheet-form", full_page=True)
    head.get_by_role("button", name="提交核查单").click()
    expect(head.get_by_role("heading", name="高风险问题核查单")).to_be_visible()
    facts = head.locator("dl.facts")
    for text in FILLED.values():
        expect(facts).to_contain_text(text)
    # who filled it cannot also sign as the unit's leader
    expect(head.get_by_role("button", name="签署意见")).to_have_count(0)
    head.goto(f"/#/warnings/{wid}")
    expect(head.get_by_role("link", name="查看高风险问题核查单")).to_be_visible()

    boss = phone().new_page()
    sign_in(boss, "inspector")
    boss.goto(f"/#/warnings/{wid}")
    boss.get_by_role("link", name="查看高风险问题核查单").click()
    boss.get_by_label("单位负责人意见").fill("同意，按要求整改")
    problems += audit(boss, "check sheet detail")
    boss.get_by_role("button", name="签署意见").click()
    expect(boss.locator("dl.facts")).to_contain_text("同意，按要求整改")
    expect(boss.get_by_role("button", name="签署意见")).to_have_count(0)
    with boss.expect_download() as got:
        boss.get_by_role("button", name="下载核查单（PDF）").click()
    assert got.value.suggested_filename.endswith(".pdf")
    shots(boss, "check-sheet-signed", full_page=True)
    assert not problems, problems

    manager = phone().new_page()
    sign_in(manager, "manager")
    manager.goto(f"/#/warnings/{wid}")
    expect(manager.get_by_role("heading", name="预警", exact=True)).to_be_visible()
    expect(manager.get_by_role("link", name="查看高风险问题核查单")).to_have_count(0)
