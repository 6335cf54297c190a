"""Collaborative supervision opinions over HTTP (heads, inspectors, the committee; within scope)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.interviews.controller import pdf_response
from backend.kernel.access import Principal, Role, requires
from backend.opinions.models import OpinionState
from backend.opinions.pdf import opinion_pdf
from backend.opinions.schemas import OpinionCreate, OpinionFile, OpinionFollow, OpinionPublic, OpinionText
from backend.opinions.service import OpinionService

Svc = NamedDependency[OpinionService]
Caller = Request[Principal, Any, Any]


async def provide_opinions(db_session: NamedDependency[AsyncSession], state: State) -> OpinionService:
    return OpinionService(db_session, state.trail)


class OpinionController(Controller):
    path = "/api/opinions"
    tags = ["supervision opinions"]
    dependencies = {"opinions": Provide(provide_opinions)}
    guards = [requires(Role.head, Role.inspector, Role.committee)]

    @get("/", summary="Opinions in my scope (heads: those sent to their department), newest first")
    async def listed(
        self,
        opinions: Svc,
        request: Caller,
        in_state: Annotated[OpinionState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[OpinionPublic]:
        return await opinions.listed(request.user, in_state, limit, offset)

    @post("/", summary="Draft an opinion to a department (inspectors)")
    async def create(self, data: JSONBody[OpinionCreate], opinions: Svc, request: Caller) -> OpinionPublic:
        return (await opinions.public([await opinions.create(request.user, data)]))[0]

    @get("/{opinion_id:int}", summary="An opinion, its timeline and what I may do next")
    async def detail(self, opinion_id: FromPath[int], opinions: Svc, request: Caller) -> OpinionFile:
        return await opinions.file(request.user, opinion_id)

    @get("/{opinion_id:int}/pdf", summary="The opinion as a printable B.15 form (PDF, Chinese)")
    async def pdf(self, opinion_id: FromPath[int], opinions: Svc, request: Caller) -> Response[bytes]:
        sheet = await opinions.sheet(request.user, opinion_id)
        return pdf_response(opinion_pdf(sheet), f"opinion-{sheet.id}")

    @post(
        "/{opinion_id:int}/submit",
        status_code=200,
        summary="Submit for review, with the group leader's opinion",
    )
    async def submit(
        self, opinion_id: FromPath[int], data: JSONBody[OpinionText], opinions: Svc, request: Caller
    ) -> OpinionFile:
        await opinions.submit(request.user, opinion_id, data)
        return await opinions.file(request.user, opinion_id)

    @post("/{opinion_id:int}/approve", status_code=200, summary="Approve, with the committee's opinion")
    async def approve(
        self, opinion_id: FromPath[int], data: JSONBody[OpinionText], opinions: Svc, request: Caller
    ) -> OpinionFile:
        await opinions.approve(request.user, opinion_id, data)
        return await opinions.file(request.user, opinion_id)

    @post("/{opinion_id:int}/return", status_code=200, summary="Return the draft, with a reason (committee)")
    async def send_back(
        self, opinion_id: FromPath[int], data: JSONBody[OpinionText], opinions: Svc, request: Caller
    ) -> OpinionFile:
        await opinions.send_back(request.user, opinion_id, data)
        return await opinions.file(request.user, opinion_id)

    @post("/{opinion_id:int}/send", status_code=200, summary="Send the approved opinion to the department")
    async def send(self, opinion_id: FromPath[int], opinions: Svc, request: Caller) -> OpinionFile:
        await opinions.send(request.user, opinion_id)
        return await opinions.file(request.user, opinion_id)

    @post("/{opinion_id:int}/answer", status_code=200, summary="The department head's answer")
    async def answer(
        self, opinion_id: FromPath[int], data: JSONBody[OpinionText], opinions: Svc, request: Caller
    ) -> OpinionFile:
        await opinions.answer(request.user, opinion_id, data)
        return await opinions.file(request.user, opinion_id)

    @post(
        "/{opinion_id:int}/follow",
        status_code=200,
        summary="Follow up: close, or send back for another answer",
    )
    async def follow(
        self, opinion_id: FromPath[int], data: JSONBody[OpinionFollow], opinions: Svc, request: Caller
    ) -> OpinionFile:
        await opinions.follow(request.user, opinion_id, data)
        return await opinions.file(request.user, opinion_id)
