"""Campaigns: opening, answering as you go, resuming after a restart, submitting once, windows,
late and reopened submissions, reminders, progress — and bad input storing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from backend.app import create_app
from backend.audit.service import AuditTrail
from backend.checkups.crypto import Sealer
from backend.checkups.models import CheckupNotice, CheckupResponse, CheckupResult
from backend.checkups.service import CheckupService
from backend.events.models import Event, EventRecipient
from backend.kernel.access import Principal, Role
from backend.kernel.db import Database
from backend.kernel.errors import AppError
from tests.checkups.conftest import ITEM_CODES, healthy_answers, iso
from tests.conftest import TEST_SECRET


async def _mine(kit, user: str, cid: int) -> dict:
    r = await kit.client.get(f"/api/checkups/mine/{cid}", headers=await kit.h(user))
    assert r.status_code == 200, r.text
    return r.json()


async def test_admin_opens_campaign_for_subtrees_and_people_are_invited(kit):
    campaign = await kit.open_campaign(units=("C01",))
    assert campaign["window"] == "open"
    assert campaign["submitted"] == 0
    # C01 and everything below it: the county company, its departments and two stations
    progress = (
        await kit.client.get(
            f"/api/checkups/campaigns/{campaign['id']}/progress", headers=await kit.h("admin")
        )
    ).json()
    codes = {u["unit_code"] for u in progress["units"]}
    assert codes <= {"C01", "C01-YX", "C01-CW", "C01-WZ", "C01-YJ", "C01-S1", "C01-S2"}
    assert {"C01-S1", "C01-S2"} <= codes and not any(c.startswith("C02") for c in codes)
    assert progress["participants"] == campaign["participants"] > 20
    notices = (await kit.client.get("/api/checkups/notices", headers=await kit.h("manager"))).json()
    assert [n["kind"] for n in notices] == ["invitation"]
    # manager2 (C02) is not a participant: no notice, and the check-up does not exist for them
    assert (await kit.client.get("/api/checkups/notices", headers=await kit.h("manager2"))).json() == []
    r = await kit.client.get(f"/api/checkups/mine/{campaign['id']}", headers=await kit.h("manager2"))
    assert r.status_code == 404 and r.json()["code"] == "checkup_not_found"


async def test_bad_campaigns_are_refused(kit):
    admin = await kit.h("admin")
    base = {
        "year": 2026,
        "title": "t",
        "questionnaire_id": kit.questionnaire_id,
        "opens_at": iso(timedelta(0)),
        "closes_at": iso(timedelta(days=3)),
        "unit_codes": ["C01"],
    }
    cases = [
        ({"unit_codes": ["NOPE"]}, "unknown_unit"),
        ({"questionnaire_id": 999}, "unknown_questionnaire"),
        ({"closes_at": iso(timedelta(days=-3))}, "window_invalid"),
        ({"late_until": iso(timedelta(days=1))}, "window_invalid"),
        ({"opens_at": "2026-01-01T00:00:00"}, "invalid_request"),  # no time zone
        ({"surprise": 1}, "invalid_request"),
    ]
    for change, code in cases:
        r = await kit.client.post("/api/checkups/campaigns", json=base | change, headers=admin)
        assert r.status_code == 400, (change, r.text)
        assert r.json()["code"] == code, change
    listed = (await kit.client.get("/api/checkups/campaigns", headers=admin)).json()
    assert listed == []  # nothing half-created
    r = await kit.client.post("/api/checkups/campaigns", json=base, headers=await kit.h("inspector"))
    assert r.status_code == 403


async def test_save_as_you_go_and_resume_after_restart(kit, settings):
    cid = (await kit.open_campaign())["id"]
    view = await _mine(kit, "manager", cid)
    assert view["total"] == 20 and view["answered"] == 0 and view["next_index"] == 0
    assert view["questions"][0]["text_zh"] and view["questions"][0]["text_en"]
    assert len(view["scale"]) == 5 and view["can_answer"] is True
    # the bot style: one answer per message
    first = ITEM_CODES[:5]
    for code in first:
        r = await kit.answer("manager", cid, {code: 4})
        assert r.status_code == 200, r.text
    assert r.json() == {"status": "in_progress", "answered": 5, "total": 20, "next_index": 5}
    # a fresh process on the same database (a restart) resumes where the person stopped
    db2 = Database(settings)
    try:
        async with AsyncTestClient(app=create_app(settings, database=db2)) as c2:
            token = (
                await c2.post("/api/auth/login", json={"username": "manager", "password": "demo"})
            ).json()
            r = await c2.get(
                f"/api/checkups/mine/{cid}", headers={"Authorization": f"Bearer {token['access_token']}"}
            )
            again = r.json()
    finally:
        await db2.dispose()
    assert again["answered"] == 5 and again["next_index"] == 5 and again["status"] == "in_progress"
    assert [q["answer"] for q in again["questions"][:6]] == [4, 4, 4, 4, 4, None]
    # change one answer and clear another
    r = await kit.answer("manager", cid, {ITEM_CODES[0]: 2, ITEM_CODES[1]: None})
    assert r.json()["answered"] == 4 and r.json()["next_index"] == 1
    mine = (await kit.client.get("/api/checkups/mine", headers=await kit.h("manager"))).json()
    assert [(m["campaign_id"], m["status"], m["answered"], m["total"]) for m in mine] == [
        (cid, "in_progress", 4, 20)
    ]


async def _principal(kit, user: str) -> Principal:
    me = (await kit.client.get("/api/auth/me", headers=await kit.h(user))).json()
    unit = me["unit_id"]
    return Principal(0, "", me["person_id"], unit, frozenset({Role.employee}), frozenset({unit}))


async def test_answer_by_position_is_the_same_save_as_the_pwas(kit, db, settings):
    """The chat answers by a statement's position: the service maps it to the item, checks and saves
    it as the PWA's PUT does, and says what comes next without the answers given."""
    cid = (await kit.open_campaign(units=("C01",)))["id"]
    manager, outsider = await _principal(kit, "manager"), await _principal(kit, "manager2")
    async with db.session() as s:
        svc = CheckupService(s, AuditTrail(TEST_SECRET), Sealer.from_settings(settings))
        step = await svc.next_step(cid, manager)
        assert step.question is not None and (step.question.index, step.question.code) == (0, ITEM_CODES[0])
        assert (step.status, step.answered, step.total, len(step.scale), step.can_answer) == (
            "pending",
            0,
            20,
            5,
            True,
        )
        step = await svc.answer_at(cid, 0, 4, manager)
        assert step.question is not None and (step.question.index, step.question.code) == (1, ITEM_CODES[1])
        assert (step.status, step.answered, step.question.answer) == ("in_progress", 1, None)
        for user, index, value, code in [
            (manager, 20, 1, "unknown_position"),  # 20 statements: 0..19
            (manager, -1, 1, "unknown_position"),
            (manager, 1, 6, "answer_out_of_range"),
            (manager, 1, 0, "answer_out_of_range"),
            (outsider, 1, 3, "checkup_not_found"),  # manager2 (C02) is not in a C01 campaign
        ]:
            with pytest.raises(AppError) as refused:
                await svc.answer_at(cid, index, value, user)
            assert refused.value.code == code, (index, value)
        with pytest.raises(AppError) as refused:
            await svc.next_step(cid, outsider)
        assert refused.value.code == "checkup_not_found"
    view = await _mine(kit, "manager", cid)  # the PWA sees the answer given by position
    assert view["answered"] == 1 and [q["answer"] for q in view["questions"][:2]] == [4, None]
    assert (await kit.answer("manager", cid, {c: 2 for c in ITEM_CODES[1:]})).status_code == 200
    async with db.session() as s:
        svc = CheckupService(s, AuditTrail(TEST_SECRET), Sealer.from_settings(settings))
        done = await svc.next_step(cid, manager)
        assert (done.answered, done.question) == (20, None)
        await svc.submit(cid, manager)
        with pytest.raises(AppError) as refused:
            await svc.answer_at(cid, 0, 1, manager)
        assert refused.value.code == "already_submitted"
        assert (await svc.next_step(cid, manager)).status == "submitted"


