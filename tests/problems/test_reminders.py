"""The problem list's daily reminders: a re-check that has come due goes to the inspectors over the
unit, a rectification past its due date to the assignee and the unit's heads, each once per date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from backend.problems.models import Problem, ProblemState
from backend.problems.reminders import remind
from tests.problems.test_problems import me, unit_id
from tests.warnings.conftest import TRAIL, told


async def test_due_rechecks_and_late_rectifications_are_told_once(client, sessions, db):
    station = await unit_id(client, sessions, "城关供电所")
    manager, head, inspector = [await me(client, sessions, u) for u in ("manager", "head", "inspector")]
    today = date(2026, 12, 7)
    async with db.session() as s:
        common: dict[str, Any] = {
            "unit_id": station,
            "origin": "inspection",
            "description": "d",
            "registered_by": inspector,
        }
        s.add_all(
            [
                Problem(title="复查已到期", state=ProblemState.closed, recheck_on=today, **common),
                Problem(
                    title="复查未到期",
                    state=ProblemState.closed,
                    recheck_on=today + timedelta(days=1),
                    **common,
                ),
                Problem(
                    title="整改已逾期",
                    state=ProblemState.rectifying,
                    due_on=today - timedelta(days=1),
                    assignee_person_id=manager,
                    **common,
                ),
                Problem(
                    title="整改未逾期",
                    state=ProblemState.rectifying,
                    due_on=today,
                    assignee_person_id=manager,
                    **common,
                ),
            ]
        )
        await s.commit()
        first = await remind(s, TRAIL, today)
        again = await remind(s, TRAIL, today)
        ids = {
            p.title: p.id
            for p in (await s.execute(select(Problem).where(col(Problem.unit_id) == station))).scalars()
        }
    assert (first.recheck_due, first.overdue) == (1, 1)
    assert (again.recheck_due, again.overdue) == (0, 0)
    assert await told(db, "problem.recheck_due") == {inspector: "inspector"}
    assert await told(db, "problem.overdue") == {manager: "assignee", head: "head"}
    # the step is in the problem's timeline, in words on the phone
    file = (
        await client.get(f"/api/problems/{ids['整改已逾期']}", headers=await sessions.headers("head"))
    ).json()
    assert [s["kind"] for s in file["steps"]] == ["overdue"]
