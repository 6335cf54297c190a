"""The lists a person can export, each as the screen shows it: the same filters, the same scope
(the list's own service narrows every query to the caller), one row per line with its words.

A list is a :class:`ListSpec`: its filters (checked like the screen's query), who may export it,
its header, its size and its rows page by page. Warnings and replies are here; interviews, risk
notice letters, ladder cases and the trail in ``lists_cases.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.archive.sections import person_names, unit_names
from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden, Invalid
from backend.kernel.settings import Settings
from backend.warnings.hits import TRIAL_VERDICT_PREFIX
from backend.warnings.inbox import InboxFilters
from backend.warnings.models import Finding, Level, Verification, WarningState
from backend.warnings.schemas import InboxBox, InboxView, WarningStatus, WarningSummary
from backend.warnings.service import WarningService

#: rows fetched per page (the services' own page limit)
PAGE = 100


@dataclass(frozen=True)
class ListContext:
    session: AsyncSession
    settings: Settings
    trail: AuditTrail
    principal: Principal
    words: Words


class Filters(BaseModel):
    """A list's filters as the screen sends them (query strings are coerced: "true", "5")."""

    model_config = ConfigDict(extra="forbid", str_max_length=64)


class ListSpec:
    name: ClassVar[str]
    #: roles that may export the list (none: anyone signed in, scoped)
    roles: ClassVar[tuple[Role, ...]] = ()
    filters: ClassVar[type[Filters]] = Filters

    def parse(self, principal: Principal, raw: dict[str, Any]) -> Filters:
        if self.roles and not principal.has(*self.roles):
            raise Forbidden("this list is not yours to export", code="role_required")
        try:
            return self.filters.model_validate({k: v for k, v in raw.items() if v not in ("", None)})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            raise Invalid(
                f"filter {field!r}: {first.get('msg', 'invalid')}",
                code="invalid_filter",
                extra={"field": field},
            ) from exc

    #: the columns' catalogue keys (export.col.*), in order
    columns: ClassVar[tuple[str, ...]] = ()

    def header(self, words: Words) -> list[str]:
        return [words(f"export.col.{c}") for c in self.columns]

    async def count(self, ctx: ListContext, filters: Any) -> int:
        raise NotImplementedError

    def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        raise NotImplementedError


# --- warnings --------------------------------------------------------------------------------
class WarningFilters(Filters):
    view: InboxView = InboxView.mine
    box: InboxBox | None = None
    level: Level | None = None
    topic: str | None = None
    state: WarningState | None = None
    overdue: bool | None = None
    raised_from: date | None = None
    raised_to: date | None = None
    period: str | None = None
    person_id: int | None = None
    unit_id: int | None = None
    specialty: str | None = None
    post_id: int | None = None
    status: WarningStatus | None = None
    finding: Finding | None = None
    lang: str | None = None

    def inbox(self) -> InboxFilters:
        return InboxFilters(**self.model_dump(exclude={"view", "lang"}))


async def warning_pages(ctx: ListContext, f: WarningFilters) -> AsyncIterator[list[WarningSummary]]:
    svc = WarningService(ctx.session, ctx.trail, ctx.settings)
    offset = 0
    while True:
        page = await svc.inbox(
            ctx.principal, f.view, f.inbox(), limit=PAGE, offset=offset, lang=ctx.words.lang
        )
        if not page.items:
            return
        yield list(page.items)
        offset += len(page.items)
        if offset >= page.total:
            return


async def warnings_total(ctx: ListContext, f: WarningFilters) -> int:
    svc = WarningService(ctx.session, ctx.trail, ctx.settings)
    page = await svc.inbox(ctx.principal, f.view, f.inbox(), limit=1, offset=0, lang=ctx.words.lang)
    return page.total


class WarningsList(ListSpec):
    name = "warnings"
    filters = WarningFilters

    columns = (
        "topic",
        "level",
        "state",
        "person",
        "unit",
        "object",
        "period",
        "raised",
        "due",
        "finding",
        "overdue",
    )

    async def count(self, ctx: ListContext, filters: Any) -> int:
        return await warnings_total(ctx, filters)

    async def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        w = ctx.words
        async for items in warning_pages(ctx, filters):
            people = await person_names(ctx.session, [s.person_id for s in items])
            units = await unit_names(ctx.session, [s.unit_id for s in items])
            yield [
                [
                    s.topic_name or w("warning.untitled"),
                    w.pick("archive.level", s.level.value),
                    w.pick("state", s.state.value),
                    people.get(s.person_id, ""),
                    units.get(s.unit_id, ""),
                    s.object_key,
                    w.period(s.period_key),
                    w.stamp(s.raised_at),
                    w.day(s.due_at) if s.due_at else "",
                    w.pick("finding", s.finding.value) if s.finding else "",
                    w.yes_no(s.overdue),
                ]
                for s in items
            ]


# --- replies (the verifications of the warnings listed) --------------------------------------
class RepliesList(ListSpec):
    """Every reply (核查反馈) of the warnings the screen lists, oldest round first."""

    name = "replies"
    filters = WarningFilters

    columns = (
        "topic",
        "level",
        "person",
        "unit",
        "round",
        "result",
        "cause",
        "measures",
        "submitted",
        "decision",
        "decided_by",
        "decided_at",
        "reason",
    )

    async def count(self, ctx: ListContext, filters: Any) -> int:
        return await warnings_total(ctx, filters)

    async def pages(self, ctx: ListContext, filters: Any) -> AsyncIterator[list[list[Any]]]:
        w = ctx.words
        async for items in warning_pages(ctx, filters):
            by_id = {s.id: s for s in items}
            replies = list(
                (
                    await ctx.session.execute(
                        select(Verification)
                        .where(
                            col(Verification.warning_id).in_(sorted(by_id)),
                            col(Verification.client_id).not_like(f"{TRIAL_VERDICT_PREFIX}%"),
                        )
                        .order_by(col(Verification.warning_id), col(Verification.round))
                    )
                ).scalars()
            )
            people = await person_names(
                ctx.session, [s.person_id for s in items] + [v.decided_by for v in replies]
            )
            units = await unit_names(ctx.session, [s.unit_id for s in items])
            rows = []
            for v in replies:
                s = by_id[v.warning_id]
                rows.append(
                    [
                        s.topic_name or w("warning.untitled"),
                        w.pick("archive.level", s.level.value),
                        people.get(s.person_id, ""),
                        units.get(s.unit_id, ""),
                        v.round,
                        w.pick("finding", v.result),
                        v.cause,
                        v.measures,
                        w.stamp(v.submitted_at),
                        w.pick("archive.decision", v.decision or "pending"),
                        people.get(v.decided_by or 0, ""),
                        w.stamp(v.decided_at),
                        v.decision_reason or "",
                    ]
                )
            yield rows
