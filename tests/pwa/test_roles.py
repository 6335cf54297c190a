"""Inspectors read the dashboard; admins run topics, import data, edit the calendar and broadcast."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from backend.kernel.timeutil import SHANGHAI
from tests.pwa.conftest import sign_in
from tests.pwa.helpers import seed_warnings
from tests.pwa.test_explained import visible_faults

# Upload progress as the page's XMLHttpRequest reports it.
PROGRESS_PROBE = """
(() => {
  window.__progress = [];
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (...args) {
    this.upload.addEventListener("progress", (e) => window.__progress.push([e.loaded, e.total]));
    return open.apply(this, args);
  };
})();
"""


def test_inspector_dashboard_draws_open_and_overdue_by_level_unit_and_topic(live, phone, shots):
    seed_warnings(live, "E0005")
    seed_warnings(live, "E0009")  # the expert, head of the marketing department
    # each seeds three warnings now and one 70 days ago: this month holds six, the year eight unless
    # 70 days ago was last year
    now = datetime.now(SHANGHAI)
    earlier = now - timedelta(days=70)
    page = phone().new_page()
    sign_in(page, "inspector")
    expect(page.locator("nav.tabs")).to_contain_text("看板")
    page.goto("/#/dashboard")
    expect(page.get_by_role("heading", name="监督看板")).to_be_visible()
    tiles = page.locator(".tiles .tile")
    expect(tiles.first).to_contain_text("新增预警")
    expect(tiles.first.locator(".tile-value")).to_have_text("6" if earlier.month != now.month else "8")
    by_unit = page.locator("figure.chart").filter(has_text="按单位")
    expect(by_unit.locator("svg[role=img] rect")).not_to_have_count(0)
    expect(by_unit.locator("table")).to_contain_text("城关供电所")
    expect(by_unit.locator("table")).to_contain_text("东湖营销部")
    by_topic = page.locator("figure.chart").filter(has_text="按主题")
    expect(by_topic.locator("table tbody tr")).to_have_count(3)
    expect(page.locator("figure.chart").filter(has_text="近 6 个月").locator("rect")).not_to_have_count(0)
    shots(page, "dashboard", full_page=True)

    page.locator(".segmented button", has_text="年").click()
    expect(page.locator(".segmented button[aria-pressed=true]")).to_have_text("年")
    expect(tiles.first.locator(".tile-value")).to_have_text("8" if earlier.year == now.year else "6")


def test_admin_topics_and_a_data_import_with_progress_and_refused_rows(live, phone, shots):
    made = live.api(
        "POST",
        "/api/topics",
        "admin",
        json={"code": "EN-PWA", "name": "竣工验收（线下）", "specialty": "engineering", "offline": True},
    )
    assert made.status_code in (200, 201), made.text
    declared = live.api(
        "POST",
        "/api/data/tables",
        "admin",
        json={
            "name": "pwa_payments",
            "title": "缴费记录",
            "columns": [
                {"name": "account_no", "type": "VARCHAR", "required": True, "label": "户号"},
                {"name": "amount", "type": "DOUBLE", "required": True, "label": "缴费金额"},
            ],
            "owner_unit_code": "P00",
        },
    )
    assert declared.status_code in (200, 201), declared.text

    ctx = phone()
    ctx.add_init_script(PROGRESS_PROBE)
    page = ctx.new_page()
    sign_in(page, "admin")
    page.goto("/#/admin")
    page.get_by_role("link", name="监督主题").click()
    topic = page.locator("li.topic").filter(has_text="竣工验收（线下）")
    expect(topic).to_contain_text("提议")
    shots(page, "admin-topics")
    topic.get_by_role("button", name="上线").click()
    expect(page.locator("li.topic").filter(has_text="竣工验收（线下）")).to_contain_text("在线")
    assert live.api("GET", f"/api/topics/{made.json()['id']}", "admin").json()["state"] == "online"

    page.goto("/#/admin/import")
    page.get_by_label("业务数据表").select_option("pwa_payments")
    rows = "account_no,amount\n" + "".join(f"A{i:05d},{i}.5\n" for i in range(20000)) + "A99999,lots\n"
    page.get_by_label("文件", exact=True).set_input_files(
        {"name": "payments.csv", "mimeType": "text/csv", "buffer": rows.encode()}
    )
    page.get_by_role("button", name="上传并导入").click()
    report = page.locator(".alert-error")
    expect(report).to_contain_text("已拒收")
    expect(report.locator("table")).to_contain_text("20002")  # the bad row, counted with its header
    # the row, the column by its Chinese label, and what was expected — in Chinese
    expect(report.locator("tbody tr").first).to_contain_text("缴费金额")
    expect(report.locator("tbody tr").first).to_contain_text("「lots」不是数字（如 120.50）")
    expect(page.get_by_label("业务数据表")).not_to_contain_text("pwa_payments")
    refused = report.locator("tbody").inner_text().replace("「lots」", "")  # its own value aside
    assert visible_faults(refused) == []
    shots(page, "admin-import-refused", full_page=True)
    progress = page.evaluate("window.__progress")
    assert progress and progress[-1][0] == progress[-1][1] > len(rows)

    page.get_by_label("只导入合格的行（否则有任何错误行则整批不导入）").check()
    page.get_by_role("button", name="上传并导入").click()
    expect(page.locator(".alert-ok")).to_contain_text("导入 20,000 行")
    table = live.api("GET", "/api/data/tables/pwa_payments", "admin").json()
    assert table["rows"] == 20000


def test_admin_calendar_override_and_a_broadcast_read_by_a_manager(live, phone, shots):
    page = phone().new_page()
    sign_in(page, "admin")
    page.goto("/#/admin/calendar?year=2027")
    expect(page.get_by_role("heading", name="工作日历")).to_be_visible()
    page.get_by_label("日期").fill("2027-02-11")
    page.get_by_label("类型").select_option("holiday")
    page.get_by_label("说明").fill("春节")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".cal-row")).to_contain_text("春节")
    days = live.api("GET", "/api/calendar/overrides?year=2027", "admin").json()
    assert [(d["day"], d["kind"]) for d in days] == [("2027-02-11", "holiday")]

    page.goto("/#/admin/broadcasts/new")
    page.get_by_role("button", name="节前廉洁提醒").click()
    expect(page.get_by_label("标题")).to_have_value("节前廉洁提醒")
    page.get_by_label("正文").fill("春节将至，请严守廉洁纪律。")
    page.get_by_label("廉洁教育学时（选填）").fill("1.5")
    page.get_by_label("城关供电所").check()
    shots(page, "broadcast-compose", full_page=True)
    page.get_by_role("button", name="发布").click()
    page.get_by_role("dialog", name="发布这条通知？").get_by_role("button", name="发送给").click()
    expect(page.get_by_role("heading", name="节前廉洁提醒")).to_be_visible()
    expect(page.locator(".ratio-box").first).to_contain_text("已读 0 /")

    reader = phone().new_page()
    sign_in(reader, "manager")
    reader.goto("/#/notifications?tab=broadcasts")
    reader.get_by_role("link", name="节前廉洁提醒").click()
    expect(reader.locator(".broadcast-body")).to_have_text("春节将至，请严守廉洁纪律。")
    expect(reader.get_by_text("已读于")).to_be_visible()
    # a lesson: studied once, its hours in 我的
    reader.get_by_role("button", name="学习完成（记 1.5 学时）").click()
    expect(reader.locator(".lesson")).to_contain_text("已记入 1.5 学时")
    shots(reader, "broadcast-read")
    reader.goto("/#/me")
    expect(reader.locator(".education")).to_contain_text("近12个月已学习 1.5 学时（要求 8 学时）")
    expect(reader.locator(".education")).to_contain_text("还差 6.5 学时")
    shots(reader, "me-education")

    page.reload()
    expect(page.locator(".ratio-box").first).to_contain_text("已读 1 /")
    shots(page, "broadcast-stats", full_page=True)
