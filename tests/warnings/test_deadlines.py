from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from backend.audit.service import AuditTrail
from backend.events.models import Event, EventRecipient
from backend.kernel.timeutil import SHANGHAI, utcnow
from backend.warnings.models import Warning
from backend.warnings.routing import sweep
from tests.conftest import TEST_SECRET


async def test_provisional_deadlines_are_recomputed_when_the_year_arrives(client, sessions, seed):
    wid = await seed.warning("E0005", level="high", raised_at=datetime(2026, 12, 28, 10, tzinfo=SHANGHAI))
    h = await sessions.headers("manager")
    w = (await client.get(f"/api/warnings/{wid}", headers=h)).json()["warning"]
    assert w["deadline_provisional"] is True and w["due_on"] == "2027-01-11"
    r = await client.post(
        "/api/calendar/overrides",
        json={"day": "2027-01-01", "kind": "holiday"},
        headers=await sessions.headers("admin"),
    )
    assert r.json()["deadlines_recomputed"] == 1
    detail = (await client.get(f"/api/warnings/{wid}", headers=h)).json()
    assert detail["warning"]["deadline_provisional"] is False
    assert detail["warning"]["due_on"] == "2027-01-12"
    assert "deadline_recomputed" in [s["kind"] for s in detail["timeline"]]


async def test_sweep_reminds_chases_and_orders_supervision_once(db, seed, settings):
    wid = await seed.warning("E0005", level="medium")
    manager, _ = await seed.person("E0005")
    head, _ = await seed.person("E0004")
    inspector, _ = await seed.person("E0003")
    async with db.session() as s:
        due = (await s.get(Warning, wid)).due_at
    trail = AuditTrail(TEST_SECRET)

    async def run(at):
        async with db.session() as s:
            return await sweep(s, trail, settings, now=at)

    assert (await run(utcnow())).reminded == 0
    assert (await run(due - timedelta(days=1))).reminded == 1
    assert (await run(due - timedelta(hours=12))).reminded == 0  # once
    assert (await run(due + timedelta(hours=1))).chased == 1
    assert (await run(due + timedelta(hours=2))).chased == 0
    late = await run(due + timedelta(days=10))
    assert late.supervised == 1
    assert (await run(due + timedelta(days=11))).supervised == 0
    async with db.session() as s:
        rows = (
            await s.execute(
                select(Event.kind, EventRecipient.person_id, EventRecipient.reason)
                .join(EventRecipient, EventRecipient.event_id == Event.id)
                .where(Event.subject_id == wid)
            )
        ).all()
    told = {}
    for kind, person, reason in rows:
        told.setdefault(kind, set()).add((person, reason))
    assert told["warning.due_soon"] == {(manager, "subject")}
    assert told["warning.overdue"] == {(manager, "subject"), (head, "head")}
    assert (inspector, "inspector") in told["warning.supervision_order"]


async def test_answered_warnings_are_not_chased(client, sessions, db, seed, settings):
    wid = await seed.warning("E0005", level="high")
    r = await client.post(
        f"/api/warnings/{wid}/verifications",
        json={"client_id": "answered-0001", "result": "not_true", "cause": "normal usage"},
        headers=await sessions.headers("manager"),
    )
    assert r.status_code == 201
    async with db.session() as s:
        due = (await s.get(Warning, wid)).due_at
        report = await sweep(s, AuditTrail(TEST_SECRET), settings, now=due + timedelta(days=30))
    assert report.chased == 0 and report.supervised == 0


async def test_sweep_delivers_warnings_a_run_left_raised(db, seed, settings, client, sessions):
    wid = await seed.warning("E0005", deliver=False, raised_at=datetime(2026, 11, 2, 9, tzinfo=SHANGHAI))
    async with db.session() as s:
        report = await sweep(s, AuditTrail(TEST_SECRET), settings)
    assert report.announced == 1
    w = (await client.get(f"/api/warnings/{wid}", headers=await sessions.headers("head"))).json()["warning"]
    assert w["state"] == "delivered" and w["due_on"] == "2026-11-16"


async def test_on_time_rate_per_unit(client, sessions, seed):
    await seed.warning("E0005", raised_at=datetime(2025, 3, 3, 9, tzinfo=SHANGHAI))  # long overdue
    wid = await seed.warning("E0005")
    await client.post(
        f"/api/warnings/{wid}/verifications",
        json={"client_id": "on-time-0001", "result": "not_true", "cause": "normal"},
        headers=await sessions.headers("manager"),
    )
    rows = (await client.get("/api/warnings/on-time", headers=await sessions.headers("head"))).json()
    assert len(rows) == 1
    assert rows[0]["raised"] == 2 and rows[0]["answered_on_time"] == 1 and rows[0]["overdue_open"] == 1
    assert rows[0]["on_time_rate"] == 0.5
    r = await client.get(
        "/api/warnings/on-time", params={"raised_from": "2025-02-30"}, headers=await sessions.headers("head")
    )
    assert r.status_code == 400
