"""Working-day calendar: anyone signed in reads it; admins add and remove overrides."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.calendar.models import (
    CalendarDay,
    CalendarOverrideCreate,
    CalendarOverridePublic,
    DeadlinePublic,
    OverrideChange,
)
from backend.calendar.service import LEVEL_WORKING_DAYS, CalendarService
from backend.kernel.access import Principal, Role, requires
from backend.kernel.errors import Invalid

MAX_RANGE_DAYS = 800


async def provide_calendar(db_session: NamedDependency[AsyncSession], state: State) -> CalendarService:
    return CalendarService(db_session, state.trail)


def _public(row: Any) -> CalendarOverridePublic:
    return CalendarOverridePublic.model_validate(row, from_attributes=True)


class CalendarController(Controller):
    path = "/api/calendar"
    tags = ["calendar"]
    dependencies = {"cal": Provide(provide_calendar)}
    guards = [requires()]

    @get("/overrides", summary="Holiday and make-up working day overrides")
    async def list_overrides(
        self,
        cal: NamedDependency[CalendarService],
        year: Annotated[int | None, QueryParameter(ge=1, le=9999)] = None,
    ) -> list[CalendarOverridePublic]:
        return [_public(o) for o in await cal.list_overrides(year)]

    @post("/overrides", guards=[requires(Role.admin)], summary="Declare a day holiday or working day (admin)")
    async def add_override(
        self,
        data: JSONBody[CalendarOverrideCreate],
        cal: NamedDependency[CalendarService],
        request: Request[Principal, Any, Any],
    ) -> OverrideChange:
        rows, recomputed = await cal.add_overrides([data], request.user.actor)
        return OverrideChange(override=_public(rows[0]), deadlines_recomputed=recomputed)

    @delete(
        "/overrides/{day:str}",
        guards=[requires(Role.admin)],
        status_code=200,
        summary="Remove a day's override (admin)",
    )
    async def remove_override(
        self, day: FromPath[str], cal: NamedDependency[CalendarService], request: Request[Principal, Any, Any]
    ) -> OverrideChange:
        row, recomputed = await cal.remove_override(parse_day(day, "day"), request.user.actor)
        return OverrideChange(override=_public(row), deadlines_recomputed=recomputed)

    @get("/days", summary="Whether each day of a range is a working day, and whether that is a guess")
    async def days(
        self,
        cal: NamedDependency[CalendarService],
        start: Annotated[str, QueryParameter(name="from")],
        end: Annotated[str, QueryParameter(name="to")],
    ) -> list[CalendarDay]:
        first, last = parse_day(start, "from"), parse_day(end, "to")
        if last < first or (last - first).days > MAX_RANGE_DAYS:
            raise Invalid(
                f"'to' must be on or after 'from' and at most {MAX_RANGE_DAYS} days later",
                code="invalid_range",
            )
        return await cal.days(first, last)

    @get("/deadline", summary="The deadline of a warning raised at a moment with a level")
    async def deadline(
        self,
        cal: NamedDependency[CalendarService],
        raised_at: FromQuery[str],
        level: Annotated[str, QueryParameter(pattern="^(high|medium|low)$")],
    ) -> DeadlinePublic:
        try:
            moment = datetime.fromisoformat(raised_at)
        except ValueError as exc:
            raise Invalid(
                "raised_at must be an ISO 8601 date-time",
                code="invalid_datetime",
                extra={"field": "raised_at"},
            ) from exc
        d = (await cal.calendar()).deadline(moment, LEVEL_WORKING_DAYS[level])
        return DeadlinePublic(
            raised_on=d.raised_on,
            working_days=d.working_days,
            due_on=d.due_on,
            due_at=d.due_at,
            provisional=d.provisional,
        )


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(
            f"{field} must be a date as YYYY-MM-DD, not {value[:40]!r}",
            code="invalid_date",
            extra={"field": field},
        ) from exc
