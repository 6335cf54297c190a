"""Risk reports of linked warnings are reminded, chased and escalated like warnings."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.warnings.models import LinkedWarning
from backend.warnings.routing import sweep
from tests.warnings.conftest import TRAIL, told
from tests.warnings.test_linked import true_finding


async def test_unanswered_letter_is_reminded_chased_then_ordered(client, sessions, seed, db, settings):
    ids = [await seed.warning("E0005", level="low", topic_code="T05", topic_id=5) for _ in range(3)]
    for wid in ids:
        await true_finding(client, sessions, wid)
    async with db.session() as s:
        (letter,) = (await s.execute(select(LinkedWarning))).scalars().all()
    due = letter.report_due_at
    head, _ = await seed.person("E0004")
    inspector, _ = await seed.person("E0003")
    steps = [
        (due - timedelta(hours=2), "reminded", "linked.due_soon"),
        (due + timedelta(hours=1), "chased", "linked.overdue"),
        (due + timedelta(days=30), "supervised", "linked.supervision_order"),
    ]
    for now, stage, kind in steps:
        for expected in (1, 0):  # a second pass at the same time sends nothing again
            async with db.session() as s:
                report = await sweep(s, TRAIL, settings, now=now)
            assert report.linked[stage] == expected, (stage, report.line())
        assert head in await told(db, kind), kind
    assert (await told(db, "linked.overdue")).get(inspector) is None
    assert (await told(db, "linked.supervision_order"))[inspector] == "inspector"
    r = await client.get(f"/api/linked/{letter.id}", headers=await sessions.headers("inspector"))
    assert r.json()["chase_stage"] == 3  # (not overdue by the real clock yet)


async def test_answered_letters_are_not_chased(client, sessions, seed, db, settings):
    ids = [await seed.warning("E0005", level="high", topic_code="T01", topic_id=1) for _ in range(2)]
    for wid in ids:
        await true_finding(client, sessions, wid)
    letters = (await client.get("/api/linked", headers=await sessions.headers("head"))).json()
    assert letters and letters[0]["overdue"] is False
    for letter in letters:
        r = await client.post(
            f"/api/linked/{letter['id']}/report",
            json={"report": "r", "measures": "m"},
            headers=await sessions.headers("head"),
        )
        assert r.status_code == 200
    async with db.session() as s:
        report = await sweep(
            s,
            TRAIL,
            settings,
            now=max(x.report_due_at for x in (await s.execute(select(LinkedWarning))).scalars())
            + timedelta(days=60),
        )
    assert sum(report.linked.values()) == 0