async def test_bad_answers_store_nothing(kit, db):
    cid = (await kit.open_campaign())["id"]
    assert (await kit.answer("manager", cid, {"C1": 3})).status_code == 200
    cases = [
        ({"C2": 6}, 400, "answer_out_of_range"),
        ({"C2": 0}, 400, "answer_out_of_range"),
        ({"C2": 4, "C3": 9}, 400, "answer_out_of_range"),  # the good one is not kept either
        ({"C2": 4, "Z9": 1}, 400, "unknown_item"),
        ({"C2": "4"}, 400, "invalid_request"),
        ({"C2": 2.5}, 400, "invalid_request"),
        ({"C2": True}, 400, "invalid_request"),
    ]
    for answers, status, code in cases:
        r = await kit.answer("manager", cid, answers)
        assert r.status_code == status, (answers, r.text)
        assert r.json()["code"] == code, answers
    assert (await kit.answer("manager", cid, {"C1": 5}, note="x" * 501)).status_code == 400
    # answering for someone else: there is no such field, and the route is always "mine"
    r = await kit.client.put(
        f"/api/checkups/mine/{cid}/answers",
        json={"answers": {"C2": 3}, "person_id": await kit.person_id("E0006")},
        headers=await kit.h("manager"),
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_request"
    view = await _mine(kit, "manager", cid)
    assert view["answered"] == 1 and view["questions"][0]["answer"] == 3
    assert all(q["answer"] is None for q in view["questions"][1:])


async def test_submit_once_incomplete_refused_then_graded(kit, db):
    cid = (await kit.open_campaign())["id"]
    await kit.answer("manager", cid, {"C1": 2})
    r = await kit.client.post(f"/api/checkups/mine/{cid}/submit", headers=await kit.h("manager"))
    assert r.status_code == 400 and r.json()["code"] == "incomplete"
    assert len(r.json()["items"]) == 19
    result = await kit.complete("manager", cid)
    assert result["composite_grade"] in {"high", "medium", "low"}
    assert result["dimensions"] == {
        d: 0.0 for d in ("cognitive", "personality", "stress", "support", "emotion")
    }
    assert result["post_risk"] == 70.0  # the manager's post: customer manager, risk value 70
    assert result["why"]["policy_id"] == kit.policy_id
    assert result["resources"]  # care resources come with the person's own profile
    again = await kit.client.post(f"/api/checkups/mine/{cid}/submit", headers=await kit.h("manager"))
    assert again.status_code == 409 and again.json()["code"] == "already_submitted"
    change = await kit.answer("manager", cid, {"C1": 5})
    assert change.status_code == 409 and change.json()["code"] == "already_submitted"
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(CheckupResult))).scalar_one() == 1
        resp = (
            await s.execute(select(CheckupResponse).where(CheckupResponse.person_id == result["person_id"]))
        ).scalar_one()
        assert resp.submissions == 1 and resp.status == "submitted" and resp.late is False
    mine = (await kit.client.get(f"/api/checkups/mine/{cid}/result", headers=await kit.h("manager"))).json()
    assert mine["result_id"] == result["result_id"] and mine["why"]["text_en"]


