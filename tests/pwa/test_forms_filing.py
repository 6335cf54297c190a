"""Filing the statutory forms from the phone (390×844, zh-CN): the role that files each of B.5, B.6,
B.7, B.8 and B.9 finds it under 待审批表单, is told at the field what is missing or wrong, files it,
lands on the form with what was written and its first sign-off step, and finds it in its list."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.pwa.conftest import sign_in
from tests.pwa.test_a11y import audit

TOPIC = "Zero usage days"


def b5(page: Page) -> list[str]:
    page.get_by_label("拟开发或改进的监督主题").fill("工程物资领用与结算比对")
    page.get_by_role("button", name=re.compile("^提交")).click()
    expect(page.get_by_text("请填写工作目标")).to_be_visible()
    page.get_by_label("工作目标").fill("发现领用后未结算、重复结算的物资")
    return ["工程物资领用与结算比对", "发现领用后未结算、重复结算的物资"]


def b6(page: Page) -> list[str]:
    page.get_by_label("接收部门").select_option(label="城关供电所")
    page.get_by_label("风险点").fill("换表后零电量")
    page.get_by_label("风险层级").select_option(label="高风险")
    page.get_by_label("详细描述").fill("三户换表后七日电量为零")
    page.get_by_role("button", name="再添加一条线索").click()
    second = page.locator("fieldset").filter(has_text="线索 2")
    second.get_by_label("风险点").fill("抄表示数人工修改")
    second.get_by_label("风险层级").select_option(label="中风险")
    page.get_by_role("button", name=re.compile("^提交")).click()
    expect(second.get_by_text("请填写详细描述")).to_be_visible()
    expect(second.get_by_label("详细描述")).to_be_focused()
    second.get_by_label("详细描述").fill("十一月二十三条示数无审批修改")
    return ["城关供电所", "换表后零电量（高风险）", "抄表示数人工修改（中风险）"]


def b7(page: Page) -> list[str]:
    page.get_by_role("button", name=re.compile("^提交")).click()
    expect(page.get_by_text("请选择预警主题")).to_be_visible()
    page.get_by_label("预警主题").select_option(label=TOPIC)
    expect(page.locator(".view")).to_contain_text("原阈值：高风险 3，中风险 2，低风险 1")
    page.get_by_label("调整原因").fill("零电量天数一天即预警，误报过多")
    page.get_by_label("低风险阈值").fill("2")
    page.get_by_label("监督周期").select_option(label="每周")
    return ["零电量天数一天即预警，误报过多", "每周", "低风险：不低于 2"]


def b8(page: Page) -> list[str]:
    page.get_by_label("预警主题").select_option(label=TOPIC)
    page.get_by_label("审核的业务部门").select_option(index=1)
    page.get_by_label("申请原因").fill("该类问题已通过系统控制杜绝")
    page.get_by_role("button", name=re.compile("^提交")).click()
    expect(page.get_by_text("请填写预计出库日期")).to_be_visible()
    page.get_by_label("预计出库日期").fill("2027-01-31")
    return ["2027年1月31日", "该类问题已通过系统控制杜绝", "近 6 个月预警"]


def b9(page: Page) -> list[str]:
    page.get_by_label("人员工号").fill("E9999")
    page.get_by_label("账号").fill("li si")
    page.get_by_label("申请权限名称").fill("预警查阅")
    page.get_by_label("申请原因").fill("新调入城关供电所，需查阅本人预警")
    page.get_by_role("button", name=re.compile("^提交")).click()
    expect(page.get_by_text("账号只能包含字母、数字和 _ . @ -，至少 2 位")).to_be_visible()
    page.get_by_label("账号").fill("cg.lisi")
    page.get_by_role("button", name=re.compile("^提交")).click()
    # the server's refusal is shown at the field it names
    employee = page.get_by_label("人员工号")
    expect(page.locator("#" + employee.get_attribute("id") + "-error")).to_have_text("人员不存在")  # type: ignore[operator]
    expect(employee).to_have_attribute("aria-invalid", "true")
    employee.fill("E0005")
    return ["cg.lisi", "预警查阅", "“互联网+协同监督”平台"]


#: (form, who files it, its link on the forms page, its title, the first step's box, the filling)
CASES: list[tuple[str, str, str, str, str, Callable[[Page], list[str]]]] = [
    ("b5", "head", "申请监督主题方案评审", "监督主题方案评审单", "主题专家组评审意见", b5),
    ("b6", "inspector", "发送风险线索核查表", "风险线索核查表", "监察人员", b6),
    ("b7", "head", "申请优化主题规则", "规则优化联系单", "专业部门意见", b7),
    ("b8", "expert", "告知监督主题出库", "监督主题出库告知单", "业务部门审核意见", b8),
    ("b9", "head", "申请平台应用权限", "平台应用权限申请表", "部门负责人签字", b9),
]


@pytest.mark.parametrize(("kind", "user", "link", "title", "box", "fill"), CASES, ids=[c[0] for c in CASES])
def test_a_form_is_filed_from_the_phone(
    live: Any,
    phone: Any,
    shots: Any,
    tmp_path: Any,
    kind: str,
    user: str,
    link: str,
    title: str,
    box: str,
    fill: Callable[[Page], list[str]],
) -> None:
    from backend.data.store import BusinessStore
    from tests.engine.helpers import zero_usage_topic

    try:
        if kind in ("b7", "b8"):
            live.run(lambda db: zero_usage_topic(db, live.settings, tmp_path))
        page = phone().new_page()
        sign_in(page, user)
        page.goto("/#/forms")
        expect(page.get_by_role("heading", name="填报表单")).to_be_visible()
        shots(page, f"forms-list-{user}", full_page=True)
        page.get_by_role("link", name=re.compile(link)).click()
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        expected = fill(page)
        shots(page, f"form-{kind}-new", full_page=True)
        assert audit(page, f"form-{kind}-new") == []
        page.get_by_role("button", name=re.compile("^提交")).click()
        expect(page).to_have_url(re.compile(r"#/forms/\d+$"))
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        for text in expected:
            expect(page.locator(".facts")).to_contain_text(text)
        expect(page.locator(".form-step.current")).to_contain_text(box)
        shots(page, f"form-{kind}-filed", full_page=True)
        form_id = int(page.url.rsplit("/", 1)[1])
        if kind == "b6":  # the clue sheet is a table: a workbook too
            with page.expect_download() as got:
                page.get_by_role("button", name="下载表格（Excel）").click()
            content = Path(got.value.path()).read_bytes()
            sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
            cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
            assert "风险线索核查表" in cells and "抄表示数人工修改" in cells
        else:
            expect(page.get_by_role("button", name="下载表格（Excel）")).to_have_count(0)

        # the form is in the filer's list of forms, waiting for its first step
        page.goto("/#/forms?all=1")
        card = page.locator(f'a.form-card[href="#/forms/{form_id}"]')
        expect(card).to_contain_text(title)
        expect(card).to_contain_text("审批中")
        body = page.locator("main").inner_text()
        assert not re.search(r"\b[a-z]+_[a-z_]+\b|\d{4}-\d{2}-\d{2}", body), body
        stored = live.api("GET", f"/api/forms/{form_id}", user).json()
        assert stored["kind"] == kind and stored["state"] == "open" and stored["position"] == 0
    finally:
        BusinessStore.close_all()
