"""The personal ladder over HTTP: inspectors issue and follow up, the person answers and appeals."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, Role, requires
from backend.ladder.models import CaseState
from backend.ladder.schemas import (
    AnswerCreate,
    AppealAnswer,
    AppealCreate,
    AppealPublic,
    CaseCreate,
    CaseFile,
    CasePublic,
    ExtensionCreate,
    Reason,
    VisitCreate,
)
from backend.ladder.service import LadderService, case_public

INSPECTORS = [requires(Role.inspector)]


async def provide_ladder(db_session: NamedDependency[AsyncSession], state: State) -> LadderService:
    return LadderService(db_session, state.trail, state.settings)


class LadderController(Controller):
    path = "/api/ladder"
    tags = ["personal ladder"]
    dependencies = {"ladder": Provide(provide_ladder)}
    guards = [requires()]

    @get("/", summary="Ladder cases: mine, or those of my units (inspectors), newest first")
    async def list_cases(
        self,
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
        in_state: Annotated[CaseState | None, QueryParameter(name="state")] = None,
        person_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[CasePublic]:
        rows = await ladder.cases(
            request.user, state=in_state, person_id=person_id, limit=limit, offset=offset
        )
        return await ladder.named(list(rows))

    @post("/", guards=INSPECTORS, summary="Issue a notice, inquiry or supervision recommendation")
    async def open_case(
        self,
        data: JSONBody[CaseCreate],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> CasePublic:
        return case_public(await ladder.open_case(request.user, data))

    @get("/{case_id:int}", summary="The case file: the case, every step, every appeal")
    async def case_file(
        self,
        case_id: FromPath[int],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> CaseFile:
        return await ladder.file(request.user, case_id)

    @post("/{case_id:int}/answer", summary="The person's written answer (idempotent under client_id)")
    async def answer(
        self,
        case_id: FromPath[int],
        data: JSONBody[AnswerCreate],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> Response[CasePublic]:
        row, created = await ladder.answer(request.user, case_id, data)
        return Response(case_public(row), status_code=201 if created else 200)

    @post("/{case_id:int}/appeal", summary="Appeal (申诉) against the case")
    async def appeal(
        self,
        case_id: FromPath[int],
        data: JSONBody[AppealCreate],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> AppealPublic:
        return AppealPublic.model_validate(
            await ladder.appeal(request.user, case_id, data), from_attributes=True
        )

    @post("/{case_id:int}/escalate", guards=INSPECTORS, status_code=200, summary="Move the case up a tier")
    async def escalate(
        self,
        case_id: FromPath[int],
        data: JSONBody[Reason],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> CasePublic:
        return case_public(await ladder.escalate(request.user, case_id, data))

    @post(
        "/{case_id:int}/extend",
        guards=INSPECTORS,
        status_code=200,
        summary="The recommendation's one extension",
    )
    async def extend(
        self,
        case_id: FromPath[int],
        data: JSONBody[ExtensionCreate],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> CasePublic:
        return case_public(await ladder.extend(request.user, case_id, data))

    @post(
        "/{case_id:int}/visit",
        guards=INSPECTORS,
        status_code=200,
        summary="A follow-up visit (回访); may lift",
    )
    async def visit(
        self,
        case_id: FromPath[int],
        data: JSONBody[VisitCreate],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> CasePublic:
        return case_public(await ladder.visit(request.user, case_id, data))

    @post(
        "/{case_id:int}/appeals/{appeal_id:int}/answer",
        guards=INSPECTORS,
        status_code=200,
        summary="Answer an appeal (upheld: the case is withdrawn)",
    )
    async def answer_appeal(
        self,
        case_id: FromPath[int],
        appeal_id: FromPath[int],
        data: JSONBody[AppealAnswer],
        ladder: NamedDependency[LadderService],
        request: Request[Principal, Any, Any],
    ) -> AppealPublic:
        _, appeal = await ladder.answer_appeal(request.user, case_id, appeal_id, data)
        return AppealPublic.model_validate(appeal, from_attributes=True)
