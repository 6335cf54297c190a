"""Reminders of the problem list (日常监督), once a day: a closed problem whose re-check date has come
is put before the inspectors over its unit; a problem still rectifying past its due date is chased
with the person it is assigned to and the unit's heads. Each is told once per date (a timeline step
keyed by the date it is about), so a second run the same day tells no one twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.events.service import emit
from backend.kernel.access import Actor, Channel
from backend.kernel.timeutil import local, utcnow
from backend.org.service import OrgService
from backend.problems.models import Problem, ProblemState, ProblemStep

SYSTEM = Actor.system(Channel.system, "problem list")


@dataclass
class Reminded:
    recheck_due: int = 0
    overdue: int = 0

    def line(self) -> str:
        return f"problems: re-checks due {self.recheck_due}, overdue rectifications {self.overdue}"


async def _told(session: AsyncSession, ids: list[int], kind: str) -> set[tuple[int, str]]:
    """(problem, date) pairs already told of ``kind``."""
    if not ids:
        return set()
    rows = await session.execute(
        select(col(ProblemStep.problem_id), col(ProblemStep.data)).where(
            col(ProblemStep.problem_id).in_(ids), col(ProblemStep.kind) == kind
        )
    )
    return {(int(pid), str((data or {}).get("for"))) for pid, data in rows.all()}


async def remind(session: AsyncSession, trail: AuditTrail, today: date | None = None) -> Reminded:
    today = today or local(utcnow()).date()
    org = OrgService(session, trail)
    report = Reminded()
    found = {
        "recheck_due": (col(Problem.state) == ProblemState.closed.value, col(Problem.recheck_on) <= today),
        "overdue": (col(Problem.state) == ProblemState.rectifying.value, col(Problem.due_on) < today),
    }
    for kind, where in found.items():
        rows = list(
            (await session.execute(select(Problem).where(*where).order_by(col(Problem.id)))).scalars()
        )
        told = await _told(session, [r.id or 0 for r in rows], kind)
        for row in rows:
            when = (row.recheck_on if kind == "recheck_due" else row.due_on) or today
            if (row.id or 0, when.isoformat()) in told:
                continue
            chain = await org.unit_chain(row.unit_id)
            role = "inspector" if kind == "recheck_due" else "head"
            held = await org.holders(role, chain) if chain else {}
            people = [(p, role) for unit in chain for p in held.get(unit, [])]
            if kind == "overdue" and row.assignee_person_id:
                people.insert(0, (row.assignee_person_id, "assignee"))
            if people:
                await emit(
                    session,
                    f"problem.{kind}",
                    subject_type="problem",
                    subject_id=row.id or 0,
                    recipients=people,
                    data={"problem_id": row.id},
                )
            session.add(
                ProblemStep(
                    problem_id=row.id or 0,
                    kind=kind,
                    channel=Channel.system.value,
                    data={"for": when.isoformat(), "told": [p for p, _ in people]},
                )
            )
            await trail.record(
                session,
                SYSTEM,
                action=f"problem.{kind}",
                object_type="problem",
                object_id=row.id,
                new={"for": when.isoformat()},
                power="problem",
            )
            setattr(report, kind, getattr(report, kind) + 1)
        await session.commit()
    return report
