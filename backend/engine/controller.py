"""Run topics now, read run records and validation reports."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.engine.models import ClueItem, ClueSheet, RunPublic, RunRequest, TopicPrecision, TrialVerdict
from backend.engine.service import EngineService
from backend.kernel.access import Principal, Role, requires

RUN = [requires(Role.admin, Role.expert, Role.inspector)]
MANAGE = [requires(Role.admin, Role.expert)]
#: company-wide counts per topic: those who see every warning
STATISTICS = [requires(Role.admin, Role.expert, Role.committee)]


async def provide_engine(db_session: NamedDependency[AsyncSession], state: State) -> EngineService:
    return EngineService(db_session, state.trail, state.settings)


class RulesController(Controller):
    path = "/api/rules"
    tags = ["rules"]
    dependencies = {"engine": Provide(provide_engine)}

    @post("/run", guards=RUN, status_code=200, summary="Run topics now (named, or every online topic)")
    async def run(
        self,
        data: JSONBody[RunRequest],
        engine: NamedDependency[EngineService],
        request: Request[Principal, Any, Any],
    ) -> list[RunPublic]:
        runs = await engine.run_codes(data.topics, request.user.actor)
        return [RunPublic.model_validate(r, from_attributes=True) for r in runs]

    @get("/runs", guards=RUN, summary="Run records, newest first")
    async def runs(
        self,
        engine: NamedDependency[EngineService],
        topic: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[RunPublic]:
        return await engine.runs(topic, limit, offset)

    @get("/runs/{run_id:int}", guards=RUN, summary="One run record")
    async def get_run(self, run_id: FromPath[int], engine: NamedDependency[EngineService]) -> RunPublic:
        return RunPublic.model_validate(await engine.get_run(run_id), from_attributes=True)

    @get("/validation/{topic_id:int}", guards=MANAGE, summary="Validation report of a topic (appendix D)")
    async def validation(
        self, topic_id: FromPath[int], engine: NamedDependency[EngineService]
    ) -> dict[str, Any]:
        return await engine.validation_report(topic_id)

    @get(
        "/validation/{topic_id:int}/hits",
        guards=MANAGE,
        summary="Clue sheet (B.6): a topic's trial hits with the experts' verdicts, highest level first",
    )
    async def clue_sheet(
        self,
        topic_id: FromPath[int],
        engine: NamedDependency[EngineService],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> ClueSheet:
        return await engine.clue_sheet(topic_id, limit, offset)

    @post(
        "/validation/{topic_id:int}/hits/{warning_id:int}/verdict",
        guards=MANAGE,
        status_code=200,
        summary="Record a topic expert's verdict (true / not true) on a trial hit checked offline",
    )
    async def trial_verdict(
        self,
        topic_id: FromPath[int],
        warning_id: FromPath[int],
        data: JSONBody[TrialVerdict],
        engine: NamedDependency[EngineService],
        request: Request[Principal, Any, Any],
    ) -> ClueItem:
        return await engine.record_trial_verdict(topic_id, warning_id, data, request.user.actor)

    @get(
        "/precision",
        guards=STATISTICS,
        summary="True rate (precision) of each online topic over its verified live warnings",
    )
    async def precision(self, engine: NamedDependency[EngineService]) -> list[TopicPrecision]:
        return await engine.precision()

    @post(
        "/retirements",
        guards=MANAGE,
        status_code=200,
        summary="File exit requests for topics low for 6 months",
    )
    async def retirements(self, engine: NamedDependency[EngineService]) -> dict[str, list[int]]:
        return {"requests": await engine.propose_retirements()}
