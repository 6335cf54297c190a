"""The personal ladder: notice → inquiry → recommendation, answers, sweep, visits, appeals, scope."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.ladder.models import LadderCase
from backend.ladder.service import sweep
from tests.warnings.conftest import TRAIL, Seeder, told


async def person(db, employee_no: str) -> int:
    return (await Seeder(db).person(employee_no))[0]


async def issue(client, sessions, db, tier: str = "notice", **over) -> dict:
    body = {
        "person_id": await person(db, "E0005"),
        "tier": tier,
        "subject": "多户电费由同一银行卡代缴",
        "problem": "群众反映：所辖12户电费由同一张银行卡代缴，请说明情况",
        "requirements": "七个工作日内书面说明",
        **over,
    }
    r = await client.post("/api/ladder", json=body, headers=await sessions.headers("inspector"))
    assert r.status_code == 201, r.text
    return r.json()


def answer(**over) -> dict:
    return {"client_id": str(uuid.uuid4()), "text": "代缴为客户委托，已补签委托书", **over}


async def test_notice_answered_then_lifted_by_a_visit(client, sessions, db):
    case = await issue(client, sessions, db)
    assert (case["tier"], case["colour"], case["state"]) == ("notice", "blue", "open")
    assert case["due_at"].endswith("+08:00") and not case["overdue"]
    manager = await person(db, "E0005")
    assert (await told(db, "ladder.step")) == {manager: "subject"}
    mine = await client.get("/api/ladder", headers=await sessions.headers("manager"))
    assert [c["id"] for c in mine.json()] == [case["id"]]
    h = await sessions.headers("manager")
    file = (await client.get(f"/api/ladder/{case['id']}", headers=h)).json()
    assert file["actions"] == ["answer", "appeal"]
    body = answer()
    r = await client.post(f"/api/ladder/{case['id']}/answer", json=body, headers=h)
    assert r.status_code == 201 and r.json()["state"] == "answered"
    again = await client.post(f"/api/ladder/{case['id']}/answer", json=body, headers=h)
    assert again.status_code == 200 and again.json()["state"] == "answered"
    other = await client.post(f"/api/ladder/{case['id']}/answer", json={**body, "text": "x"}, headers=h)
    assert (other.status_code, other.json()["code"]) == (409, "client_id_reused")
    second = await client.post(f"/api/ladder/{case['id']}/answer", json=answer(), headers=h)
    assert (second.status_code, second.json()["code"]) == (409, "invalid_transition")
    inspector = await sessions.headers("inspector")
    assert (await told(db, "ladder.step")).get(await person(db, "E0003")) == "inspector"
    r = await client.post(
        f"/api/ladder/{case['id']}/visit", json={"note": "已整改", "lifted": True}, headers=inspector
    )
    assert r.status_code == 200 and r.json()["state"] == "lifted" and r.json()["closed_at"]
    r = await client.post(f"/api/ladder/{case['id']}/escalate", json={"reason": "x"}, headers=inspector)
    assert (r.status_code, r.json()["code"]) == (409, "case_closed")
    file = (await client.get(f"/api/ladder/{case['id']}", headers=inspector)).json()
    assert [s["kind"] for s in file["steps"]] == ["issued", "answered", "lifted"]
    assert file["steps"][1]["channel"] == "api" and file["actions"] == []
    async with db.session() as s:
        actions = {a for (a,) in (await s.execute(select(AuditRecord.action))).all()}
    assert {"ladder.issued", "ladder.answered", "ladder.lifted", "ladder.view"} <= actions


async def test_no_answer_moves_up_a_tier_and_the_top_is_reported_once(client, sessions, db, settings):
    case = await issue(client, sessions, db)
    async with db.session() as s:
        row = await s.get(LadderCase, case["id"])
        later = row.due_at + timedelta(hours=1)
    async with db.session() as s:
        report = await sweep(s, TRAIL, settings, now=later)
    assert (report.escalated, report.overdue) == (1, 0)
    h = await sessions.headers("inspector")
    now_case = (await client.get(f"/api/ladder/{case['id']}", headers=h)).json()["case"]
    assert (now_case["tier"], now_case["colour"], now_case["state"]) == ("inquiry", "yellow", "open")
    # an inquiry is answered with measures
    r = await client.post(
        f"/api/ladder/{case['id']}/answer", json=answer(), headers=await sessions.headers("manager")
    )
    assert (r.status_code, r.json()["code"]) == (400, "measures_required")
    async with db.session() as s:
        row = await s.get(LadderCase, case["id"])
        later = row.due_at + timedelta(hours=1)
    async with db.session() as s:
        await sweep(s, TRAIL, settings, now=later)
    top = (await client.get(f"/api/ladder/{case['id']}", headers=h)).json()["case"]
    assert top["tier"] == "recommendation" and top["colour"] == "red"
    async with db.session() as s:
        row = await s.get(LadderCase, case["id"])
        later = row.due_at + timedelta(hours=1)
    for expected in (1, 0):
        async with db.session() as s:
            assert (await sweep(s, TRAIL, settings, now=later)).overdue == expected
    file = (await client.get(f"/api/ladder/{case['id']}", headers=h)).json()
    assert [s["kind"] for s in file["steps"]] == ["issued", "escalated", "escalated", "overdue"]
    assert file["steps"][1]["actor_label"] == "ladder" and file["steps"][1]["data"]["from_tier"] == "notice"
    assert await person(db, "E0003") in await told(db, "ladder.overdue")
    r = await client.post(f"/api/ladder/{case['id']}/escalate", json={"reason": "x"}, headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "top_tier")


async def test_recommendation_one_extension_of_at_most_a_month(client, sessions, db):
    h = await sessions.headers("inspector")
    notice = await issue(client, sessions, db)
    r = await client.post(
        f"/api/ladder/{notice['id']}/extend", json={"until": "2030-01-01", "reason": "r"}, headers=h
    )
    assert (r.status_code, r.json()["code"]) == (409, "not_recommendation")
    case = await issue(client, sessions, db, tier="recommendation")
    assert case["colour"] == "red" and not case["due_provisional"]
    due = case["due_at"][:10]
    due_day = date.fromisoformat(due)
    bad = [
        ("2026-02-30", "invalid_date"),
        ("next month", "invalid_date"),
        (due, "extension_not_later"),
        ((due_day + timedelta(days=40)).isoformat(), "extension_too_long"),
    ]
    for until, code in bad:
        r = await client.post(
            f"/api/ladder/{case['id']}/extend", json={"until": until, "reason": "r"}, headers=h
        )
        assert (r.status_code, r.json()["code"]) == (400, code), until
    until = (due_day + timedelta(days=20)).isoformat()
    r = await client.post(
        f"/api/ladder/{case['id']}/extend", json={"until": until, "reason": "材料待补"}, headers=h
    )
    assert r.status_code == 200 and r.json()["extended"] and r.json()["due_at"].startswith(until)
    r = await client.post(f"/api/ladder/{case['id']}/extend", json={"until": until, "reason": "r"}, headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "already_extended")


async def test_appeal_is_answered_and_an_upheld_one_withdraws_the_case(client, sessions, db):
    case = await issue(client, sessions, db, tier="inquiry")
    h, inspector = await sessions.headers("manager"), await sessions.headers("inspector")
    r = await client.post(f"/api/ladder/{case['id']}/appeal", json={"text": "代缴系客户委托"}, headers=h)
    assert r.status_code == 201, r.text
    appeal = r.json()
    assert await person(db, "E0003") in await told(db, "ladder.appeal")
    r = await client.post(f"/api/ladder/{case['id']}/appeal", json={"text": "again"}, headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "appeal_pending")
    r = await client.post(f"/api/ladder/{case['id']}/appeal", json={"text": "x"}, headers=inspector)
    assert (r.status_code, r.json()["code"]) == (403, "not_your_case")
    url = f"/api/ladder/{case['id']}/appeals/{appeal['id']}/answer"
    r = await client.post(url, json={"answer": "经核实委托属实", "outcome": "upheld"}, headers=inspector)
    assert r.status_code == 200 and r.json()["outcome"] == "upheld"
    r = await client.post(url, json={"answer": "again", "outcome": "rejected"}, headers=inspector)
    assert (r.status_code, r.json()["code"]) == (409, "appeal_answered")
    r = await client.post(url, json={"answer": "x", "outcome": "maybe"}, headers=inspector)
    assert r.status_code == 400
    file = (await client.get(f"/api/ladder/{case['id']}", headers=h)).json()
    assert file["case"]["state"] == "withdrawn" and file["appeals"][0]["answer"] == "经核实委托属实"
    assert await told(db, "ladder.appeal_answered") == {await person(db, "E0005"): "subject"}
    r = await client.post(f"/api/ladder/{case['id']}/answer", json=answer(measures="m"), headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "case_closed")


async def test_a_rejected_appeal_leaves_the_case_standing(client, sessions, db):
    case = await issue(client, sessions, db)
    h, inspector = await sessions.headers("manager"), await sessions.headers("inspector")
    appeal = (
        await client.post(f"/api/ladder/{case['id']}/appeal", json={"text": "不属实"}, headers=h)
    ).json()
    url = f"/api/ladder/{case['id']}/appeals/{appeal['id']}/answer"
    r = await client.post(url, json={"answer": "反映属实", "outcome": "rejected"}, headers=inspector)
    assert r.status_code == 200
    file = (await client.get(f"/api/ladder/{case['id']}", headers=h)).json()
    assert file["case"]["state"] == "open" and "appeal" in file["actions"]


async def test_scope_and_roles(client, sessions, db):
    seed = Seeder(db)
    case = await issue(client, sessions, db)
    for user in ("manager2", "head", "head2", "inspector2", "expert"):
        h = await sessions.headers(user)
        assert (await client.get(f"/api/ladder/{case['id']}", headers=h)).status_code == 404, user
        assert (await client.get("/api/ladder", headers=h)).json() == []
        r = await client.post(f"/api/ladder/{case['id']}/answer", json=answer(), headers=h)
        assert r.status_code == 404, user
    assert (
        await client.get(f"/api/ladder/{case['id']}", headers=await sessions.headers("committee"))
    ).status_code == 200
    manager = await person(db, "E0005")
    r = await client.post(
        "/api/ladder",
        json={"person_id": manager, "subject": "s", "problem": "p"},
        headers=await sessions.headers("inspector2"),
    )
    assert (r.status_code, r.json()["code"]) == (404, "person_not_found")
    r = await client.post(
        "/api/ladder",
        json={"person_id": manager, "subject": "s", "problem": "p"},
        headers=await sessions.headers("head"),
    )
    assert r.status_code == 403
    # the inspector cannot issue to themselves; warnings named must be the person's
    r = await client.post(
        "/api/ladder",
        json={"person_id": await person(db, "E0003"), "subject": "s", "problem": "p"},
        headers=await sessions.headers("inspector"),
    )
    assert (r.status_code, r.json()["code"]) == (403, "not_inspector")
    other = await seed.warning("E0101")
    r = await client.post(
        "/api/ladder",
        json={"person_id": manager, "subject": "s", "problem": "p", "warning_ids": [other]},
        headers=await sessions.headers("inspector"),
    )
    assert (r.status_code, r.json()["code"]) == (400, "warning_not_of_person")
    r = await client.post(
        "/api/ladder",
        json={"person_id": manager, "subject": "", "problem": "p", "tier": "level-9"},
        headers=await sessions.headers("inspector"),
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request")
    mine = await seed.warning("E0005")
    linked = await issue(client, sessions, db, warning_ids=[mine])
    assert linked["warning_ids"] == [mine]


async def test_two_sweeps_at_once_move_a_case_up_once(client, sessions, db, settings):
    case = await issue(client, sessions, db)
    async with db.session() as s:
        later = (await s.get(LadderCase, case["id"])).due_at + timedelta(hours=1)

    async def one():
        async with db.session() as s:
            return await sweep(s, TRAIL, settings, now=later)

    reports = await asyncio.gather(one(), one())
    assert sum(r.escalated for r in reports) == 1
    file = (await client.get(f"/api/ladder/{case['id']}", headers=await sessions.headers("inspector"))).json()
    assert file["case"]["tier"] == "inquiry"
    assert [s["kind"] for s in file["steps"]] == ["issued", "escalated"]
