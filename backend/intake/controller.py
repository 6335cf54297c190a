"""Public intake over HTTP: ``/api/public/reports`` without an account; ``/api/intake`` for
inspectors and the committee."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.throttle import client_address
from backend.intake.models import (
    Challenge,
    IntakeDetail,
    IntakeState,
    IntakeSummary,
    IntakeTriage,
    PublicStatus,
    Receipt,
    StatusLookup,
)
from backend.intake.service import Draft, IntakeService
from backend.kernel.access import Principal, Role, requires

READERS = [requires(Role.inspector, Role.committee)]


async def provide_intake(db_session: NamedDependency[AsyncSession], state: State) -> IntakeService:
    return IntakeService(db_session, state.trail, state.settings)


@dataclass
class ReportForm:
    """A report as the public form sends it (multipart): the proof of work, the words, the files."""

    challenge: str
    nonce: str
    category: str
    subject: str
    body: str
    about: str | None = None
    contact: str | None = None
    files: list[UploadFile] = field(default_factory=list)


class PublicIntakeController(Controller):
    path = "/api/public/reports"
    tags = ["public intake"]
    dependencies = {"intake": Provide(provide_intake)}

    @get("/challenge", summary="A proof-of-work challenge for one report (public)")
    async def challenge(self, intake: NamedDependency[IntakeService]) -> Challenge:
        return intake.challenge()

    @post("/", status_code=201, summary="Send a report (public, multipart); answers the receipt code once")
    async def submit(
        self,
        data: Annotated[ReportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        intake: NamedDependency[IntakeService],
        request: Request[Any, Any, Any],
    ) -> Receipt:
        uploads = data.files if isinstance(data.files, list) else [data.files]
        contents = [await u.read() for u in uploads if isinstance(u, UploadFile)]
        draft = Draft(
            data.challenge,
            data.nonce,
            data.category,
            data.subject,
            data.body,
            data.about,
            data.contact,
            contents,
        )
        return await intake.submit(draft, client_address(request.scope, request.app.state.settings))

    @post("/status", status_code=200, summary="The state of a report, by its receipt code (public)")
    async def status(
        self,
        data: JSONBody[StatusLookup],
        intake: NamedDependency[IntakeService],
        request: Request[Any, Any, Any],
    ) -> PublicStatus:
        return await intake.status(data.receipt, client_address(request.scope, request.app.state.settings))


class IntakeController(Controller):
    path = "/api/intake"
    tags = ["public intake"]
    dependencies = {"intake": Provide(provide_intake)}
    guards = READERS

    @get("/", summary="Reports from the public, newest first (inspectors, committee)")
    async def listed(
        self,
        intake: NamedDependency[IntakeService],
        request: Request[Principal, Any, Any],
        in_state: Annotated[IntakeState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[IntakeSummary]:
        return await intake.listed(request.user, in_state, limit, offset)

    @get("/{report_id:int}", summary="One report in full (inspectors, committee)")
    async def detail(
        self,
        report_id: FromPath[int],
        intake: NamedDependency[IntakeService],
        request: Request[Principal, Any, Any],
    ) -> IntakeDetail:
        return await intake.detail(request.user, report_id)

    @get("/{report_id:int}/files/{file_id:int}", summary="An attachment of a report (inspectors, committee)")
    async def file(
        self,
        report_id: FromPath[int],
        file_id: FromPath[int],
        intake: NamedDependency[IntakeService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        content, mime = await intake.file(request.user, report_id, file_id)
        return Response(
            content,
            media_type=mime,
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        )

    @post(
        "/{report_id:int}/triage",
        status_code=200,
        summary="Set a report's state and notes (inspectors, committee)",
    )
    async def triage(
        self,
        report_id: FromPath[int],
        data: JSONBody[IntakeTriage],
        intake: NamedDependency[IntakeService],
        request: Request[Principal, Any, Any],
    ) -> IntakeDetail:
        return await intake.triage(request.user, report_id, data)
