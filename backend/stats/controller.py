"""Statistics over HTTP: one call for the dashboard, scoped to the caller."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, Role, requires
from backend.kernel.errors import Invalid
from backend.kernel.timeutil import SHANGHAI, utcnow
from backend.stats.periods import Period, PeriodKind, custom_period, period_of
from backend.stats.schemas import Stats
from backend.stats.service import StatsService
from backend.warnings.controller import parse_date

SUPERVISORS = [requires(Role.head, Role.inspector, Role.committee)]


async def provide_stats(db_session: NamedDependency[AsyncSession], state: State) -> StatsService:
    return StatsService(db_session, state.settings, state.trail)


def pick_period(kind: PeriodKind, at: str | None, first: str | None, last: str | None) -> Period:
    """A period of ``kind`` holding the day ``at`` (today by default), or the days ``first``–``last``."""
    if kind is PeriodKind.custom:
        start, end = parse_date(first, "from"), parse_date(last, "to")
        if start is None or end is None:
            raise Invalid("a custom period needs from and to", code="invalid_period", extra={"field": "from"})
        return custom_period(start, end)
    day: date = parse_date(at, "at") or utcnow().astimezone(SHANGHAI).date()
    return period_of(kind, day)


class StatsController(Controller):
    path = "/api/stats"
    tags = ["statistics"]
    dependencies = {"svc": Provide(provide_stats)}
    guards = SUPERVISORS

    @get(
        "/",
        summary="Statistics of the warnings, interviews, linked warnings, ladder and check-ups in my scope",
    )
    async def stats(
        self,
        svc: NamedDependency[StatsService],
        request: Request[Principal, Any, Any],
        period: FromQuery[PeriodKind] = PeriodKind.month,
        at: Annotated[str | None, QueryParameter(max_length=10)] = None,
        first: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        last: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
        unit_id: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Stats:
        return await svc.stats(request.user, pick_period(period, at, first, last), unit_id=unit_id)
