"""The risk registers over HTTP: supervisors read and export; topic experts and admins edit."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, Role, requires
from backend.registers.models import (
    FourListsRow,
    RiskPointCreate,
    RiskPointPublic,
    RiskPointUpdate,
    RiskPointVersionPublic,
)
from backend.registers.service import RegisterService

READERS = [requires(Role.head, Role.inspector, Role.committee, Role.admin, Role.expert)]
EDITORS = [requires(Role.admin, Role.expert)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: an export past the account's share of the minute (``backend/reports/exports.py``)
LIMITED = {429: ResponseSpec(None, description="Too many exports this minute: wait (Retry-After)")}


async def provide_registers(db_session: NamedDependency[AsyncSession], state: State) -> RegisterService:
    return RegisterService(db_session, state.trail, state.settings)


class RiskRegisterController(Controller):
    path = "/api/registers/risks"
    tags = ["risk registers"]
    dependencies = {"svc": Provide(provide_registers)}
    guards = READERS

    @get("/", summary="The B.1 risk list (per specialty and post), every point at its current version")
    async def risks(
        self,
        svc: NamedDependency[RegisterService],
        specialty: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> list[RiskPointPublic]:
        return await svc.risks(specialty)

    @post("/", guards=EDITORS, summary="Add a risk point (topic experts, admins)")
    async def create(
        self,
        data: JSONBody[RiskPointCreate],
        svc: NamedDependency[RegisterService],
        request: Request[Principal, Any, Any],
    ) -> RiskPointPublic:
        return await svc.create(request.user, data)

    @patch("/{risk_id:int}", guards=EDITORS, summary="Change a risk point: a new version, the old kept")
    async def update(
        self,
        risk_id: FromPath[int],
        data: JSONBody[RiskPointUpdate],
        svc: NamedDependency[RegisterService],
        request: Request[Principal, Any, Any],
    ) -> RiskPointPublic:
        return await svc.update(request.user, risk_id, data)

    @get("/{risk_id:int}/versions", summary="A risk point's earlier versions, newest first")
    async def versions(
        self, risk_id: FromPath[int], svc: NamedDependency[RegisterService]
    ) -> list[RiskPointVersionPublic]:
        return await svc.versions(risk_id)

    @get("/xlsx", summary="Form B.1 as XLSX (in the trail, rate-limited)", responses=LIMITED)
    async def export(
        self,
        svc: NamedDependency[RegisterService],
        request: Request[Principal, Any, Any],
        specialty: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> Response[bytes]:
        return _xlsx(await svc.export(request.user, specialty), "专业廉洁风险清单.xlsx")


def _xlsx(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=XLSX,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        },
    )


class FourListsController(Controller):
    """Form B.4: the four lists' summary, per risk point."""

    path = "/api/registers/four-lists"
    tags = ["risk registers"]
    dependencies = {"svc": Provide(provide_registers)}
    guards = READERS

    @get("/", summary="Form B.4: each risk point with its problem, risk, data and psychological lists")
    async def rows(
        self,
        svc: NamedDependency[RegisterService],
        request: Request[Principal, Any, Any],
        specialty: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> list[FourListsRow]:
        return await svc.four_lists(request.user, specialty)

    @get("/xlsx", summary="Form B.4 as XLSX (in the trail, rate-limited)", responses=LIMITED)
    async def export(
        self,
        svc: NamedDependency[RegisterService],
        request: Request[Principal, Any, Any],
        specialty: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> Response[bytes]:
        return _xlsx(await svc.export_four_lists(request.user, specialty), "四张清单汇总表.xlsx")
