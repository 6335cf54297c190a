"""Interviews (B.12), their ratio to true warnings, signatures, and check sheets (B.17) over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.interviews.checks import CheckSheetService, sheet_public
from backend.interviews.schemas import (
    CheckSheetCreate,
    CheckSheetPublic,
    InterviewCreate,
    InterviewPublic,
    InterviewRatio,
    UnitOpinion,
    UploadedSignature,
)
from backend.interviews.service import InterviewService, parse_period
from backend.kernel.access import Principal, Role, requires
from backend.kernel.web import FileForm, sent_file
from backend.warnings.controller import parse_date

RECORDERS = [requires(Role.head, Role.inspector)]
PDF_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


async def provide_interviews(db_session: NamedDependency[AsyncSession], state: State) -> InterviewService:
    return InterviewService(db_session, state.trail, state.settings)


async def provide_sheets(db_session: NamedDependency[AsyncSession], state: State) -> CheckSheetService:
    return CheckSheetService(db_session, state.trail, state.settings)


async def upload(data: FileForm) -> bytes:
    return await sent_file(data.file, "file", "the image").read()


def pdf_response(content: bytes, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type="application/pdf",
        headers={**PDF_HEADERS, "Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


class InterviewController(Controller):
    path = "/api/interviews"
    tags = ["interviews"]
    dependencies = {"svc": Provide(provide_interviews)}
    guards = [requires()]

    @get("/", summary="Interview records in my scope (mine as the interviewee), newest first")
    async def list_interviews(
        self,
        svc: NamedDependency[InterviewService],
        request: Request[Principal, Any, Any],
        person_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        warning_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[InterviewPublic]:
        rows = await svc.records(
            request.user, person_id=person_id, warning_id=warning_id, limit=limit, offset=offset
        )
        return await svc.public(rows)

    @post("/", guards=RECORDERS, summary="Record an interview (B.12); idempotent under client_id")
    async def create(
        self,
        data: JSONBody[InterviewCreate],
        svc: NamedDependency[InterviewService],
        request: Request[Principal, Any, Any],
    ) -> Response[InterviewPublic]:
        row, created = await svc.create(request.user, data)
        (body,) = await svc.public([row])
        return Response(body, status_code=201 if created else 200)

    @post(
        "/signatures",
        guards=RECORDERS,
        summary="Upload a signature drawn on the phone (PNG, field 'file')",
        responses={
            200: ResponseSpec(UploadedSignature, description="The same signature was uploaded before")
        },
    )
    async def add_signature(
        self,
        svc: NamedDependency[InterviewService],
        request: Request[Principal, Any, Any],
        data: Annotated[FileForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[UploadedSignature]:
        row, created = await svc.add_signature(request.user, await upload(data))
        return Response(
            UploadedSignature.model_validate(row, from_attributes=True), status_code=201 if created else 200
        )

    @get(
        "/ratio",
        guards=[requires(Role.head, Role.inspector, Role.committee)],
        summary="Interviews per true red (goal 80 %) and true orange/yellow (goal 50 %) warning, per unit",
    )
    async def ratio(
        self,
        svc: NamedDependency[InterviewService],
        request: Request[Principal, Any, Any],
        period: Annotated[str | None, QueryParameter(max_length=16)] = None,
        raised_from: Annotated[str | None, QueryParameter(max_length=40)] = None,
        raised_to: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> InterviewRatio:
        start: date | None
        end: date | None
        if period:
            start, end = parse_period(period)
        else:
            start, end = parse_date(raised_from, "raised_from"), parse_date(raised_to, "raised_to")
        return await svc.ratio(request.user, start, end)

    @get("/{interview_id:int}", summary="An interview record")
    async def detail(
        self,
        interview_id: FromPath[int],
        svc: NamedDependency[InterviewService],
        request: Request[Principal, Any, Any],
    ) -> InterviewPublic:
        return await svc.read(request.user, interview_id)

    @get("/{interview_id:int}/pdf", summary="The record as a printable B.12 form (PDF, Chinese)")
    async def pdf(
        self,
        interview_id: FromPath[int],
        svc: NamedDependency[InterviewService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        row, content = await svc.pdf(request.user, interview_id)
        return pdf_response(content, f"interview-{row.id}")

    @get("/{interview_id:int}/signatures/{signature_id:int}", summary="A signature image of a record")
    async def signature(
        self,
        interview_id: FromPath[int],
        signature_id: FromPath[int],
        svc: NamedDependency[InterviewService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        row, content = await svc.signature(request.user, interview_id, signature_id)
        return Response(content, media_type=row.content_type, headers=PDF_HEADERS)


class CheckSheetController(Controller):
    path = "/api/check-sheets"
    tags = ["check sheets"]
    dependencies = {"sheets": Provide(provide_sheets)}
    guards = [requires()]

    @get("/", summary="High-risk check sheets (B.17) in my scope")
    async def list_sheets(
        self,
        sheets: NamedDependency[CheckSheetService],
        request: Request[Principal, Any, Any],
        warning_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[CheckSheetPublic]:
        return [sheet_public(r) for r in await sheets.sheets(request.user, warning_id, limit, offset)]

    @post("/", guards=RECORDERS, summary="Fill the check sheet of a true red warning (department head)")
    async def create(
        self,
        sheets: NamedDependency[CheckSheetService],
        request: Request[Principal, Any, Any],
        data: JSONBody[CheckSheetCreate],
        warning_id: Annotated[int, QueryParameter(ge=1)],
    ) -> CheckSheetPublic:
        return sheet_public(await sheets.create(request.user, warning_id, data))

    @get("/{sheet_id:int}", summary="A check sheet")
    async def detail(
        self,
        sheet_id: FromPath[int],
        sheets: NamedDependency[CheckSheetService],
        request: Request[Principal, Any, Any],
    ) -> CheckSheetPublic:
        return sheet_public(await sheets.get(request.user, sheet_id))

    @post(
        "/{sheet_id:int}/unit-opinion",
        guards=RECORDERS,
        status_code=200,
        summary="The unit leader's opinion (单位负责人意见)",
    )
    async def unit_opinion(
        self,
        sheet_id: FromPath[int],
        data: JSONBody[UnitOpinion],
        sheets: NamedDependency[CheckSheetService],
        request: Request[Principal, Any, Any],
    ) -> CheckSheetPublic:
        return sheet_public(await sheets.add_unit_opinion(request.user, sheet_id, data))

    @get("/{sheet_id:int}/pdf", summary="The check sheet as a printable B.17 form (PDF, Chinese)")
    async def pdf(
        self,
        sheet_id: FromPath[int],
        sheets: NamedDependency[CheckSheetService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        row, content = await sheets.pdf(request.user, sheet_id)
        return pdf_response(content, f"check-sheet-{row.id}")