async def test_outside_the_window(kit):
    future = (await kit.open_campaign(opens=timedelta(days=2), closes=timedelta(days=9)))["id"]
    r = await kit.answer("manager", future, {"C1": 3})
    assert r.status_code == 409 and r.json()["code"] == "campaign_not_open"
    past = (await kit.open_campaign(opens=timedelta(days=-9), closes=timedelta(days=-2)))["id"]
    r = await kit.answer("manager", past, {"C1": 3})
    assert r.status_code == 409 and r.json()["code"] == "campaign_closed"
    r = await kit.client.post(f"/api/checkups/mine/{past}/submit", headers=await kit.h("manager"))
    assert r.status_code == 409 and r.json()["code"] == "campaign_closed"
    view = await _mine(kit, "manager", past)
    assert view["window"] == "closed" and view["can_answer"] is False and view["answered"] == 0
    r = await kit.client.post(f"/api/checkups/campaigns/{past}/remind", headers=await kit.h("admin"))
    assert r.status_code == 409 and r.json()["code"] == "campaign_not_answerable"


async def test_late_submission_is_taken_and_marked(kit):
    cid = (
        await kit.open_campaign(opens=timedelta(days=-9), closes=timedelta(days=-1), late=timedelta(days=3))
    )["id"]
    result = await kit.complete("manager", cid)
    assert result["reason"] == "submit"
    progress = (
        await kit.client.get(f"/api/checkups/campaigns/{cid}/progress", headers=await kit.h("inspector"))
    ).json()
    assert progress["window"] == "late"
    s1 = next(u for u in progress["units"] if u["unit_code"] == "C01-S1")
    assert s1["submitted"] == 1 and s1["late"] == 1
    rows = (
        await kit.client.get(f"/api/checkups/campaigns/{cid}/results", headers=await kit.h("inspector"))
    ).json()
    assert next(r for r in rows if r["person_id"] == result["person_id"])["late"] is True


