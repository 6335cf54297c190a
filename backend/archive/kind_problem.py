"""A problem's file (问题清单, Shenyang §5.10; 一事一档): what was found and where, its class, who
rectifies it with which measures by when, the report of it done, the check, the closing (销号) with
its effect and the re-checks, every step of its timeline and its trail of acts. Scoped as the
problem list is: the committee all, inspectors and heads their units, an assignee their own."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.casefile import Block, CaseFile
from backend.archive.sections import acted, file_safe, person_names, timeline_block, trail_block
from backend.archive.shelf import Shelf, ShelvedKind
from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.kernel.access import Principal
from backend.kernel.settings import Settings
from backend.problems.models import Problem
from backend.problems.schemas import ProblemPublic
from backend.problems.service import ProblemService

PROBLEM = Problem.__table__  # type: ignore[attr-defined]
P = PROBLEM.c
SHELF = Shelf(
    source=PROBLEM,
    topic=P.origin,
    unit=P.unit_id,
    person=P.assignee_person_id,
    opened=P.registered_at,
    key=P.id,
)


class ProblemKind(ShelvedKind):
    shelf, title, state = SHELF, P.title, P.state
    topic_words, state_words = "pb.origin", "pb_state"
    name = "problem"

    async def build(
        self,
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        case_id: int,
        words: Words,
    ) -> CaseFile:
        svc = ProblemService(session, trail)
        row = await svc.get(principal, case_id)
        problem = (await svc.public([row]))[0]
        names = await person_names(session, [row.registered_by, row.checked_by])
        out = CaseFile(
            kind=self.name,
            case_id=case_id,
            title=words("archive.title.problem", title=row.title),
            file_name=words(
                "archive.file.problem", title=file_safe(row.title), day=words.day(row.registered_at)
            ),
            trail_objects=[("problem", str(case_id))],
        )
        pending = words("archive.pending")
        none = words("archive.none_text")
        category = words.pick("pb.category", row.category) if row.category else pending
        registered = acted(words, names, row.registered_by, row.registered_at)
        out.blocks.append(
            Block(
                words("archive.basics"),
                facts=[
                    (words("clue.number"), problem.number),
                    (words("pb.problem_title"), problem.title),
                    (words("pb.description"), problem.description),
                    (words("pb.origin"), words.pick("pb.origin", row.origin)),
                    (words("pb.category"), category),
                    (words("pb.unit"), problem.unit_name),
                    (words("archive.l.state"), words.pick("pb_state", row.state)),
                    (words("archive.c.registered"), registered),
                ],
            )
        )
        out.blocks.append(self._rectification(problem, row, words))
        out.blocks.append(
            Block(
                words("archive.p.closing"),
                facts=[
                    (words("archive.p.checked_by"), names.get(row.checked_by or 0) or pending),
                    (words("archive.p.closed_at"), words.stamp(row.closed_at) or pending),
                    (words("pb.money_recovered"), words("pb.yuan", n=f"{row.money_recovered:,.2f}")),
                    (words("pb.problems_avoided"), str(row.problems_avoided)),
                    (words("pb.effect_note"), row.effect_note or none),
                    (words("pb.recheck_on"), words.day(row.recheck_on) or none),
                    (words("archive.p.rechecks"), words("archive.p.times", n=row.rechecks)),
                ],
            )
        )
        out.blocks.append(timeline_block(await svc.steps(case_id), words, "pb.step"))
        out.blocks.append(await trail_block(session, out.trail_objects, words))
        return out

    @staticmethod
    def _rectification(problem: ProblemPublic, row: Problem, words: Words) -> Block:
        pending = words("archive.pending")
        due = words.day(problem.due_on) if problem.due_on else pending
        if problem.overdue:
            due = f"{due}（{words('archive.p.overdue')}）"
        return Block(
            words("archive.p.rectification"),
            facts=[
                (words("pb.assignee"), problem.assignee_name or pending),
                (words("pb.measures"), problem.measures or pending),
                (words("pb.due_on"), due),
                (words("pb.rectified_text"), problem.rectified_text or pending),
                (words("archive.p.rectified_at"), words.stamp(row.rectified_at) or pending),
            ],
        )

    # --- the archive list ---------------------------------------------------------------
    def scope(self, principal: Principal) -> list[ColumnElement[bool]]:
        return [ProblemService.visible(principal)]
