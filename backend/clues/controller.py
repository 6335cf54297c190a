"""Problem clues over HTTP: inspectors and the committee only (the receiver of a handover too)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clues.models import ClueState
from backend.clues.pdf import clue_pdf
from backend.clues.schemas import (
    ClueConclusion,
    ClueCreate,
    ClueFile,
    ClueHandover,
    ClueInstruction,
    CluePublic,
    ClueTriage,
    Receiver,
)
from backend.clues.service import ClueService
from backend.interviews.controller import pdf_response
from backend.kernel.access import Principal, Role, requires


async def provide_clues(db_session: NamedDependency[AsyncSession], state: State) -> ClueService:
    return ClueService(db_session, state.trail, state.settings)


class ClueController(Controller):
    path = "/api/clues"
    tags = ["problem clues"]
    dependencies = {"clues": Provide(provide_clues)}
    guards = [requires(Role.inspector, Role.committee)]

    @get("/", summary="Problem clues in my scope, newest first (inspectors, committee)")
    async def listed(
        self,
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
        in_state: Annotated[ClueState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[CluePublic]:
        return await clues.listed(request.user, in_state, limit, offset)

    @post("/", summary="Register a clue (from a true warning, an inspection, a letter, the public, by hand)")
    async def create(
        self,
        data: JSONBody[ClueCreate],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> CluePublic:
        return (await clues.public([await clues.create(request.user, data)]))[0]

    @get("/{clue_id:int}", summary="A clue, its timeline and what I may do next")
    async def detail(
        self,
        clue_id: FromPath[int],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> ClueFile:
        return await clues.file(request.user, clue_id)

    @get("/{clue_id:int}/pdf", summary="The clue as a printable B.16 form (PDF, Chinese)")
    async def pdf(
        self,
        clue_id: FromPath[int],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        clue, leader = await clues.sheet(request.user, clue_id)
        return pdf_response(clue_pdf(clue, leader), f"clue-{clue.id}")

    @get("/{clue_id:int}/receivers", summary="Who may receive the clue in discipline")
    async def receivers(
        self,
        clue_id: FromPath[int],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> list[Receiver]:
        return await clues.receivers(request.user, clue_id)

    @post(
        "/{clue_id:int}/triage", status_code=200, summary="Triage into one of three levels, with a proposal"
    )
    async def triage(
        self,
        clue_id: FromPath[int],
        data: JSONBody[ClueTriage],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> ClueFile:
        await clues.triage(request.user, clue_id, data)
        return await clues.file(request.user, clue_id)

    @post("/{clue_id:int}/instruct", status_code=200, summary="The committee's instruction (领导批示)")
    async def instruct(
        self,
        clue_id: FromPath[int],
        data: JSONBody[ClueInstruction],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> ClueFile:
        await clues.instruct(request.user, clue_id, data)
        return await clues.file(request.user, clue_id)

    @post(
        "/{clue_id:int}/hand-over", status_code=200, summary="Hand the clue over to discipline (a receiver)"
    )
    async def hand_over(
        self,
        clue_id: FromPath[int],
        data: JSONBody[ClueHandover],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> ClueFile:
        await clues.hand_over(request.user, clue_id, data)
        return await clues.file(request.user, clue_id)

    @post("/{clue_id:int}/receive", status_code=200, summary="Sign the receipt (the named receiver)")
    async def receive(
        self,
        clue_id: FromPath[int],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> ClueFile:
        await clues.receive(request.user, clue_id)
        return await clues.file(request.user, clue_id)

    @post("/{clue_id:int}/conclude", status_code=200, summary="Record the outcome")
    async def conclude(
        self,
        clue_id: FromPath[int],
        data: JSONBody[ClueConclusion],
        clues: NamedDependency[ClueService],
        request: Request[Principal, Any, Any],
    ) -> ClueFile:
        await clues.conclude(request.user, clue_id, data)
        return await clues.file(request.user, clue_id)
