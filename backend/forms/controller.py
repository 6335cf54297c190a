"""Routes of the statutory forms: file, list (待审批), read, sign in order, print."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.approvals.models import Approval, StepAct
from backend.forms.forms import FormService
from backend.forms.schemas import (
    AccountFormCreate,
    ClueFormCreate,
    ExitFormCreate,
    FormPublic,
    NoticeCreate,
    PlanFormCreate,
    ReportFormCreate,
    RuleFormCreate,
    ThresholdFormCreate,
)
from backend.interviews.controller import PDF_HEADERS, pdf_response
from backend.kernel.access import Principal, Role, requires

STAFF = [requires(Role.head, Role.inspector, Role.committee, Role.admin, Role.expert)]
READ_TOPICS = STAFF
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def provide_forms(db_session: NamedDependency[AsyncSession], state: State) -> FormService:
    return FormService(db_session, state.trail, state.settings, state.hasher)


Req = Request[Principal, Any, Any]


def xlsx_response(content: bytes, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type=XLSX,
        headers={**PDF_HEADERS, "Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


class FormController(Controller):
    path = "/api/forms"
    tags = ["forms"]
    dependencies = {"forms": Provide(provide_forms)}
    guards = STAFF

    async def _out(self, forms: FormService, request: Req, row: Approval) -> FormPublic:
        return await forms.public(request.user, row)

    @get(
        "/",
        summary="Forms in my scope (pending: those whose next sign-off is mine; linked_id: a linked "
        "warning's B.13 and B.14), newest first",
    )
    async def list_forms(
        self,
        forms: NamedDependency[FormService],
        request: Req,
        pending: Annotated[bool, QueryParameter()] = False,
        kind: Annotated[str | None, QueryParameter(max_length=24)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[FormPublic]:
        rows = await forms.approvals.forms(
            request.user, pending=pending, kind=kind, limit=limit, offset=offset
        )
        return [await forms.public(request.user, r) for r in rows]

    @get("/{form_id:int}", summary="A form: its fields and its sign-off steps")
    async def get_form(
        self, form_id: FromPath[int], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.approvals.get(request.user, form_id))

    @post(
        "/{form_id:int}/steps/{position:int}",
        status_code=200,
        summary="Sign step `position` (from 0) in order: approve or return, with an opinion",
    )
    async def sign(
        self,
        form_id: FromPath[int],
        position: FromPath[int],
        data: JSONBody[StepAct],
        forms: NamedDependency[FormService],
        request: Req,
    ) -> FormPublic:
        return await self._out(forms, request, await forms.sign(request.user, form_id, position, data))

    @get("/{form_id:int}/pdf", summary="The form as the standard's table (PDF, Chinese)")
    async def pdf(
        self, form_id: FromPath[int], forms: NamedDependency[FormService], request: Req
    ) -> Response[bytes]:
        row, content = await forms.pdf(request.user, form_id)
        return pdf_response(content, f"{row.kind}-{row.id}")

    @get("/{form_id:int}/xlsx", summary="A tabular form (B.6 clue sheet) as an XLSX workbook")
    async def xlsx(
        self, form_id: FromPath[int], forms: NamedDependency[FormService], request: Req
    ) -> Response[bytes]:
        row, content = await forms.xlsx(request.user, form_id)
        return xlsx_response(content, f"{row.kind}-{row.id}")

    @get("/b3/pdf", guards=READ_TOPICS, summary="B.3 the topic library (data list) as a PDF table")
    async def library_pdf(self, forms: NamedDependency[FormService], request: Req) -> Response[bytes]:
        return pdf_response(await forms.library_pdf(request.user), "b3-topic-library")

    @get("/b3/xlsx", guards=READ_TOPICS, summary="B.3 the topic library (data list) as an XLSX workbook")
    async def library_xlsx(self, forms: NamedDependency[FormService], request: Req) -> Response[bytes]:
        return xlsx_response(await forms.library_xlsx(request.user), "b3-topic-library")

    @post("/b13", status_code=201, summary="B.13 risk notice letter of a linked warning (an inspector)")
    async def notice(
        self, data: JSONBody[NoticeCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_notice(request.user, data))

    @post("/b14", status_code=201, summary="B.14 risk report answering a linked warning (the head)")
    async def report(
        self, data: JSONBody[ReportFormCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_report(request.user, data))

    @post("/b11", status_code=201, summary="B.11 threshold change request (a department's head)")
    async def threshold(
        self, data: JSONBody[ThresholdFormCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_threshold(request.user, data))

    @post("/b7", status_code=201, summary="B.7 rule optimisation request (a department's head)")
    async def rule(
        self, data: JSONBody[RuleFormCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_rule(request.user, data))

    @post("/b8", status_code=201, summary="B.8 topic exit notice (the topic expert group)")
    async def exit(
        self, data: JSONBody[ExitFormCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_exit(request.user, data))

    @post("/b5", status_code=201, summary="B.5 topic plan review")
    async def plan(
        self, data: JSONBody[PlanFormCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_plan(request.user, data))

    @post("/b6", status_code=201, summary="B.6 risk clue sheet to a department (an inspector)")
    async def clue(
        self, data: JSONBody[ClueFormCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_clue(request.user, data))

    @post("/b9", status_code=201, summary="B.9 account request; the admin's sign-off creates the account")
    async def account(
        self, data: JSONBody[AccountFormCreate], forms: NamedDependency[FormService], request: Req
    ) -> FormPublic:
        return await self._out(forms, request, await forms.file_account(request.user, data))


class LadderDocumentController(Controller):
    """The ladder's documents: the person of the case reads theirs too."""

    path = "/api/forms/ladder"
    tags = ["forms"]
    dependencies = {"forms": Provide(provide_forms)}
    guards = [requires()]

    @get(
        "/{case_id:int}/{doc:str}/pdf",
        summary="A ladder case's document: notice, inquiry, recommendation, extension, visit (PDF)",
    )
    async def ladder_document(
        self, case_id: FromPath[int], doc: FromPath[str], forms: NamedDependency[FormService], request: Req
    ) -> Response[bytes]:
        name, content = await forms.ladder_document(request.user, case_id, doc)
        return pdf_response(content, name)
