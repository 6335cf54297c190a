"""B.11, B.7, B.8 tied to the topic's lifecycle: the form files the topic's request; its last
signature applies it (a new rule version, the exit); a return rejects the request."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.data.store import BusinessStore
from tests.engine.helpers import zero_usage_topic
from tests.forms.conftest import call, has, pdf_text, sign

NEW = {"measure": "zero_days", "direction": "above", "high": 5, "medium": 3, "low": 2}


@pytest.fixture(autouse=True)
def _close_stores():
    yield
    BusinessStore.close_all()


async def test_threshold_change_applies_when_the_last_step_approves(client, sessions, db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path)
    body = {"topic_id": topic_id, "thresholds": NEW, "reason": "低风险预警过多，核实后多为正常用电"}
    await call(client, sessions, "POST", "/api/forms/b11", "inspector", 403, json=body)
    form = await call(client, sessions, "POST", "/api/forms/b11", "head", 201, json=body)
    assert [(s["role"], s["box"]) for s in form["steps"]] == [
        ("head", "business_head_opinion"),
        ("inspector", "discipline_opinion"),
        ("expert", "expert_opinion"),
    ]
    requests = await call(client, sessions, "GET", f"/api/topics/{topic_id}/requests", "admin")
    assert [(r["kind"], r["state"]) for r in requests] == [("threshold_change", "open")]
    # the expert cannot approve before the department and discipline
    refused = await sign(client, sessions, form, 2, "admin", "同意", status=409)
    assert refused["code"] == "step_out_of_order"
    await sign(client, sessions, form, 0, "head", "同意调整")
    assert (await sign(client, sessions, form, 1, "head", "同意", status=403))["code"] == "wrong_signer"
    await sign(client, sessions, form, 1, "inspector", "无异议")
    versions = await call(client, sessions, "GET", f"/api/topics/{topic_id}/versions", "admin")
    assert len(versions) == 1  # not applied before the last step
    done = await sign(client, sessions, form, 2, "admin", "经专家组评审同意")
    assert done["state"] == "approved"
    versions = await call(client, sessions, "GET", f"/api/topics/{topic_id}/versions", "admin")
    assert [v["thresholds"]["low"] for v in versions] == [1, 2]
    topic = await call(client, sessions, "GET", f"/api/topics/{topic_id}", "admin")
    assert topic["current_version"]["thresholds"] == NEW
    (request,) = await call(client, sessions, "GET", f"/api/topics/{topic_id}/requests", "admin")
    assert request["state"] == "approved" and request["decision_note"] == "经专家组评审同意"
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{form['id']}/pdf", "head"))
    has(
        text,
        "主题风险等级阈值变更申请单",
        "申请部门：城关供电所",
        "监督主题名称Zero usage days",
        "原阈值高风险：不低于 3；中风险：不低于 2；低风险：不低于 1",
        "变更阈值及变更原因高风险：不低于 5；中风险：不低于 3；低风险：不低于 2",
        "低风险预警过多",
        "业务部门负责人意见同意调整",
        "纪检监察部门意见无异议",
        "主题专家组意见经专家组评审同意",
    )


async def test_a_returned_rule_optimisation_rejects_the_request(client, sessions, db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path)
    body = {"topic_id": topic_id, "reason": "周期改为每周", "thresholds": NEW, "period": "weekly"}
    form = await call(client, sessions, "POST", "/api/forms/b7", "head", 201, json=body)
    assert [s["box"] for s in form["steps"]] == [
        "department_opinion",
        "discipline_opinion",
        "leader_opinion",
        "secretary_opinion",
    ]
    await sign(client, sessions, form, 0, "head", "同意")
    await sign(client, sessions, form, 1, "inspector", "同意")
    back = await sign(client, sessions, form, 2, "committee", "调整依据不足", approve=False)
    assert back["state"] == "returned"
    (request,) = await call(client, sessions, "GET", f"/api/topics/{topic_id}/requests", "admin")
    assert request["state"] == "rejected"
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{form['id']}/pdf", "committee"))
    has(text, "规则优化联系单", "调整原因周期改为每周", "监督周期：每周", "分管领导意见调整依据不足", "退回")


async def test_exit_notice_retires_the_topic(client, sessions, db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path)
    units = await call(client, sessions, "GET", "/api/units", "admin")
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    on = (date.today() + timedelta(days=30)).isoformat()
    body = {"topic_id": topic_id, "unit_id": station, "reason": "连续6个月均为低风险", "exit_on": on}
    await call(client, sessions, "POST", "/api/forms/b8", "head", 403, json=body)
    form = await call(client, sessions, "POST", "/api/forms/b8", "admin", 201, json=body)
    await sign(client, sessions, form, 0, "head", "同意出库")
    await sign(client, sessions, form, 1, "inspector", "同意")
    await sign(client, sessions, form, 2, "admin", "同意出库")
    topic = await call(client, sessions, "GET", f"/api/topics/{topic_id}", "admin")
    assert topic["state"] == "retired"
    text = pdf_text(await call(client, sessions, "GET", f"/api/forms/{form['id']}/pdf", "admin"))
    has(
        text,
        "监督主题出库告知单",
        "申请原因连续6个月均为低风险",
        "近6个月的风险监督情况",
        "运监中心意见同意出库",
    )
