"""The archive over HTTP: browse a kind of case by topic, department, person and year; download a
case's file as PDF or ZIP (heads, inspectors, the committee; each within their scope)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.casefile import ArchiveFilters
from backend.archive.exporting import XLSX, ExportCreate, ExportPublic, ExportService
from backend.archive.schemas import ArchiveFacets, ArchivePage
from backend.archive.service import ArchiveService
from backend.kernel.access import Principal, Role, requires
from backend.reports.controller import LIMITED


async def provide_archive(db_session: NamedDependency[AsyncSession], state: State) -> ArchiveService:
    return ArchiveService(db_session, state.settings, state.trail)


async def provide_exports(db_session: NamedDependency[AsyncSession], state: State) -> ExportService:
    return ExportService(db_session, state.settings, state.trail)


def attachment(content: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        },
    )


class ArchiveController(Controller):
    path = "/api/archive"
    tags = ["archive"]
    dependencies = {"svc": Provide(provide_archive)}
    guards = [requires(Role.head, Role.inspector, Role.committee)]

    @get("/{kind:str}", summary="Cases of a kind (warning, ladder) in my scope, by topic, unit, person, year")
    async def browse(
        self,
        kind: FromPath[str],
        svc: NamedDependency[ArchiveService],
        request: Request[Principal, Any, Any],
        topic: Annotated[str | None, QueryParameter(max_length=32)] = None,
        unit_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        person_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        lang: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> ArchivePage:
        filters = ArchiveFilters(topic=topic or None, unit_id=unit_id, person_id=person_id, year=year)
        return await svc.browse(request.user, kind, filters, lang, limit, offset)

    @get("/{kind:str}/facets", summary="What the archive of a kind can be browsed by, in my scope")
    async def facets(
        self,
        kind: FromPath[str],
        svc: NamedDependency[ArchiveService],
        request: Request[Principal, Any, Any],
        lang: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> ArchiveFacets:
        return await svc.facets(request.user, kind, lang)

    @get(
        "/{kind:str}/{case_id:int}/{fmt:str}",
        summary="A case's whole file: pdf, or zip with the PDF, the original photos and SHA-256 sums",
        responses=LIMITED,
    )
    async def download(
        self,
        kind: FromPath[str],
        case_id: FromPath[int],
        fmt: FromPath[str],
        svc: NamedDependency[ArchiveService],
        request: Request[Principal, Any, Any],
        lang: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> Response[bytes]:
        got = await svc.download(request.user, kind, case_id, "zip" if fmt == "zip" else "pdf", lang)
        return attachment(got.content, got.media_type, got.file_name)


class ExportController(Controller):
    """A list exported as XLSX with the screen's filters: at once when small, else in the background;
    the file is its requester's alone."""

    path = "/api/exports"
    tags = ["exports"]
    dependencies = {"svc": Provide(provide_exports)}
    guards = [requires()]

    @post(
        "/",
        summary="Export a list (warnings, replies, interviews, linked, ladder, trail) with its filters",
        responses={
            **LIMITED,
            202: ResponseSpec(
                ExportPublic, description="Too long to make at once: queued for the background"
            ),
        },
    )
    async def start(
        self,
        data: JSONBody[ExportCreate],
        svc: NamedDependency[ExportService],
        request: Request[Principal, Any, Any],
    ) -> Response[ExportPublic]:
        made = await svc.start(request.user, data)
        return Response(made, status_code=201 if made.state == "done" else 202)

    @get("/", summary="My exports, newest first")
    async def mine(
        self, svc: NamedDependency[ExportService], request: Request[Principal, Any, Any]
    ) -> list[ExportPublic]:
        return await svc.mine(request.user)

    @get("/{export_id:int}", summary="How far my export is")
    async def status(
        self,
        export_id: FromPath[int],
        svc: NamedDependency[ExportService],
        request: Request[Principal, Any, Any],
    ) -> ExportPublic:
        return await svc.status(request.user, export_id)

    @get("/{export_id:int}/file", summary="My export's file (only its requester; in the trail)")
    async def file(
        self,
        export_id: FromPath[int],
        svc: NamedDependency[ExportService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        name, content = await svc.file(request.user, export_id)
        return attachment(content, XLSX, name)
