from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.events.models import Event, EventRecipient
from backend.kernel.timeutil import SHANGHAI
from tests.reads import recorded


async def ids(client, sessions, user, **params):
    r = await client.get("/api/warnings", params=params, headers=await sessions.headers(user))
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


async def test_scoping_per_demo_role(client, sessions, seed):
    mine = await seed.warning("E0005")
    other = await seed.warning("E0006")
    heads_own = await seed.warning("E0004", level="low")
    assert await ids(client, sessions, "manager") == {mine}
    assert await ids(client, sessions, "manager", view="scope") == {mine}
    assert await ids(client, sessions, "head", view="unit") == {mine, heads_own}
    assert await ids(client, sessions, "head") == {heads_own}
    assert await ids(client, sessions, "inspector", view="scope") == {mine, heads_own}
    assert await ids(client, sessions, "manager2") == {other}
    assert await ids(client, sessions, "head2", view="unit") == {other}
    assert await ids(client, sessions, "committee", view="scope") == {mine, other, heads_own}
    for user in ("head", "inspector", "manager"):
        r = await client.get(f"/api/warnings/{other}", headers=await sessions.headers(user))
        assert r.status_code == 404, user
        assert r.json()["code"] == "warning_not_found"
    r = await client.get("/api/warnings", params={"view": "unit"}, headers=await sessions.headers("manager"))
    assert r.status_code == 403


async def test_filters_counts_and_paging(client, sessions, seed):
    for level in ("high", "high", "medium", "low", "low", "low"):
        await seed.warning("E0005", level=level, topic_code="T02" if level == "medium" else "T01")
    h = await sessions.headers("manager")
    body = (await client.get("/api/warnings", params={"limit": 2}, headers=h)).json()
    assert body["total"] == 6
    assert body["counts"] == {"high": 2, "medium": 1, "low": 3}
    assert len(body["items"]) == 2
    page2 = (await client.get("/api/warnings", params={"limit": 2, "offset": 2}, headers=h)).json()
    assert not {i["id"] for i in body["items"]} & {i["id"] for i in page2["items"]}
    low = (await client.get("/api/warnings", params={"level": "low"}, headers=h)).json()
    assert low["total"] == 3 and low["counts"]["high"] == 2
    assert {i["level"] for i in low["items"]} == {"low"}
    t2 = (await client.get("/api/warnings", params={"topic": "T02"}, headers=h)).json()
    assert t2["total"] == 1
    st = (await client.get("/api/warnings", params={"state": "delivered"}, headers=h)).json()
    assert st["total"] == 6
    item = body["items"][0]
    assert item["evidence"]["usage_after"] == 0
    assert item["due_at"].endswith("+08:00") and "T23:59:59" in item["due_at"]
    assert item["state"] == "delivered"


async def test_overdue_and_period_filters(client, sessions, seed):
    old = await seed.warning("E0005", raised_at=datetime(2025, 3, 3, 9, tzinfo=SHANGHAI))
    await seed.warning("E0005")
    h = await sessions.headers("manager")
    r = (await client.get("/api/warnings", params={"overdue": "true"}, headers=h)).json()
    assert [i["id"] for i in r["items"]] == [old]
    assert r["items"][0]["overdue"] is True
    r = (await client.get("/api/warnings", params={"overdue": "false"}, headers=h)).json()
    assert old not in {i["id"] for i in r["items"]} and r["total"] == 1
    r = (
        await client.get(
            "/api/warnings", params={"raised_from": "2025-03-01", "raised_to": "2025-03-03"}, headers=h
        )
    ).json()
    assert [i["id"] for i in r["items"]] == [old]


async def test_impossible_dates_and_values_are_400_with_code(client, sessions):
    h = await sessions.headers("manager")
    for params in (
        {"raised_from": "2026-02-30"},
        {"raised_to": "yesterday"},
        {"raised_from": "30/11/2026"},
    ):
        r = await client.get("/api/warnings", params=params, headers=h)
        assert r.status_code == 400, params
        assert r.json()["code"] == "invalid_date"
    for params in ({"level": "purple"}, {"limit": 0}, {"limit": 1000}, {"view": "everything"}):
        r = await client.get("/api/warnings", params=params, headers=h)
        assert r.status_code == 400, params
        assert r.json()["code"] == "invalid_request"


async def test_raised_warning_is_delivered_by_tier(db, seed):
    red = await seed.warning("E0005", level="high")
    orange = await seed.warning("E0005", level="medium")
    yellow = await seed.warning("E0005", level="low")
    manager, _ = await seed.person("E0005")
    head, _ = await seed.person("E0004")
    inspector, _ = await seed.person("E0003")
    async with db.session() as s:
        tiers = {}
        for wid in (red, orange, yellow):
            ev = (
                await s.execute(select(Event).where(Event.subject_id == wid, Event.kind == "warning.raised"))
            ).scalar_one()
            rec = (await s.execute(select(EventRecipient).where(EventRecipient.event_id == ev.id))).scalars()
            tiers[wid] = {r.person_id: r.reason for r in rec}
            assert "name" not in ev.data and "evidence" not in ev.data
    assert tiers[red] == {manager: "subject", head: "head", inspector: "inspector"}
    assert tiers[orange] == {manager: "subject", head: "head"}
    assert tiers[yellow] == {manager: "subject"}


async def test_detail_has_evidence_deadline_timeline_and_marks_read(client, sessions, seed, db):
    wid = await seed.warning("E0005", level="medium")
    head = await client.get(f"/api/warnings/{wid}", headers=await sessions.headers("head"))
    assert head.status_code == 200
    assert head.json()["warning"]["state"] == "delivered"  # others reading does not mark it read
    r = await client.get(f"/api/warnings/{wid}", headers=await sessions.headers("manager"))
    body = r.json()
    assert body["warning"]["state"] == "read"
    assert body["warning"]["evidence"]["meter"]
    assert body["warning"]["due_on"]
    kinds = [s["kind"] for s in body["timeline"]]
    assert kinds == ["raised", "delivered", "read"]
    delivered = body["timeline"][1]
    assert delivered["channel"] == "inapp" and delivered["to_state"] == "delivered"
    assert body["actions"] == ["verify"]
    # a view is a read: the app writes it with its next batch of reads
    views = AuditRecord.action == "warning.view", AuditRecord.object_id == str(wid)
    assert await recorded(db, *views, at_least=2) == 2


async def test_notifications_list(client, sessions, seed):
    wid = await seed.warning("E0005", level="high")
    h = await sessions.headers("inspector")
    r = await client.get("/api/notifications", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["unread"] == 1
    item = body["items"][0]
    assert item["kind"] == "warning.raised" and item["subject_id"] == wid and item["reason"] == "inspector"
    assert (await client.post(f"/api/notifications/{item['id']}/read", headers=h)).status_code == 204
    assert (await client.get("/api/notifications", headers=h)).json()["unread"] == 0
    other = await client.post(
        f"/api/notifications/{item['id']}/read", headers=await sessions.headers("manager2")
    )
    assert other.status_code == 404
