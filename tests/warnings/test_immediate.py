"""A rule run delivers what it raises at once (7.3.1): events by tier in the run's transaction."""

from __future__ import annotations

from sqlalchemy import select

from backend.events.models import Event, EventRecipient
from backend.topics.models import TopicState
from backend.warnings.models import Warning
from tests.engine.helpers import run, zero_usage_topic
from tests.warnings.conftest import Seeder


async def recipients(db) -> dict[str, dict[int, str]]:
    """object_key -> {person_id: reason} of the warning.raised event of that warning."""
    async with db.session() as s:
        rows = await s.execute(
            select(Warning.object_key, EventRecipient.person_id, EventRecipient.reason)
            .join(Event, Event.subject_id == Warning.id)
            .join(EventRecipient, EventRecipient.event_id == Event.id)
            .where(Event.kind == "warning.raised", Event.subject_type == "warning")
        )
        out: dict[str, dict[int, str]] = {}
        for key, person_id, reason in rows.all():
            out.setdefault(key, {})[person_id] = reason
        return out


async def test_a_run_tells_person_head_and_inspectors_by_tier(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)
    (record,) = await run(db, settings)
    assert record.status == "done" and record.warnings_created == 3
    seed = Seeder(db)
    manager, _ = await seed.person("E0005")
    head, _ = await seed.person("E0004")
    inspector, _ = await seed.person("E0003")
    manager2, _ = await seed.person("E0006")
    head2, _ = await seed.person("E0008")
    low_person, _ = await seed.person("E0101")
    told = await recipients(db)
    # red (A001, manager): person, head and inspectors
    assert told["A001"][manager] == "subject"
    assert told["A001"][head] == "head"
    assert told["A001"][inspector] == "inspector"
    # orange (A002, manager2 in C02-S1): person and head, no inspector
    assert told["A002"][manager2] == "subject" and told["A002"][head2] == "head"
    assert "inspector" not in told["A002"].values()
    # yellow (A003): the person only
    assert told["A003"] == {low_person: "subject"}
    async with db.session() as s:
        states = {w.object_key: (w.state, w.due_at) for w in (await s.execute(select(Warning))).scalars()}
    assert all(state == "delivered" and due is not None for state, due in states.values())


async def test_a_later_run_does_not_announce_again(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)
    await run(db, settings)
    (second,) = await run(db, settings)
    assert second.warnings_created == 0 and second.warnings_updated == 3
    async with db.session() as s:
        events = (await s.execute(select(Event).where(Event.kind == "warning.raised"))).scalars().all()
    assert len(events) == 3


async def test_trial_runs_tell_nobody(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path, state=TopicState.validating)
    (record,) = await run(db, settings, "MK-ZERO")
    assert record.trial and record.warnings_created == 3
    assert await recipients(db) == {}
