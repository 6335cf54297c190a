"""The risk portrait over HTTP, and its weights (admins change them; the change is in the trail)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, Role, requires
from backend.portrait.models import Portrait, WeightPublic, WeightsUpdate
from backend.portrait.service import PortraitService
from backend.stats.controller import pick_period
from backend.stats.periods import PeriodKind


async def provide_portrait(db_session: NamedDependency[AsyncSession], state: State) -> PortraitService:
    return PortraitService(db_session, state.settings, state.trail)


class PortraitController(Controller):
    path = "/api/portrait"
    tags = ["risk portrait"]
    dependencies = {"svc": Provide(provide_portrait)}

    @get(
        "/",
        guards=[requires(Role.head, Role.inspector, Role.committee)],
        summary="Risk scores per department, post or person (people: inspectors, committee), ranked",
    )
    async def portrait(
        self,
        svc: NamedDependency[PortraitService],
        request: Request[Principal, Any, Any],
        by: FromQuery[Literal["unit", "post", "person"]] = "unit",
        period: FromQuery[PeriodKind] = PeriodKind.quarter,
        at: Annotated[str | None, QueryParameter(max_length=10)] = None,
        first: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        last: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
    ) -> Portrait:
        return await svc.portrait(request.user, by, pick_period(period, at, first, last))

    @get(
        "/weights",
        guards=[requires(Role.admin, Role.committee, Role.inspector)],
        summary="The portrait's factor weights (and their defaults)",
    )
    async def weights(self, svc: NamedDependency[PortraitService]) -> list[WeightPublic]:
        return await svc.weights_public()

    @put("/weights", guards=[requires(Role.admin)], summary="Change factor weights (admins; in the trail)")
    async def set_weights(
        self,
        data: JSONBody[WeightsUpdate],
        svc: NamedDependency[PortraitService],
        request: Request[Principal, Any, Any],
    ) -> list[WeightPublic]:
        return await svc.set_weights(request.user, data.weights)
