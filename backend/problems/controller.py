"""The problem list over HTTP: heads, inspectors and the committee (and the assignee) within scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, requires
from backend.problems.models import Problem, ProblemState
from backend.problems.schemas import (
    ProblemAssign,
    ProblemCheck,
    ProblemClassify,
    ProblemClose,
    ProblemCreate,
    ProblemDone,
    ProblemEffect,
    ProblemFile,
    ProblemPlan,
    ProblemPublic,
    ProblemRecheck,
)
from backend.problems.service import ProblemService


async def provide_problems(db_session: NamedDependency[AsyncSession], state: State) -> ProblemService:
    return ProblemService(db_session, state.trail)


async def _then_file(
    problems: ProblemService, principal: Principal, problem_id: int, step: Callable[[], Awaitable[Problem]]
) -> ProblemFile:
    await step()
    return await problems.file(principal, problem_id)


class ProblemController(Controller):
    path = "/api/problems"
    tags = ["problem list"]
    dependencies = {"problems": Provide(provide_problems)}
    guards = [requires()]

    @get("/", summary="Problems in my scope (assigned to me, my units; the committee: all), newest first")
    async def listed(
        self,
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
        in_state: Annotated[ProblemState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> list[ProblemPublic]:
        return await problems.listed(request.user, in_state, limit, offset)

    @get("/effect", summary="Problems by state and the closed ones' effect, summed over my scope")
    async def effect(
        self, problems: NamedDependency[ProblemService], request: Request[Principal, Any, Any]
    ) -> ProblemEffect:
        return await problems.effect(request.user)

    @post("/", summary="Register a problem (inspectors), or report one of my unit (heads: 自查上报)")
    async def create(
        self,
        data: JSONBody[ProblemCreate],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemPublic:
        return (await problems.public([await problems.create(request.user, data)]))[0]

    @get("/{problem_id:int}", summary="A problem, its timeline and what I may do next")
    async def detail(
        self,
        problem_id: FromPath[int],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await problems.file(request.user, problem_id)

    @post("/{problem_id:int}/classify", status_code=200, summary="Classify (inspectors)")
    async def classify(
        self,
        problem_id: FromPath[int],
        data: JSONBody[ProblemClassify],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await _then_file(
            problems, request.user, problem_id, lambda: problems.classify(request.user, problem_id, data)
        )

    @post("/{problem_id:int}/assign", status_code=200, summary="Assign to a person of the unit (inspectors)")
    async def assign(
        self,
        problem_id: FromPath[int],
        data: JSONBody[ProblemAssign],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await _then_file(
            problems, request.user, problem_id, lambda: problems.assign(request.user, problem_id, data)
        )

    @post(
        "/{problem_id:int}/plan",
        status_code=200,
        summary="Rectification measures and due date (assignee, head)",
    )
    async def plan(
        self,
        problem_id: FromPath[int],
        data: JSONBody[ProblemPlan],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await _then_file(
            problems, request.user, problem_id, lambda: problems.plan(request.user, problem_id, data)
        )

    @post("/{problem_id:int}/done", status_code=200, summary="Report the rectification done (assignee, head)")
    async def done(
        self,
        problem_id: FromPath[int],
        data: JSONBody[ProblemDone],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await _then_file(
            problems, request.user, problem_id, lambda: problems.done(request.user, problem_id, data)
        )

    @post("/{problem_id:int}/check", status_code=200, summary="Check the rectification (inspectors)")
    async def check(
        self,
        problem_id: FromPath[int],
        data: JSONBody[ProblemCheck],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await _then_file(
            problems, request.user, problem_id, lambda: problems.check(request.user, problem_id, data)
        )

    @post("/{problem_id:int}/close", status_code=200, summary="Close (销号) with the effect (inspectors)")
    async def close(
        self,
        problem_id: FromPath[int],
        data: JSONBody[ProblemClose],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await _then_file(
            problems, request.user, problem_id, lambda: problems.close(request.user, problem_id, data)
        )

    @post(
        "/{problem_id:int}/recheck", status_code=200, summary="Re-check a closed problem later (inspectors)"
    )
    async def recheck(
        self,
        problem_id: FromPath[int],
        data: JSONBody[ProblemRecheck],
        problems: NamedDependency[ProblemService],
        request: Request[Principal, Any, Any],
    ) -> ProblemFile:
        return await _then_file(
            problems, request.user, problem_id, lambda: problems.recheck(request.user, problem_id, data)
        )
