"""A small known set of warnings, letters and ladder cases, counted by hand in the tests.

November 2026 (the period the tests ask for), in 城关供电所 (C01-S1) unless said:

| w  | person   | topic | level  | state     | finding  | due        | first reply        | interview |
|----|----------|-------|--------|-----------|----------|------------|--------------------|-----------|
| 1  | manager  | T01   | high   | confirmed | true     | 11-20      | 11-10 (on time)    | yes       |
| 2  | manager  | T01   | high   | closed    | true     | 11-20      | 11-25 (late)       | no        |
| 3  | manager  | T01   | medium | submitted | not true | 11-20      | 11-10 (on time)    |           |
| 4  | manager  | T02   | low    | raised    |          | 11-20 past | none (late, open)  |           |
| 5  | manager  | T02   | medium | read      |          | next year  | none               |           |
| 6  | head     | T01   | low    | returned  | true     | 11-20 past | 11-10 (on time)    |           |
| 7  | C01-S2   | T02   | high   | confirmed | true     | 11-20      | 11-10 (on time)    | yes       |
| 8  | manager2 | T01   | high   | raised    |          | (C02-S1: outside C01)                      |
| 9  | manager  | T01   | high   | raised, a trial hit (never counted)                                 |

October 2026: w10 manager T01 medium closed not true (on time); w11 manager T02 low raised, overdue.
December 2026: w12 manager T01 high raised (outside November).
Letters: one to C01-S1 in November, report overdue; one to C02-S1. Ladder: one notice in C01-S1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from backend.interviews.models import Interview, InterviewWarning
from backend.kernel.timeutil import SHANGHAI
from backend.ladder.models import LadderCase, LadderStep
from backend.topics.models import Topic
from backend.warnings.models import LinkedWarning
from tests.warnings.conftest import Seeder


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=SHANGHAI)


@dataclass
class Known:
    ids: dict[str, int]
    units: dict[str, int]
    posts: dict[str, int]


async def _unit_ids(db: Any) -> tuple[dict[str, int], dict[str, int]]:
    from sqlalchemy import text

    async with db.session() as s:
        units = {c: i for i, c in (await s.execute(text("SELECT id, code FROM unit"))).all()}
        posts = {c: i for i, c in (await s.execute(text("SELECT id, code FROM post"))).all()}
    return units, posts


@pytest.fixture
async def known(db: Any) -> Known:
    return await seed_known(db)


async def seed_known(db: Any) -> Known:
    """The set of the table above, seeded straight into the tables (as rule runs and people would)."""
    seed = Seeder(db)
    async with db.session() as s:
        t1 = Topic(code="T01", name="表计装拆后电量为零", specialty="marketing")
        t2 = Topic(code="T02", name="一卡多户缴费", specialty="marketing")
        s.add_all([t1, t2])
        await s.commit()
        topics = {"T01": t1.id, "T02": t2.id}
    past, future = at(11, 20), at(1, 31, 2027)
    on_time, late = at(11, 10), at(11, 25)
    true_, false_ = "true", "not_true"
    rows: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("w1", "E0005", "T01", "high", dict(state="confirmed", finding=true_, first_submitted_at=on_time)),
        ("w2", "E0005", "T01", "high", dict(state="closed", finding=true_, first_submitted_at=late)),
        ("w3", "E0005", "T01", "medium", dict(state="submitted", finding=false_, first_submitted_at=on_time)),
        ("w4", "E0005", "T02", "low", dict(state="raised")),
        ("w5", "E0005", "T02", "medium", dict(state="read", due_at=future)),
        ("w6", "E0004", "T01", "low", dict(state="returned", finding=true_, first_submitted_at=on_time)),
        ("w7", "E0109", "T02", "high", dict(state="confirmed", finding=true_, first_submitted_at=on_time)),
        ("w8", "E0006", "T01", "high", dict(state="raised")),
        ("w9", "E0005", "T01", "high", dict(state="raised", trial=True)),
        ("w10", "E0005", "T01", "medium", dict(state="closed", finding=false_, raised_at=at(10, 10),
                                                first_submitted_at=at(10, 12), due_at=at(10, 30))),
        ("w11", "E0005", "T02", "low", dict(state="raised", raised_at=at(10, 20), due_at=at(11, 3))),
        ("w12", "E0005", "T01", "high", dict(state="raised", raised_at=at(12, 1), due_at=future)),
    ]  # fmt: skip
    ids: dict[str, int] = {}
    for name, no, topic, level, extra in rows:
        values = {"raised_at": at(11, 5), "due_at": past, **extra}
        ids[name] = await seed.warning(
            no, level=level, topic_code=topic, topic_id=topics[topic], deliver=False, **values
        )
    units, posts = await _unit_ids(db)
    async with db.session() as s:
        for wid in (ids["w1"], ids["w7"]):
            person_id, unit_id = await seed.person("E0005" if wid == ids["w1"] else "E0109")
            interview = Interview(
                client_id=f"iv-{wid}", person_id=person_id, unit_id=unit_id, interviewee_name="某某",
                interviewee_unit="城关供电所", held_at=at(11, 28), place="会议室", q_true="", q_cause="",
                q_integrity="", c_collaboration="", c_control="", c_education="", suggestion="",
                follow_up="", body_hash="x" * 64, recorded_by=person_id,
            )  # fmt: skip
            s.add(interview)
            await s.flush()
            s.add(InterviewWarning(interview_id=interview.id, warning_id=wid))
        manager, s1 = await seed.person("E0005")
        manager2, c2s1 = await seed.person("E0006")
        for key, unit, person in (("L1", s1, manager), ("L2", c2s1, manager2)):
            s.add(
                LinkedWarning(
                    key=key, rule="repeat", unit_id=unit, person_id=person, topic_code="T01", level="high",
                    warning_ids=[], raised_at=at(11, 26), report_due_at=at(11, 30),
                )
            )  # fmt: skip
        case = LadderCase(
            person_id=manager, unit_id=s1, tier="notice", subject="说明", problem="说明情况",
            opened_by=manager, opened_at=at(11, 27), due_at=at(12, 8),
        )  # fmt: skip
        s.add(case)
        await s.flush()
        s.add(LadderStep(case_id=case.id, at=at(11, 27), kind="issued", tier="notice", channel="pwa"))
        await s.commit()
    return Known(ids, units, posts)
