"""Reports over HTTP: list, make on demand, download (PDF, XLSX), findings and their answers."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, Role, requires
from backend.reports.models import FindingAnswer, FindingPublic, ReportCreate, ReportPublic
from backend.reports.service import ReportService

SUPERVISORS = [requires(Role.head, Role.inspector, Role.committee)]
MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

#: an export past the account's share of the minute (``backend/reports/exports.py``)
LIMITED = {429: ResponseSpec(None, description="Too many exports this minute: wait (Retry-After)")}


async def provide_reports(db_session: NamedDependency[AsyncSession], state: State) -> ReportService:
    return ReportService(db_session, state.settings, state.trail)


class ReportController(Controller):
    path = "/api/reports"
    tags = ["reports"]
    dependencies = {"svc": Provide(provide_reports)}
    guards = SUPERVISORS

    @get("/", summary="Reports of the units in my scope, newest period first")
    async def list_reports(
        self,
        svc: NamedDependency[ReportService],
        request: Request[Principal, Any, Any],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[ReportPublic]:
        return await svc.reports(request.user, limit, offset)

    @post(
        "/",
        summary="Make a report now for a unit in my scope (a month, a quarter or any days)",
        responses=LIMITED,
    )
    async def make(
        self,
        data: JSONBody[ReportCreate],
        svc: NamedDependency[ReportService],
        request: Request[Principal, Any, Any],
    ) -> ReportPublic:
        return await svc.create(request.user, data)

    @get(
        "/{report_id:int}/{fmt:str}",
        summary="A report's file: pdf or xlsx (in the trail, rate-limited)",
        responses=LIMITED,
    )
    async def download(
        self,
        report_id: FromPath[int],
        fmt: FromPath[str],
        svc: NamedDependency[ReportService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        kind = fmt if fmt in MEDIA else "pdf"
        row, content = await svc.file(request.user, report_id, kind)
        name = quote(f"{row.title}.{kind}")
        return Response(
            content,
            media_type=MEDIA[kind],
            headers={
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            },
        )

    @get("/findings", summary="Findings addressed to the departments in my scope")
    async def findings(
        self,
        svc: NamedDependency[ReportService],
        request: Request[Principal, Any, Any],
        unanswered: FromQuery[bool] = False,
    ) -> list[FindingPublic]:
        return await svc.findings(request.user, unanswered=unanswered)

    @post(
        "/findings/{finding_id:int}/answer",
        guards=[requires(Role.head, Role.inspector)],
        status_code=200,
        summary="The department's answer to a finding (shown in the next report)",
    )
    async def answer(
        self,
        finding_id: FromPath[int],
        data: JSONBody[FindingAnswer],
        svc: NamedDependency[ReportService],
        request: Request[Principal, Any, Any],
    ) -> FindingPublic:
        return await svc.answer(request.user, finding_id, data.text)
