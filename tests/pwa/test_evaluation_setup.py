"""Setting the "1+3" evaluation up in the PWA (issue 20), at 390×844 in zh-CN and on a PC: the
inspector creates a category with its first library, adds a person with their evaluators, saves
the next library version, and computes a quarterly round on the earlier version; the admin finds
it from their hub; a head is not offered it, and a topic expert (who manages libraries but does
not choose the people evaluated) is not offered the people."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.pwa.helpers import person_id, signed_in
from tests.pwa.test_explained import visible_faults

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


def last_quarter() -> tuple[int, int, date]:
    """The quarter just ended in Beijing (what the round form offers first) and its first day."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    q = (today.month - 1) // 3
    year, quarter = (today.year - 1, 4) if q == 0 else (today.year, q)
    return year, quarter, date(year, 3 * quarter - 2, 1)


def test_an_inspector_sets_up_a_category_its_people_a_new_version_and_a_round(live, phone, shots):
    ctx, page, problems = signed_in(phone, "inspector")
    page.locator("nav.tabs a", has_text="我的").click()
    page.get_by_role("link", name="廉洁评价").click()
    page.get_by_role("link", name="评价设置").click()
    expect(page.get_by_role("heading", name="评价设置")).to_be_visible()
    page.get_by_role("link", name="新建评价类别").click()

    page.get_by_label("类别名称").fill("抄核收")
    page.locator("#ev-tag-1-name").fill("主动拒收礼品礼金")
    page.locator("#ev-tag-1-coef").fill("5")
    page.get_by_role("button", name="添加标签").click()
    page.locator("#ev-tag-2-name").fill("违规收受礼品")
    page.locator("#ev-tag-2-dim").select_option(label="廉洁问题")
    page.locator("#ev-tag-2-coef").fill("10")
    page.locator("#ev-tag-2-dir").select_option(label="减分")
    second = page.locator("fieldset.ev-tag-def").nth(1)
    second.get_by_label("部门负责人").uncheck()
    second.get_by_label("须填写依据").check()
    second.get_by_label("仅纪检可见").check()
    shots(page, "evaluation-setup-new", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []
    page.get_by_role("button", name="创建类别").click()

    expect(page.get_by_role("heading", name="抄核收·评价对象")).to_be_visible()
    (category,) = live.api("GET", "/api/evaluation/categories", "inspector").json()
    tags = category["library"]["content"]["tags"]
    assert [(t["name"], t["dimension"], t["coefficient"], t["direction"]) for t in tags] == [
        ("主动拒收礼品礼金", "behaviour", 5, "plus"),
        ("违规收受礼品", "problems", 10, "minus"),
    ]
    assert tags[1]["filers"] == ["inspector"] and tags[1]["evidence_required"] and tags[1]["confidential"]
    assert not tags[0]["confidential"] and tags[0]["filers"] == ["head", "inspector"]

    page.get_by_label("姓名或工号").fill("E0005")
    page.get_by_role("button", name="查找").click()
    page.locator("input[name=ev-subject-person]").first.check()
    head, inspector, manager = (person_id(live, u) for u in ("head", "inspector", "manager"))
    expect(page.locator(f'input[type=checkbox][value="{head}"]')).to_be_checked()
    expect(page.locator(f'input[type=checkbox][value="{inspector}"]')).to_be_checked()
    shots(page, "evaluation-setup-subjects", full_page=True)
    page.get_by_role("button", name="添加为评价对象").click()
    expect(page.locator("li.ev-subject")).to_contain_text("评价人：")
    assert visible_faults(page.locator("main").inner_text()) == []
    (subject,) = live.api("GET", f"/api/evaluation/categories/{category['id']}/subjects", "inspector").json()
    assert subject["person_id"] == manager and sorted(subject["evaluator_ids"]) == sorted([head, inspector])

    # the next version: the first tag is now worth 6
    page.goto(f"/#/evaluation/setup/{category['id']}/library")
    expect(page.get_by_role("heading", name="抄核收·标签库")).to_be_visible()
    expect(page.locator("#ev-tag-2-name")).to_have_value("违规收受礼品")
    page.locator("#ev-tag-1-coef").fill("6")
    page.get_by_label("修改说明").fill("拒收礼品加分提高")
    page.get_by_role("button", name="保存为第 2 版").click()
    expect(page.get_by_role("heading", name="评价设置")).to_be_visible()
    v2 = live.api("GET", f"/api/evaluation/categories/{category['id']}/library", "inspector").json()
    assert v2["version"] == 2 and v2["content"]["tags"][0]["coefficient"] == 6
    assert [t["code"] for t in v2["content"]["tags"]] == [t["code"] for t in tags]  # same tags, new version

    # a tag filed in the quarter just ended, then the round on version 1 (5 points, not 6)
    year, quarter, first_day = last_quarter()
    filed = {"client_id": "setup-walk-tag-0001", "category_id": category["id"], "person_id": manager,
             "tag_code": tags[0]["code"], "occurred_on": first_day.isoformat(), "note": "退回"}  # fmt: skip
    assert live.api("POST", "/api/evaluation/tags", "head", json=filed).status_code == 201
    page.locator("li.ev-category").get_by_role("link", name="开展评价").click()
    expect(page.get_by_label("轮次名称")).to_have_value(f"{year}年{QUARTER_NAMES[quarter]}")
    page.get_by_label("标签库版本").select_option(label="标签库第 1 版")
    shots(page, "evaluation-setup-round", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []
    page.get_by_role("button", name="计算得分").click()
    expect(page.get_by_role("heading", name=f"抄核收 · {year}年{QUARTER_NAMES[quarter]}")).to_be_visible()
    expect(page.locator("main")).to_contain_text("标签库第 1 版")
    expect(page.locator("li.ev-score")).to_contain_text("65")  # 60 + 5 (version 1's coefficient)
    (r,) = live.api("GET", "/api/evaluation/rounds", "inspector").json()
    assert r["library_version"] == 1 and r["period_start"] == first_day.isoformat()

    # the same screens on a PC
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/#/evaluation/setup/{category['id']}/library")
    expect(page.locator("#ev-tag-1-coef")).to_have_value("6")
    shots(page, "evaluation-setup-library-pc", full_page=True)
    assert problems == []
    ctx.close()


def test_the_admin_finds_set_up_in_their_hub_and_a_head_or_an_expert_is_not_offered_too_much(live, phone):
    _, admin, problems = signed_in(phone, "admin")
    admin.goto("/#/admin")
    admin.get_by_role("link", name="评价设置").click()
    expect(admin.get_by_role("link", name="新建评价类别")).to_be_visible()

    _, head, seen = signed_in(phone, "head")
    head.goto("/#/evaluation")
    expect(head.get_by_role("heading", name="廉洁评价")).to_be_visible()
    expect(head.get_by_role("link", name="评价设置")).to_have_count(0)
    head.goto("/#/evaluation/setup")
    expect(head.get_by_role("heading", name="您没有权限查看此页面")).to_be_visible()
    head.goto("/#/evaluation/setup/new")
    expect(head.get_by_role("heading", name="您没有权限查看此页面")).to_be_visible()

    made = live.api("POST", "/api/evaluation/categories", "inspector", json={
        "code": "cb", "name": "物资采购", "library": {"tags": [{"code": "t1", "name": "主动拒收礼品礼金",
        "dimension": "behaviour", "coefficient": 5, "direction": "plus", "filers": ["head"]}]}})  # fmt: skip
    assert made.status_code == 201, made.text
    _, expert, also = signed_in(phone, "expert")  # a topic expert (and a head): libraries, not people
    expert.goto("/#/evaluation/setup")
    card = expert.locator("li.ev-category")
    expect(card.get_by_role("link", name="修改标签库")).to_be_visible()
    expect(card.get_by_role("link", name="评价对象")).to_have_count(0)
    expert.goto(f"/#/evaluation/setup/{made.json()['id']}/subjects")
    expect(expert.get_by_role("heading", name="您没有权限查看此页面")).to_be_visible()
    assert problems == [] and seen == [] and also == []


def test_an_inspector_adds_everyone_holding_a_post_at_once(live, phone, shots):
    made = live.api("POST", "/api/evaluation/categories", "inspector", json={
        "code": "cm", "name": "业扩报装", "library": {"tags": [{"code": "t1", "name": "主动拒收礼品礼金",
        "dimension": "behaviour", "coefficient": 5, "direction": "plus", "filers": ["head"]}]}})  # fmt: skip
    assert made.status_code == 201, made.text
    _, page, problems = signed_in(phone, "inspector")
    page.goto(f"/#/evaluation/setup/{made.json()['id']}/subjects")
    page.get_by_label("岗位").select_option(label="客户经理")
    page.get_by_role("button", name="添加该岗位全部人员").click()
    expect(page.get_by_text(re.compile(r"已添加 \d+ 名评价对象"))).to_be_visible()
    subjects = live.api("GET", f"/api/evaluation/categories/{made.json()['id']}/subjects", "inspector").json()
    assert len(subjects) >= 2 and {s["post_name"] for s in subjects} == {"客户经理"}
    expect(page.locator("li.ev-subject")).to_have_count(len(subjects))
    expect(page.locator("li.ev-subject").first).to_contain_text("评价人：")
    shots(page, "evaluation-setup-by-post", full_page=True)
    assert visible_faults(page.locator("main").inner_text()) == []

    # again: nobody is left, said in plain words at the form
    page.get_by_label("岗位").select_option(label="客户经理")
    page.get_by_role("button", name="添加该岗位全部人员").click()
    expect(page.locator("main")).to_contain_text("您负责范围内担任该岗位的人员都已是评价对象")
    assert problems == []
