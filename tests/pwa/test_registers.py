"""The risk registers on the phone: a topic expert adds a risk point with what B.1 and B.4 ask; an
inspector reads the risk list and the four lists' summary (every heading in words) and downloads
form B.4 as Excel."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.pwa.helpers import signed_in
from tests.pwa.test_explained import visible_faults


def test_an_expert_adds_a_risk_point_and_an_inspector_reads_and_downloads_the_four_lists(live, phone, shots):
    _, page, problems = signed_in(phone, "expert")
    page.goto(live.url + "/#/admin")
    page.get_by_role("link", name="风险清单").click()
    page.locator("details.reg-edit > summary", has_text="添加风险点").click()
    form = page.get_by_role("form", name="添加风险点")
    form.get_by_role("button", name="添加").click()
    expect(page.locator("#reg-new-code-error")).to_have_text("请填写这一项")
    form.get_by_role("textbox", name="编号", exact=True).fill("YX-09")
    form.get_by_label("专业").select_option("marketing")
    form.get_by_label("业务事项").fill("电费回收")
    form.get_by_label("涉及岗位").fill("客户经理")
    form.get_by_role("textbox", name="风险点", exact=True).fill("以一卡代缴多户电费")
    form.get_by_label("防控措施").fill("代缴关系月度比对")
    form.get_by_label("线下检查方式").fill("每季度抽查缴费流水")
    form.get_by_label("巡视巡察发现的问题").fill("巡察发现代缴电费问题3起")
    form.get_by_label("是否有规可依").select_option("true")
    form.get_by_label("制度依据").fill("《电费抄核收管理办法》")
    shots(page, "registers-add", full_page=True)
    form.get_by_role("button", name="添加").click()
    card = page.locator("li.reg-point", has_text="以一卡代缴多户电费")
    expect(card).to_contain_text("线下检查：每季度抽查缴费流水")
    expect(card).to_contain_text("第 1 版")
    assert problems == []

    _, boss, problems = signed_in(phone, "inspector")
    boss.goto(live.url + "/#/dashboard")
    boss.get_by_role("link", name="风险清单").click()
    expect(boss.locator("li.reg-point", has_text="以一卡代缴多户电费")).to_contain_text("营销")
    boss.get_by_role("button", name="四张清单汇总").click()
    four = boss.locator("li.reg-point", has_text="以一卡代缴多户电费")
    for heading in ("问题清单", "风险清单", "数据清单", "心理清单"):
        expect(four.get_by_role("heading", name=heading)).to_be_visible()
    expect(four).to_contain_text("巡察发现代缴电费问题3起")
    expect(four).to_contain_text("是 · 《电费抄核收管理办法》")
    expect(four).to_contain_text("无数据（少于5人或无权查看）")
    shots(boss, "registers-four-lists", full_page=True)
    faults = visible_faults(boss.locator("main").inner_text())
    assert faults == [], faults
    with boss.expect_download() as got:
        boss.get_by_role("button", name="下载 Excel").click()
    assert got.value.suggested_filename == "四张清单汇总表.xlsx"
    sheet = load_workbook(io.BytesIO(open(got.value.path(), "rb").read())).active  # noqa: SIM115
    assert sheet is not None
    assert "巡察发现代缴电费问题3起" in [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert problems == []
