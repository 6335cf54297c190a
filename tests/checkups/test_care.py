"""Care measures (standard 10.3): by risk type, assigned to a head or inspector over the person,
with a due date; the outcome closes them; open measures are listed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from backend.audit.models import AuditRecord
from tests.checkups.conftest import risky_answers


async def test_care_measures_assigned_tracked_and_closed(kit, db):
    cid = (await kit.open_campaign())["id"]
    result = await kit.complete("manager", cid, risky_answers())
    assert set(result["risk_types"]) >= {"psychological", "post"}
    assert result["care_suggestions"]["psychological"] == ["talk", "counselling", "group_session"]
    assert result["care_suggestions"]["post"] == ["controls", "education"]
    manager = result["person_id"]
    head, head2, inspector = [await kit.person_id(n) for n in ("E0004", "E0008", "E0003")]
    due = (date.today() + timedelta(days=7)).isoformat()
    base = {
        "person_id": manager,
        "campaign_id": cid,
        "risk_type": "psychological",
        "kind": "talk",
        "assignee_person_id": head,
        "due_date": due,
        "note": "谈心谈话，了解近期压力来源",
    }
    ins = await kit.h("inspector")
    r = await kit.client.post("/api/checkups/care", json=base, headers=ins)
    assert r.status_code == 201, r.text
    talk = r.json()
    assert talk["status"] == "open" and talk["assignee_name"] and talk["note"] == base["note"]
    r = await kit.client.post(
        "/api/checkups/care",
        json=base | {"risk_type": "post", "kind": "education", "assignee_person_id": inspector, "note": None},
        headers=ins,
    )
    assert r.status_code == 201
    education = r.json()

    bad = [
        ({"kind": "rotation"}, 400, "kind_not_for_risk_type"),
        ({"risk_type": "tenure", "kind": "talk"}, 400, "kind_not_for_risk_type"),
        ({"assignee_person_id": manager}, 400, "assignee_not_eligible"),  # not a head or inspector
        ({"assignee_person_id": head2}, 400, "assignee_not_eligible"),  # a head, but of another station
        ({"due_date": (date.today() - timedelta(days=2)).isoformat()}, 400, "due_in_past"),
        ({"person_id": await kit.person_id("E0006")}, 404, "person_not_found"),  # manager2: not in C01
        ({"kind": "hug"}, 400, "invalid_request"),
    ]
    for change, status, code in bad:
        r = await kit.client.post("/api/checkups/care", json=base | change, headers=ins)
        assert (r.status_code, r.json()["code"]) == (status, code), change
    r = await kit.client.post("/api/checkups/care", json=base, headers=await kit.h("head"))
    assert r.status_code == 403

    async def listed(user: str, query: str = "") -> list[int]:
        r = await kit.client.get(f"/api/checkups/care{query}", headers=await kit.h(user))
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()]

    assert await listed("head") == [talk["id"]]
    assert sorted(await listed("inspector", "?status=open")) == sorted([talk["id"], education["id"]])
    assert await listed("manager") == []  # the person is cared for, not handed the work list
    assert await listed("head2") == []
    assert await listed("inspector2") == []

    outcome = {"status": "done", "outcome": "已谈话，压力来自家庭，建议参加团体辅导"}
    r = await kit.client.post(
        f"/api/checkups/care/{talk['id']}/outcome", json=outcome, headers=await kit.h("head2")
    )
    assert r.status_code == 404 and r.json()["code"] == "care_not_found"
    r = await kit.client.post(
        f"/api/checkups/care/{talk['id']}/outcome",
        json={"status": "open", "outcome": "xx"},
        headers=await kit.h("head"),
    )
    assert r.status_code == 400
    r = await kit.client.post(
        f"/api/checkups/care/{talk['id']}/outcome", json=outcome, headers=await kit.h("head")
    )
    assert r.status_code == 200
    closed = r.json()
    assert closed["status"] == "done" and closed["outcome"] == outcome["outcome"] and closed["closed_at"]
    r = await kit.client.post(
        f"/api/checkups/care/{talk['id']}/outcome", json=outcome, headers=await kit.h("head")
    )
    assert r.status_code == 409 and r.json()["code"] == "care_closed"
    assert await listed("inspector", "?status=open") == [education["id"]]
    assert await listed("inspector", f"?status=done&campaign_id={cid}") == [talk["id"]]

    async with db.session() as s:
        acts = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.object_type == "checkup_care")
                )
            )
            .scalars()
            .all()
        )
    assert {a.action for a in acts} >= {"checkup.care.assign", "checkup.care.close", "checkup.care.list"}
    text = repr([(a.old_value, a.new_value) for a in acts])
    assert "谈心谈话" not in text and "家庭" not in text  # notes and outcomes stay out of the trail
