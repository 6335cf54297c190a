"""催办 and 督办 by hand (issue 16): who may, what is required, the timeline and trail, who is told,
the chase stage raised (so the sweep does not repeat it), and the 督办单 list of one's scope."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.kernel.timeutil import SHANGHAI, utcnow
from backend.warnings.models import Warning
from tests.warnings.conftest import told


def order(note, due_on):
    return {"kind": "supervise", "note": note, "due_on": due_on}


async def person_id(client, sessions, user):
    return (await client.get("/api/auth/me", headers=await sessions.headers(user))).json()["person_id"]


async def test_inspector_chases_and_orders_supervision_with_a_note_and_a_date(client, sessions, seed, db):
    wid = await seed.warning("E0005", level="medium", raised_at=utcnow() - timedelta(days=70))
    inspector, head, manager = [await sessions.headers(u) for u in ("inspector", "head", "manager")]
    ids = {u: await person_id(client, sessions, u) for u in ("manager", "head", "inspector")}

    detail = (await client.get(f"/api/warnings/{wid}", headers=inspector)).json()
    assert {"urge", "supervise"} <= set(detail["actions"])
    head_actions = (await client.get(f"/api/warnings/{wid}", headers=head)).json()["actions"]
    assert "urge" in head_actions and "supervise" not in head_actions

    # the person cannot chase themself; a head cannot order supervision; a note is required
    r = await client.post(f"/api/warnings/{wid}/urge", json={"note": "请尽快"}, headers=manager)
    assert r.status_code == 403
    r = await client.post(f"/api/warnings/{wid}/urge", json=order("x", "2099-01-01"), headers=head)
    assert r.status_code == 403
    r = await client.post(f"/api/warnings/{wid}/urge", json={"note": "  "}, headers=inspector)
    assert r.status_code == 400 and r.json()["code"] == "note_required"
    yesterday = (utcnow().astimezone(SHANGHAI).date() - timedelta(days=1)).isoformat()
    r = await client.post(f"/api/warnings/{wid}/urge", json=order("限期整改", yesterday), headers=inspector)
    assert r.status_code == 400 and r.json()["code"] == "order_due_required"

    r = await client.post(f"/api/warnings/{wid}/urge", json={"note": "请本周内完成核查"}, headers=inspector)
    assert r.status_code == 200, r.text
    assert await told(db, "warning.urged") == {ids["manager"]: "subject", ids["head"]: "head"}
    due = (utcnow().astimezone(SHANGHAI).date() + timedelta(days=5)).isoformat()
    r = await client.post(f"/api/warnings/{wid}/urge", json=order("限期整改到位", due), headers=inspector)
    assert r.status_code == 200, r.text
    assert await told(db, "warning.supervision_order") == {ids["manager"]: "subject", ids["head"]: "head"}

    timeline = (await client.get(f"/api/warnings/{wid}", headers=head)).json()["timeline"]
    steps = [(s["kind"], s["note"], s["actor_person_id"]) for s in timeline[-2:]]
    assert steps == [
        ("urged", "请本周内完成核查", ids["inspector"]),
        ("supervision_order", "限期整改到位", ids["inspector"]),
    ]
    async with db.session() as s:
        stage = (await s.execute(select(Warning.chase_stage).where(Warning.id == wid))).scalar_one()
        trail = (
            (
                await s.execute(
                    select(AuditRecord.action).where(
                        AuditRecord.object_id == str(wid), AuditRecord.action.like("warning.%")
                    )
                )
            )
            .scalars()
            .all()
        )
    assert stage == 3
    assert "warning.urged" in trail and "warning.supervision_order" in trail

    orders = (await client.get("/api/warnings/supervision", headers=inspector)).json()
    assert [(o["warning_id"], o["due_on"], o["note"], o["person_name"] is not None) for o in orders] == [
        (wid, due, "限期整改到位", True)
    ]
    assert orders[0]["by_person_id"] == ids["inspector"] and orders[0]["by_name"]
    # scoped: the other station's head sees none of it; the person may not list orders
    assert (
        await client.get("/api/warnings/supervision", headers=await sessions.headers("head2"))
    ).json() == []
    assert (await client.get("/api/warnings/supervision", headers=manager)).status_code == 403