async def test_admin_reopens_with_a_reason_and_a_new_dated_result_follows(kit):
    cid = (await kit.open_campaign(opens=timedelta(days=-9), closes=timedelta(hours=1)))["id"]
    first = await kit.complete("manager", cid)
    admin = await kit.h("admin")
    body = {
        "person_id": first["person_id"],
        "reason": "pressed submit by mistake",
        "until": iso(timedelta(days=5)),
    }
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/reopen", json=body, headers=admin)
    assert r.status_code == 200, r.text
    for bad, code in [
        ({"reason": ""}, "invalid_request"),
        ({"until": iso(timedelta(days=-1))}, "reopen_until_past"),
        ({"person_id": 999999}, "participant_not_found"),
    ]:
        r = await kit.client.post(f"/api/checkups/campaigns/{cid}/reopen", json=body | bad, headers=admin)
        assert r.json()["code"] == code, bad
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/reopen", json=body, headers=await kit.h("head"))
    assert r.status_code == 403
    notices = (await kit.client.get("/api/checkups/notices", headers=await kit.h("manager"))).json()
    assert notices[0]["kind"] == "reopened"
    view = await _mine(kit, "manager", cid)
    assert view["status"] == "in_progress" and view["can_answer"] and view["answered"] == 20
    second = await kit.complete("manager", cid, {**healthy_answers(), "S1": 5, "S2": 5})
    assert second["reason"] == "resubmit" and second["dimensions"]["stress"] == 50.0
    history = (
        await kit.client.get(
            f"/api/checkups/campaigns/{cid}/people/{first['person_id']}/results",
            headers=await kit.h("manager"),
        )
    ).json()
    assert [h["result_id"] for h in history] == [second["result_id"], first["result_id"]]
    assert history[0]["current"] and not history[1]["current"] and history[1]["superseded_at"]
    assert history[1]["dimensions"]["stress"] == 0.0  # the first result is kept as it was
    r = await kit.client.post(f"/api/checkups/mine/{cid}/submit", headers=await kit.h("manager"))
    assert r.json()["code"] == "already_submitted"  # the reopening was used up


async def test_reopen_after_close_lets_a_late_person_answer(kit):
    cid = (await kit.open_campaign(opens=timedelta(days=-9), closes=timedelta(days=-1)))["id"]
    pid = await kit.person_id("E0005")
    body = {"person_id": pid, "reason": "on sick leave during the window", "until": iso(timedelta(days=2))}
    assert (
        await kit.client.post(
            f"/api/checkups/campaigns/{cid}/reopen", json=body, headers=await kit.h("admin")
        )
    ).status_code == 200
    result = await kit.complete("manager", cid)
    assert result["reason"] == "submit"
    r = await kit.answer("head", cid, {"C1": 1})  # not reopened for the head
    assert r.status_code == 409 and r.json()["code"] == "campaign_closed"


