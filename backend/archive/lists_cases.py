"""Lists of cases to export: interview records, risk notice letters, ladder cases, problems, clues,
supervision opinions, the trail."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import ColumnElement, func, select, true
from sqlmodel import col

from backend.archive.lists import PAGE, Filters, ListContext, ListSpec, RepliesList, WarningsList
from backend.archive.sections import person_names, unit_names
from backend.archive.words import Words
from backend.audit.models import AuditRecord
from backend.clues.models import Clue, ClueState
from backend.clues.service import ClueService
from backend.interviews.models import Interview, InterviewWarning
from backend.interviews.service import InterviewService
from backend.kernel.access import Principal, Role
from backend.ladder.models import CaseState, LadderCase
from backend.ladder.service import LadderService, case_public
from backend.opinions.models import Opinion, OpinionState
from backend.opinions.service import OpinionService
from backend.problems.models import Problem, ProblemState
from backend.problems.service import ProblemService
from backend.warnings.linked import LinkedService
from backend.warnings.models import LinkedState, LinkedWarning

T = TypeVar("T")


async def paged(fetch: Callable[[int, int], Awaitable[Sequence[T]]]) -> AsyncIterator[Sequence[T]]:
    """Pages of ``fetch(limit, offset)`` until one comes back short."""
    offset = 0
    while True:
        rows = await fetch(PAGE, offset)
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        offset += len(rows)


async def counted(ctx: ListContext, table: Any, where: list[ColumnElement[bool]]) -> int:
    return int(
        (await ctx.session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
    )


# --- interviews ------------------------------------------------------------------------------
class InterviewFilters(Filters):
    person_id: int | None = None
    warning_id: int | None = None


class InterviewsList(ListSpec):
    name = "interviews"
    filters = InterviewFilters

    columns = (
        "held",
        "place",
        "interviewee",
        "unit",
        "post",
        "interviewers",
        "warnings",
        "q_true",
        "suggestion",
        "follow_up",
    )

    async def count(self, ctx: ListContext, filters: Any) -> int:
        where = [InterviewService.visible(ctx.principal)]
        if filters.person_id:
            where.append(col(Interview.person_id) == filters.person_id)
        if filters.warning_id:
            linked = select(col(InterviewWarning.interview_id)).where(
                col(InterviewWarning.warning_id) == filters.warning_id
            )
            where.append(col(Interview.id).in_(linked))
        return await counted(ctx, Interview, where)

    async def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        svc = InterviewService(ctx.session, ctx.trail, ctx.settings)
        w = ctx.words

        async def fetch(limit: int, offset: int) -> Sequence[Interview]:
            return await svc.records(
                ctx.principal,
                person_id=filters.person_id,
                warning_id=filters.warning_id,
                limit=limit,
                offset=offset,
            )

        async for rows in paged(fetch):
            yield [
                [
                    w.stamp(r.held_at),
                    r.place,
                    r.interviewee_name,
                    r.interviewee_unit,
                    r.interviewee_post,
                    "、".join(p.name for p in r.interviewers),
                    len(r.warning_ids),
                    r.q_true,
                    r.suggestion,
                    r.follow_up,
                ]
                for r in await svc.public(list(rows))
            ]


# --- risk notice letters ---------------------------------------------------------------------
class LinkedFilters(Filters):
    state: LinkedState | None = None


def letters_scope(principal: Principal) -> ColumnElement[bool]:
    units = principal.case_unit_ids()
    return true() if units is None else col(LinkedWarning.unit_id).in_(sorted(units))


class LinkedList(ListSpec):
    name = "linked"
    roles = (Role.head, Role.inspector, Role.committee)
    filters = LinkedFilters

    columns = (
        "rule",
        "level",
        "unit",
        "state",
        "raised",
        "report_due",
        "warnings",
        "report",
        "measures",
        "answered",
    )

    async def count(self, ctx: ListContext, filters: Any) -> int:
        where = [letters_scope(ctx.principal)]
        if filters.state:
            where.append(col(LinkedWarning.state) == filters.state.value)
        return await counted(ctx, LinkedWarning, where)

    async def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        svc = LinkedService(ctx.session, ctx.trail)
        w = ctx.words

        async def fetch(limit: int, offset: int) -> Sequence[LinkedWarning]:
            return await svc.list(ctx.principal, filters.state, limit, offset)

        async for rows in paged(fetch):
            units = await unit_names(ctx.session, [r.unit_id for r in rows])
            yield [
                [
                    w.pick("linked_rule", r.rule),
                    w.pick("archive.level", r.level),
                    units.get(r.unit_id, ""),
                    w.pick("linked_state", r.state),
                    w.stamp(r.raised_at),
                    w.day(r.report_due_at),
                    len(r.warning_ids),
                    r.report_text or "",
                    r.report_measures or "",
                    w.stamp(r.answered_at),
                ]
                for r in rows
            ]


# --- ladder cases ----------------------------------------------------------------------------
class LadderFilters(Filters):
    state: CaseState | None = None
    person_id: int | None = None


class LadderList(ListSpec):
    name = "ladder"
    filters = LadderFilters

    columns = (
        "subject",
        "tier",
        "person",
        "unit",
        "state",
        "opened",
        "due",
        "overdue",
        "extended",
        "closed",
    )

    async def count(self, ctx: ListContext, filters: Any) -> int:
        where = [LadderService.visible(ctx.principal)]
        if filters.state:
            where.append(col(LadderCase.state) == filters.state.value)
        if filters.person_id:
            where.append(col(LadderCase.person_id) == filters.person_id)
        return await counted(ctx, LadderCase, where)

    async def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        svc = LadderService(ctx.session, ctx.trail, ctx.settings)
        w = ctx.words

        async def fetch(limit: int, offset: int) -> Sequence[LadderCase]:
            return await svc.cases(
                ctx.principal, state=filters.state, person_id=filters.person_id, limit=limit, offset=offset
            )

        async for rows in paged(fetch):
            people = await person_names(ctx.session, [r.person_id for r in rows])
            units = await unit_names(ctx.session, [r.unit_id for r in rows])
            out = []
            for row in rows:
                c = case_public(row)
                out.append(
                    [
                        c.subject,
                        w.pick("tier", c.tier.value),
                        people.get(c.person_id, ""),
                        units.get(c.unit_id, ""),
                        w.pick("ladder.state", c.state.value),
                        w.stamp(c.opened_at),
                        w.day(c.due_at),
                        w.yes_no(c.overdue),
                        w.yes_no(c.extended),
                        w.stamp(c.closed_at),
                    ]
                )
            yield out


# --- the trail of acts -----------------------------------------------------------------------
class TrailFilters(Filters):
    object_type: str | None = None
    object_id: str | None = None


class TrailList(ListSpec):
    name = "trail"
    roles = (Role.inspector, Role.committee)
    filters = TrailFilters

    columns = (
        "at",
        "act",
        "target",
        "who",
        "post",
        "channel",
    )

    async def count(self, ctx: ListContext, filters: Any) -> int:
        _, total = await ctx.trail.list(
            ctx.session,
            ctx.principal,
            object_type=filters.object_type,
            object_id=filters.object_id,
            limit=1,
            offset=0,
        )
        return total

    async def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        w = ctx.words

        async def fetch(limit: int, offset: int) -> Sequence[AuditRecord]:
            rows, _ = await ctx.trail.list(
                ctx.session,
                ctx.principal,
                object_type=filters.object_type,
                object_id=filters.object_id,
                limit=limit,
                offset=offset,
            )
            return rows

        async for rows in paged(fetch):
            people = await person_names(ctx.session, [r.actor_person_id for r in rows])
            yield [
                [
                    w.stamp(r.at),
                    w.pick("trail.action", r.action),
                    w.pick("trail.object", r.object_type),
                    people.get(r.actor_person_id or 0) or w("archive.trail.system"),
                    r.actor_post or "",
                    w.pick("trail.channel", r.channel),
                ]
                for r in rows
            ]


# --- case files listed by state (problems, clues, opinions) ------------------------------------
class Listed(Protocol):
    """A case-file service (``backend.kernel.flow.CaseFlow``) whose list the screen shows."""

    def visible(self, principal: Principal) -> ColumnElement[bool]: ...

    async def listed(self, principal: Principal, state: Any, limit: int, offset: int) -> Sequence[Any]: ...


class StateList(ListSpec):
    """A case-file list filtered by state as on screen: its service's scope and ``listed`` pages;
    a subclass names the service, its table and how an item reads as a row."""

    record: ClassVar[Any]

    def service(self, ctx: ListContext) -> Listed:
        raise NotImplementedError

    def row(self, w: Words, item: Any) -> list[Any]:
        raise NotImplementedError

    async def count(self, ctx: ListContext, filters: Any) -> int:
        where = [self.service(ctx).visible(ctx.principal)]
        if filters.state:
            where.append(self.record.state == filters.state.value)
        return await counted(ctx, self.record, where)

    async def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        svc = self.service(ctx)

        async def fetch(limit: int, offset: int) -> Sequence[Any]:
            return await svc.listed(ctx.principal, filters.state, limit, offset)

        async for rows in paged(fetch):
            yield [self.row(ctx.words, item) for item in rows]


# --- the problem list (问题清单) ----------------------------------------------------------------
class ProblemFilters(Filters):
    state: ProblemState | None = None


class ProblemsList(StateList):
    name = "problems"
    filters = ProblemFilters
    record = Problem

    columns = (
        "number",
        "title",
        "unit",
        "origin",
        "category",
        "state",
        "registered",
        "assignee",
        "measures",
        "due",
        "overdue",
        "closed",
        "money_recovered",
        "problems_avoided",
    )

    def service(self, ctx: ListContext) -> Listed:
        return ProblemService(ctx.session, ctx.trail)

    def row(self, w: Words, p: Any) -> list[Any]:
        return [
            p.number,
            p.title,
            p.unit_name,
            w.pick("pb.origin", p.origin.value),
            w.pick("pb.category", p.category.value) if p.category else "",
            w.pick("pb_state", p.state.value),
            w.stamp(p.registered_at),
            p.assignee_name or "",
            p.measures,
            w.day(p.due_on),
            w.yes_no(p.overdue),
            w.stamp(p.closed_at),
            p.money_recovered,
            p.problems_avoided,
        ]


# --- problem clues (问题线索, B.16) --------------------------------------------------------------
class ClueFilters(Filters):
    state: ClueState | None = None


class CluesList(StateList):
    name = "clues"
    roles = (Role.inspector, Role.committee)
    filters = ClueFilters
    record = Clue

    columns = (
        "number",
        "subject_person",
        "unit",
        "source",
        "nature",
        "clue_level",
        "state",
        "registered",
        "receiver",
        "received",
        "outcome",
        "concluded",
    )

    def service(self, ctx: ListContext) -> Listed:
        return ClueService(ctx.session, ctx.trail, ctx.settings)

    def row(self, w: Words, c: Any) -> list[Any]:
        return [
            c.number,
            c.subject_name,
            c.unit_name,
            w.pick("clue.source", c.source.value),
            c.nature,
            w.pick("clue.level", c.level.value) if c.level else "",
            w.pick("clue_state", c.state.value),
            w.stamp(c.registered_at),
            c.receiver_name or "",
            w.stamp(c.received_at),
            w.pick("clue.outcome", c.outcome.value) if c.outcome else "",
            w.stamp(c.concluded_at),
        ]


# --- collaborative supervision opinions (协同监督意见书, B.15) --------------------------------------
class OpinionFilters(Filters):
    state: OpinionState | None = None


class OpinionsList(StateList):
    """The opinions as their list shows them: inspectors their departments', heads those sent to
    theirs, the committee all."""

    name = "opinions"
    roles = (Role.head, Role.inspector, Role.committee)
    filters = OpinionFilters
    record = Opinion

    columns = (
        "number",
        "unit",
        "state",
        "op_problem",
        "op_advice",
        "drafted",
        "drafted_by",
        "leader_opinion",
        "committee_opinion",
        "sent",
        "op_answer",
        "op_answered",
        "op_follow_up",
        "concluded",
    )

    def service(self, ctx: ListContext) -> Listed:
        return OpinionService(ctx.session, ctx.trail)

    def row(self, w: Words, o: Any) -> list[Any]:
        return [
            o.number,
            o.unit_name,
            w.pick("op_state", o.state.value),
            o.problem,
            o.advice,
            w.stamp(o.drafted_at),
            o.drafted_by_name or "",
            o.leader_opinion,
            o.committee_opinion,
            w.stamp(o.sent_at),
            o.answer,
            w.stamp(o.answered_at),
            o.follow_up,
            w.stamp(o.closed_at),
        ]


def lists() -> dict[str, ListSpec]:
    found: list[ListSpec] = [
        WarningsList(),
        RepliesList(),
        InterviewsList(),
        LinkedList(),
        LadderList(),
        ProblemsList(),
        CluesList(),
        OpinionsList(),
        TrailList(),
    ]
    return {spec.name: spec for spec in found}
