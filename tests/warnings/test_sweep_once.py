"""Two processes running the lifecycle sweep at once (two schedulers, or a run taken over after a
crash while the first still ran) remind, chase and order supervision once: each step is claimed by
a conditional UPDATE of the warning's ``chase_stage``. The interleaving is forced: both sweeps have
read the warning before either claims its step."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from backend.audit.service import AuditTrail
from backend.events.models import Event, EventRecipient
from backend.kernel.db import Database
from backend.warnings import routing
from backend.warnings.models import Warning
from tests.conftest import TEST_SECRET


async def test_two_sweeps_at_once_remind_a_person_once(db, seed, settings, monkeypatch):
    wid = await seed.warning("E0005", level="medium")
    async with db.session() as s:
        due = (await s.get(Warning, wid)).due_at
    barrier = asyncio.Barrier(2)
    claim = routing._advance_stage

    async def after_both_read(session, w, stage):
        await barrier.wait()
        return await claim(session, w, stage)

    monkeypatch.setattr(routing, "_advance_stage", after_both_read)
    first, second = Database(settings), Database(settings)

    async def sweep(database: Database):
        async with database.session() as s:
            return await routing.sweep(s, AuditTrail(TEST_SECRET), settings, now=due - timedelta(days=1))

    try:
        reports = await asyncio.gather(sweep(first), sweep(second))
    finally:
        await first.dispose()
        await second.dispose()
    assert sorted(r.reminded for r in reports) == [0, 1]
    async with db.session() as s:
        told = (
            await s.execute(
                select(func.count())
                .select_from(EventRecipient)
                .join(Event, Event.id == EventRecipient.event_id)
                .where(Event.subject_id == wid, Event.kind == "warning.due_soon")
            )
        ).scalar_one()
    assert told == 1