async def test_reminders_reach_only_those_not_done(kit, db):
    cid = (await kit.open_campaign(units=("C01-S1",)))["id"]
    await kit.complete("manager", cid)
    await kit.answer("head", cid, {"C1": 1})
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/remind", headers=await kit.h("admin"))
    assert r.status_code == 200 and r.json()["count"] == 9  # ten people in 城关供电所, one done
    head_notices = (await kit.client.get("/api/checkups/notices", headers=await kit.h("head"))).json()
    assert [n["kind"] for n in head_notices] == ["reminder", "invitation"]
    manager_notices = (await kit.client.get("/api/checkups/notices", headers=await kit.h("manager"))).json()
    assert [n["kind"] for n in manager_notices] == ["invitation"]
    # reading a notice
    nid = head_notices[0]["id"]
    assert (await kit.client.post(f"/api/checkups/notices/{nid}/read", headers=await kit.h("head"))).json()[
        "read_at"
    ]
    unread = (await kit.client.get("/api/checkups/notices?unread=true", headers=await kit.h("head"))).json()
    assert [n["id"] for n in unread] == [head_notices[1]["id"]]
    r = await kit.client.post(f"/api/checkups/notices/{nid}/read", headers=await kit.h("manager"))
    assert r.status_code == 404
    # an inspector reminds within their own subtree; a head may not remind
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/remind", headers=await kit.h("inspector2"))
    assert r.status_code == 200 and r.json()["count"] == 0
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/remind", headers=await kit.h("head"))
    assert r.status_code == 403
    async with db.session() as s:
        count = (await s.execute(select(func.count()).select_from(CheckupNotice))).scalar_one()
        events = (await s.execute(select(Event).where(Event.subject_id == cid))).scalars().all()
        told = (
            await s.execute(
                select(func.count())
                .select_from(EventRecipient)
                .where(EventRecipient.event_id.in_([e.id for e in events]))  # type: ignore[union-attr]
            )
        ).scalar_one()
    assert count == 10 + 9
    # the same moments go to the delivery layer as events: campaign id and deadline, nothing else
    assert sorted(e.kind for e in events) == ["checkup.invitation", "checkup.reminder"]  # none for 0 people
    assert all(
        e.subject_type == "checkup_campaign" and set(e.data) == {"campaign_id", "due_at"} for e in events
    )
    assert told == 10 + 9


async def test_participants_sync_adds_newcomers(kit):
    cid = (await kit.open_campaign(units=("C01-S2",)))["id"]
    admin = await kit.h("admin")
    before = (await kit.client.get(f"/api/checkups/campaigns/{cid}", headers=admin)).json()["participants"]
    # move manager2 into C01-S2, then sync
    r = await kit.client.patch(
        f"/api/people/{await kit.person_id('E0006')}", json={"unit_code": "C01-S2"}, headers=admin
    )
    assert r.status_code == 200, r.text
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/participants/sync", headers=admin)
    assert r.json()["count"] == 1
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/participants/sync", headers=admin)
    assert r.json()["count"] == 0
    after = (await kit.client.get(f"/api/checkups/campaigns/{cid}", headers=admin)).json()["participants"]
    assert after == before + 1


async def test_scheduled_reminders_from_the_command_line(kit, settings):
    import asyncio
    import os
    import sys

    open_cid = (await kit.open_campaign(units=("C01-S1",)))["id"]
    await kit.open_campaign(units=("C01-S2",), opens=timedelta(days=3), closes=timedelta(days=9))
    await kit.complete("manager", open_cid)
    env = os.environ | {
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_SECRET_KEY": settings.secret_key.get_secret_value(),
        "PROBITY_DATA_DIR": str(settings.data_dir),
        "PROBITY_ENV": "test",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "checkups", "remind",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == f"campaign {open_cid}: 9 reminder(s)"  # the scheduled one is left alone
    head_notices = (await kit.client.get("/api/checkups/notices", headers=await kit.h("head"))).json()
    assert [n["kind"] for n in head_notices] == ["reminder", "invitation"]
