"""The problem list (Shenyang §5.10): the whole lifecycle in order, refusals out of order, by the wrong
role and out of scope, a unit's own report, the effect summed, every step in the trail."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord


async def unit_id(client: Any, sessions: Any, name: str) -> int:
    units = (await client.get("/api/units", headers=await sessions.headers("inspector"))).json()
    return next(u["id"] for u in units if u["name"] == name)


async def me(client: Any, sessions: Any, user: str) -> int:
    return (await client.get("/api/auth/me", headers=await sessions.headers(user))).json()["person_id"]


async def step(client: Any, sessions: Any, user: str, pid: int, name: str, body: Any) -> Any:
    return await client.post(f"/api/problems/{pid}/{name}", json=body, headers=await sessions.headers(user))


async def test_a_problem_is_registered_classified_assigned_rectified_checked_closed_and_rechecked(
    client, sessions, db
):
    station = await unit_id(client, sessions, "城关供电所")
    body = {
        "unit_id": station,
        "origin": "inspection",
        "title": "抄表数据人工修改未留痕",
        "description": "检查发现营销系统 11 月有 23 条抄表示数被人工修改，无审批记录。",
    }
    r = await client.post("/api/problems", json=body, headers=await sessions.headers("inspector"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["state"] == "registered" and r.json()["number"].startswith("WT-")
    manager = await me(client, sessions, "manager")
    due = (date.today() + timedelta(days=30)).isoformat()

    # out of order, wrong role, out of scope
    r = await step(client, sessions, "inspector", pid, "assign", {"assignee_person_id": manager})
    assert r.status_code == 409 and r.json()["code"] == "out_of_order" and r.json()["needs"] == ["classified"]
    r = await step(client, sessions, "head", pid, "classify", {"category": "process"})
    assert r.status_code == 403 and r.json()["code"] == "not_your_step"
    r = await client.get(f"/api/problems/{pid}", headers=await sessions.headers("head2"))
    assert r.status_code == 404
    r = await step(client, sessions, "inspector2", pid, "classify", {"category": "process"})
    assert r.status_code == 404

    assert (
        await step(client, sessions, "inspector", pid, "classify", {"category": "process"})
    ).status_code == 200
    r = await step(client, sessions, "inspector", pid, "assign", {"assignee_person_id": manager})
    assert r.status_code == 200 and r.json()["problem"]["assignee_name"]
    # the person assigned sees it and plans; an inspector does not rectify
    r = await step(client, sessions, "inspector", pid, "plan", {"measures": "x", "due_on": due})
    assert r.status_code == 403
    r = await step(
        client,
        sessions,
        "manager",
        pid,
        "plan",
        {"measures": "建立修改审批流程，逐条补录说明", "due_on": due},
    )
    assert r.status_code == 200 and r.json()["problem"]["state"] == "rectifying"
    assert r.json()["problem"]["due_on"] == due
    r = await step(client, sessions, "inspector", pid, "check", {"passed": True, "note": "x"})
    assert r.status_code == 409 and r.json()["code"] == "out_of_order"
    r = await step(client, sessions, "manager", pid, "done", {"text": "23 条已补录说明"})
    assert r.status_code == 200
    # a failed check sends it back to rectifying
    r = await step(client, sessions, "inspector", pid, "check", {"passed": False, "note": "审批流程尚未上线"})
    assert r.status_code == 200 and r.json()["problem"]["state"] == "rectifying"
    assert (await step(client, sessions, "head", pid, "done", {"text": "审批流程已上线"})).status_code == 200
    r = await step(
        client, sessions, "inspector", pid, "check", {"passed": True, "note": "抽查 10 条均有审批"}
    )
    assert r.json()["problem"]["state"] == "checked"
    close = {
        "money_recovered": 12500.5,
        "problems_avoided": 3,
        "effect_note": "追回少计电费",
        "recheck_on": (date.today() + timedelta(days=90)).isoformat(),
    }
    r = await step(client, sessions, "manager", pid, "close", close)
    assert r.status_code == 403
    r = await step(client, sessions, "inspector", pid, "close", close)
    assert r.status_code == 200 and r.json()["problem"]["state"] == "closed"

    # a unit reports its own problem; a head may not register others', an employee none
    self_report = {**body, "origin": "self_report", "title": "自查：工单超时"}
    r = await client.post("/api/problems", json=self_report, headers=await sessions.headers("head"))
    assert r.status_code == 201 and r.json()["origin"] == "self_report"
    r = await client.post("/api/problems", json=body, headers=await sessions.headers("head"))
    assert r.status_code == 400 and r.json()["code"] == "self_report_only"
    r = await client.post("/api/problems", json=self_report, headers=await sessions.headers("manager"))
    assert r.status_code == 403
    other = await unit_id(client, sessions, "河口供电所")
    r = await client.post(
        "/api/problems", json={**self_report, "unit_id": other}, headers=await sessions.headers("head")
    )
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"

    # the effect, summed over the caller's scope (nothing of it for the other county)
    effect = (await client.get("/api/problems/effect", headers=await sessions.headers("inspector"))).json()
    assert effect == {
        "total": 2,
        "by_state": {"closed": 1, "registered": 1},
        "closed": 1,
        "money_recovered": 12500.5,
        "problems_avoided": 3,
    }
    effect = (await client.get("/api/problems/effect", headers=await sessions.headers("inspector2"))).json()
    assert effect["total"] == 0 and effect["money_recovered"] == 0

    # re-checked later: once fine, then it came back and is assigned again
    r = await step(client, sessions, "inspector", pid, "recheck", {"note": "复查未发现新的修改"})
    assert r.json()["problem"]["state"] == "closed" and r.json()["problem"]["rechecks"] == 1
    r = await step(
        client, sessions, "inspector", pid, "recheck", {"note": "又发现 2 条未审批修改", "relapsed": True}
    )
    file = r.json()
    assert file["problem"]["state"] == "assigned" and file["actions"] == []
    kinds = [s["kind"] for s in file["steps"]]
    assert kinds == [
        "registered",
        "classified",
        "assigned",
        "planned",
        "rectified",
        "check_failed",
        "rectified",
        "checked",
        "closed",
        "rechecked",
        "relapsed",
    ]
    async with db.session() as s:
        acts = set(
            (
                await s.execute(
                    select(AuditRecord.action).where(
                        col(AuditRecord.object_type) == "problem", col(AuditRecord.object_id) == str(pid)
                    )
                )
            ).scalars()
        )
    assert {f"problem.{k}" for k in kinds} <= acts
    # the assignee finds it in their list; an employee elsewhere does not
    mine = (await client.get("/api/problems", headers=await sessions.headers("manager"))).json()
    assert pid in [p["id"] for p in mine]
    theirs = (await client.get("/api/problems", headers=await sessions.headers("manager2"))).json()
    assert theirs == []


async def test_the_problem_list_exports_in_words_within_scope(client, sessions):
    station = await unit_id(client, sessions, "城关供电所")
    body = {
        "unit_id": station,
        "origin": "inspection",
        "title": "物资领用无签收",
        "description": "抽查 5 单无签收",
    }
    r = await client.post("/api/problems", json=body, headers=await sessions.headers("inspector"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    await step(client, sessions, "inspector", pid, "classify", {"category": "control"})

    async def exported(user: str, **filters: Any) -> list[tuple[Any, ...]]:
        headers = await sessions.headers(user)
        r = await client.post("/api/exports", json={"list": "problems", "filters": filters}, headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["title"] == "问题清单"
        got = await client.get(r.json()["download_url"], headers=headers)
        sheet = load_workbook(io.BytesIO(got.content), read_only=True).worksheets[0]
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]

    rows = await exported("inspector")
    assert rows[0][:6] == ("编号", "问题", "单位", "来源", "分类", "状态")
    assert rows[1][1:6] == ("物资领用无签收", "城关供电所", "监督检查", "防控措施缺失", "已分类")
    assert await exported("inspector", state="closed") == [rows[0]]  # the screen's filter
    assert await exported("inspector2") == [rows[0]]  # another county's inspector: none of it
