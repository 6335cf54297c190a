from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from backend.audit.models import AuditRecord
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


async def test_a_recomputed_deadline_is_in_the_trail_as_the_admins_act(client, sessions, seed, db):
    wid = await seed.warning("E0005", level="high", raised_at=datetime(2026, 12, 28, 10, tzinfo=SHANGHAI))
    early = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)
    other = await seed.warning("E0005", level="high", raised_at=early)  # its deadline stays: no record
    r = await client.post(
        "/api/calendar/overrides",
        json={"day": "2027-01-01", "kind": "holiday"},
        headers=await sessions.headers("admin"),
    )
    assert r.status_code == 201, r.text
    admin, _ = await seed.person("E0001")
    async with db.session() as s:
        records = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(AuditRecord.action == "warning.deadline_recomputed")
            )
        ).scalars()
        (record,) = list(records)
        assert (await AuditTrail(TEST_SECRET).verify(s)).ok
    assert record.object_type == "warning" and record.object_id == str(wid) != str(other)
    assert record.actor_person_id == admin and record.power == "calendar.write"
    assert record.old_value == {"due_at": "2027-01-11T15:59:59+00:00", "provisional": True}
    assert record.new_value == {"due_at": "2027-01-12T15:59:59+00:00", "provisional": False}


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


async def test_every_provisional_deadline_is_recomputed_when_the_year_arrives(
    client, sessions, seed, db, monkeypatch
):
    """Risk reports (15 working days) and ladder answers (7) raised late in December reach into
    2027, which chinese-calendar does not know: provisional until 2027's overrides are entered."""
    import uuid

    import backend.ladder.service as ladder_service
    import backend.warnings.linked as linked_service

    december = datetime(2026, 12, 28, 10, tzinfo=SHANGHAI)
    monkeypatch.setattr(linked_service, "utcnow", lambda: december)
    monkeypatch.setattr(ladder_service, "utcnow", lambda: december)
    manager = await sessions.headers("manager")
    for _ in range(2):
        wid = await seed.warning("E0005", level="high", topic_code="T09", topic_id=9)
        body = {"client_id": str(uuid.uuid4()), "result": "true", "cause": "c", "measures": "m"}
        r = await client.post(f"/api/warnings/{wid}/verifications", json=body, headers=manager)
        assert r.status_code == 201, r.text
        # the letter counts findings the head confirmed
        r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("head"))
        assert r.status_code == 200, r.text
    inspector = await sessions.headers("inspector")
    (letter,) = (await client.get("/api/linked", headers=inspector)).json()
    assert letter["report_provisional"] is True and letter["report_due_at"].startswith("2027-01-18")
    person_id = (await seed.person("E0005"))[0]
    case = await client.post(
        "/api/ladder",
        json={"person_id": person_id, "tier": "notice", "subject": "s", "problem": "p"},
        headers=inspector,
    )
    assert case.status_code == 201, case.text
    case = case.json()
    assert case["due_provisional"] is True and case["due_at"].startswith("2027-01-06")
    r = await client.post(
        "/api/calendar/overrides",
        json={"day": "2027-01-01", "kind": "holiday", "note": "元旦"},
        headers=await sessions.headers("admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["deadlines_recomputed"] >= 2
    letter = (await client.get(f"/api/linked/{letter['id']}", headers=inspector)).json()
    assert letter["report_provisional"] is False and letter["report_due_at"].startswith("2027-01-19")
    file = (await client.get(f"/api/ladder/{case['id']}", headers=inspector)).json()
    assert file["case"]["due_provisional"] is False and file["case"]["due_at"].startswith("2027-01-07")
    assert file["steps"][-1]["kind"] == "deadline_recomputed"


async def test_reminder_and_supervision_follow_the_settings(db, seed, settings):
    """PROBITY_REMINDER_WORKING_DAYS=1 and PROBITY_SUPERVISION_AFTER_WORKING_DAYS=2 (defaults 3, 5)."""
    from datetime import time

    from backend.calendar.service import WorkingCalendar

    settings.reminder_working_days = 1
    settings.supervision_after_working_days = 2
    wid = await seed.warning("E0005", level="medium")
    async with db.session() as s:
        due = (await s.get(Warning, wid)).due_at
    cal = WorkingCalendar()
    due_day = due.astimezone(SHANGHAI).date()

    def noon(day):
        return datetime.combine(day, time(12), SHANGHAI)

    def working_days_before(n):
        day = due_day
        while cal.working_days_between(day, due_day) < n:
            day -= timedelta(days=1)
        return day

    async def run(at):
        async with db.session() as s:
            return await sweep(s, AuditTrail(TEST_SECRET), settings, now=at)

    assert (await run(noon(working_days_before(2)))).reminded == 0  # the default (3) would remind
    assert (await run(noon(working_days_before(1)))).reminded == 1
    one_late, _ = cal.add_working_days(due_day, 1)
    report = await run(noon(one_late))
    assert (report.chased, report.supervised) == (1, 0)
    two_late, _ = cal.add_working_days(due_day, 2)
    assert (await run(noon(two_late))).supervised == 1


async def test_a_deadline_the_sweep_sets_is_the_one_it_chases_by(db, seed, settings):
    """A warning past its answer time with no deadline yet (delivered without one): the sweep
    sets it and chases the warning in the same pass, reading the deadline it has just written."""
    raised = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)  # high: due Mon 16 Nov 2026
    wid = await seed.warning("E0005", level="high", raised_at=raised, deliver=False, state="delivered")
    async with db.session() as s:
        report = await sweep(
            s, AuditTrail(TEST_SECRET), settings, now=datetime(2026, 11, 17, 12, tzinfo=SHANGHAI)
        )
    assert (report.deadlines_set, report.chased) == (1, 1)
    async with db.session() as s:
        w = await s.get(Warning, wid)
        assert w.due_at.astimezone(SHANGHAI).date().isoformat() == "2026-11-16"
        (record,) = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(AuditRecord.action == "warning.deadline_set")
            )
        ).scalars()
    assert record.object_id == str(wid) and record.power == "warning.lifecycle"
    assert record.new_value == {"due_at": w.due_at.isoformat(), "provisional": False}
