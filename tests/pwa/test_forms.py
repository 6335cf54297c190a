"""Forms and approvals on the phone (390×844, zh-CN): an inspector writes the risk notice letter
(B.13) of a linked warning, the committee approves it from 待审批 and downloads the PDF; the head
answers with the risk report (B.14) and signs the head's opinion; the inspector signs last."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.pwa.conftest import sign_in
from tests.warnings.conftest import Seeder


def _letter(live) -> int:
    async def three_of_one_topic(db):
        seed = Seeder(db)
        return [await seed.warning("E0005", level="medium", topic_code="T09") for _ in range(3)]

    for n, wid in enumerate(live.run(three_of_one_topic)):
        body = {"client_id": f"forms-test-{n:04d}", "result": "true", "cause": "属实", "measures": "整改"}
        assert live.api("POST", f"/api/warnings/{wid}/verifications", "manager", json=body).status_code == 201
        assert live.api("POST", f"/api/warnings/{wid}/confirm", "head").status_code == 200
    (letter,) = live.api("GET", "/api/linked", "inspector").json()
    return letter["id"]


def test_notice_letter_and_risk_report_signed_on_the_phone(live, phone, shots):
    lid = _letter(live)

    inspector = phone().new_page()
    sign_in(inspector, "inspector")
    inspector.goto(f"/#/linked/{lid}")
    expect(inspector.locator(".facts")).to_contain_text("同一主题三次属实预警 · 3 条预警")
    inspector.get_by_label("可能存在的廉政风险").fill("换表后电量异常未复核，可能存在少计电量的风险")
    inspector.get_by_label("相关防控要求").fill("核实换表记录，落实换表后复核制度")
    inspector.get_by_role("button", name="提交领导批复").click()
    expect(inspector).to_have_url(re.compile(r"#/forms/\d+$"))
    expect(inspector.get_by_role("heading", name="风险函告书", exact=True)).to_be_visible()
    expect(inspector.locator(".form-steps")).to_contain_text("领导批复意见")
    expect(inspector.locator(".sign-form")).to_have_count(0)  # not the inspector's step

    leader = phone().new_page()
    sign_in(leader, "committee")
    leader.get_by_role("link", name="待审批表单 1 份等待您审批").click()
    leader.locator("a.form-card").click()
    expect(leader.locator(".facts")).to_contain_text("核实换表记录，落实换表后复核制度")
    leader.get_by_label("意见").fill("同意函告，请按期反馈")
    shots(leader, "form-b13-sign", full_page=True)
    leader.get_by_role("button", name="同意").click()
    expect(leader.locator(".detail-head .chip")).to_have_text("已通过")
    expect(leader.locator(".form-steps")).to_contain_text("同意函告，请按期反馈")
    with leader.expect_download() as got:
        leader.get_by_role("button", name="下载表单（PDF）").click()
    pdf = got.value.path().read_bytes()
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "领导批复意见同意函告，请按期反馈" in text and "相关防控要求核实换表记录" in text

    head = phone().new_page()
    sign_in(head, "head")
    head.goto(f"/#/linked/{lid}")
    # the letter shows its approved notice letter
    expect(head.locator("section.card").filter(has_text="相关表单")).to_contain_text("风险函告书 · 编号")
    expect(head.locator("section.card").filter(has_text="相关表单")).to_contain_text("已通过")
    head.get_by_label("风险确认情况").fill("三户换表后电量为零属实")
    head.get_by_label("风险发生原因及相关说明").fill("换表后未复核读数")
    head.get_by_label("采取的处理措施").fill("追补电量，约谈责任人")
    head.get_by_role("button", name="提交风险报告单").click()
    expect(head).to_have_url(re.compile(r"#/forms/\d+$"))
    expect(head.get_by_role("heading", name="风险报告单", exact=True)).to_be_visible()
    head.get_by_label("意见").fill("情况属实，已督促整改")
    head.get_by_role("button", name="同意").click()
    expect(head.locator(".form-steps")).to_contain_text("情况属实，已督促整改")
    expect(head.locator(".detail-head .chip")).to_have_text("审批中")
    shots(head, "form-b14-head", full_page=True)

    inspector.goto("/#/forms")
    inspector.locator("a.form-card").filter(has_text="风险报告单").click()
    inspector.get_by_label("意见").fill("整改措施可行")
    inspector.get_by_role("button", name="同意").click()
    expect(inspector.locator(".detail-head .chip")).to_have_text("已通过")
    shots(inspector, "form-b14-done", full_page=True)
    letter = live.api("GET", f"/api/linked/{lid}", "head").json()
    assert letter["state"] == "closed" and letter["report_measures"] == "追补电量，约谈责任人"


def test_head_files_a_threshold_change_on_the_phone(live, phone, shots, tmp_path):
    """B.11 from the phone: the head picks the topic (current bounds shown), gives new ones and the
    reason, then signs the first step; the change applies only after the expert's signature."""
    from backend.data.store import BusinessStore
    from tests.engine.helpers import zero_usage_topic

    try:
        topic_id = live.run(lambda db: zero_usage_topic(db, live.settings, tmp_path))
        page = phone().new_page()
        sign_in(page, "head")
        page.goto("/#/forms")
        page.get_by_role("link", name=re.compile("申请变更主题风险等级阈值")).click()
        page.get_by_label("预警主题").select_option(label="Zero usage days")
        expect(page.locator(".view")).to_contain_text("原阈值：高风险 3，中风险 2，低风险 1")
        page.get_by_label("低风险阈值").fill("2")
        page.get_by_label("变更原因").fill("低风险预警过多，核实后多为正常用电")
        shots(page, "form-b11-new", full_page=True)
        page.get_by_role("button", name=re.compile("^提交")).click()
        expect(page).to_have_url(re.compile(r"#/forms/\d+$"))
        expect(page.locator(".facts")).to_contain_text("低风险：不低于 2")
        page.get_by_label("意见").fill("同意调整")
        page.get_by_role("button", name="同意").click()
        expect(page.locator(".form-steps")).to_contain_text("同意调整")
        shots(page, "form-b11-signed", full_page=True)
        (request,) = live.api("GET", f"/api/topics/{topic_id}/requests", "admin").json()
        assert request["state"] == "open" and request["proposal"]["thresholds"]["low"] == 2
    finally:
        BusinessStore.close_all()
