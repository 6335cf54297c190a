from __future__ import annotations

from sqlalchemy import select

from backend.engine.demo import load_demo
from backend.org.models import Person
from backend.topics.models import Topic
from backend.warnings.models import Warning


async def test_demo_topics_raise_every_colour_for_the_demo_people(db, settings):
    summary = await load_demo(db, settings, lambda _m: None)
    assert "topics +6" in summary and "runs 5" in summary
    async with db.session() as s:
        topics = {t.code: t for t in (await s.execute(select(Topic))).scalars()}
        warnings = (await s.execute(select(Warning))).scalars().all()
        people = {p.id: p.employee_no for p in (await s.execute(select(Person))).scalars()}
    assert len(topics) == 6 and all(t.state == "online" for t in topics.values())
    assert topics["EN-001"].offline and topics["EN-001"].current_version_id is None
    by_topic: dict[str, set[str]] = {}
    for w in warnings:
        by_topic.setdefault(w.topic_code, set()).add(w.level)
    assert set(by_topic) == {"MK-001", "MK-002", "FN-001", "OP-001", "MT-001"}
    assert all(levels == {"high", "medium", "low"} for levels in by_topic.values()), by_topic
    manager = {w.level for w in warnings if people[w.person_id] == "E0005"}
    manager2 = {w.level for w in warnings if people[w.person_id] == "E0006"}
    assert manager == {"high", "medium", "low"}
    assert "high" in manager2

    again = await load_demo(db, settings, lambda _m: None)
    assert again == "tables +0, rows +0, topics +0, runs 0, warnings +0 (hits high 0, medium 0, low 0)"
    async with db.session() as s:
        assert len((await s.execute(select(Warning))).scalars().all()) == len(warnings)
