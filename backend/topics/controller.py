"""The topic library: experts and admins define and change topics; supervisors read them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, Role, requires
from backend.topics.models import (
    Decision,
    RequestCreate,
    RequestPublic,
    RuleDraft,
    RuleVersionPublic,
    TopicCreate,
    TopicPublic,
    TopicState,
    TopicUpdate,
    Transition,
)
from backend.topics.service import TopicService, request_public

MANAGE = [requires(Role.admin, Role.expert)]
READ = [requires(Role.admin, Role.expert, Role.inspector, Role.committee, Role.head)]
APPROVE = [requires(Role.expert)]


async def provide_topics(db_session: NamedDependency[AsyncSession], state: State) -> TopicService:
    return TopicService(db_session, state.trail, state.settings)


class TopicController(Controller):
    path = "/api/topics"
    tags = ["topics"]
    dependencies = {"topics": Provide(provide_topics)}

    @get("/", guards=READ, summary="The topic library (B.3)")
    async def list_topics(
        self,
        topics: NamedDependency[TopicService],
        topic_state: Annotated[TopicState | None, QueryParameter(name="state")] = None,
        specialty: FromQuery[str | None] = None,
    ) -> list[TopicPublic]:
        return [await topics.public(t) for t in await topics.topics(topic_state, specialty)]

    @post("/", guards=MANAGE, summary="Propose a topic, optionally with its first rule version")
    async def create_topic(
        self,
        data: JSONBody[TopicCreate],
        topics: NamedDependency[TopicService],
        request: Request[Principal, Any, Any],
    ) -> TopicPublic:
        return await topics.public(await topics.create(data, request.user.actor))

    @get("/{topic_id:int}", guards=READ, summary="One topic with its current rule version")
    async def get_topic(self, topic_id: FromPath[int], topics: NamedDependency[TopicService]) -> TopicPublic:
        return await topics.public(await topics.get(topic_id))

    @patch("/{topic_id:int}", guards=MANAGE, summary="Edit the B.3 fields of a topic")
    async def update_topic(
        self,
        topic_id: FromPath[int],
        data: JSONBody[TopicUpdate],
        topics: NamedDependency[TopicService],
        request: Request[Principal, Any, Any],
    ) -> TopicPublic:
        return await topics.public(await topics.update(topic_id, data, request.user.actor))

    @put(
        "/{topic_id:int}/rule",
        guards=MANAGE,
        summary="Set the rule while its version has raised nothing (else 409 version_frozen: file a request)",
    )
    async def set_rule(
        self,
        topic_id: FromPath[int],
        data: JSONBody[RuleDraft],
        topics: NamedDependency[TopicService],
        request: Request[Principal, Any, Any],
    ) -> RuleVersionPublic:
        version = await topics.set_rule(topic_id, data, request.user.actor)
        return RuleVersionPublic.model_validate(version, from_attributes=True)

    @post(
        "/{topic_id:int}/transition", guards=MANAGE, status_code=200, summary="Move a topic to another state"
    )
    async def transition(
        self,
        topic_id: FromPath[int],
        data: JSONBody[Transition],
        topics: NamedDependency[TopicService],
        request: Request[Principal, Any, Any],
    ) -> TopicPublic:
        return await topics.public(await topics.transition(topic_id, data, request.user.actor))

    @get("/{topic_id:int}/versions", guards=READ, summary="Every version of the topic's rule")
    async def versions(
        self, topic_id: FromPath[int], topics: NamedDependency[TopicService]
    ) -> list[RuleVersionPublic]:
        await topics.get(topic_id)
        return [
            RuleVersionPublic.model_validate(v, from_attributes=True) for v in await topics.versions(topic_id)
        ]

    @get(
        "/{topic_id:int}/requests",
        guards=READ,
        summary="Threshold-change, rule-optimisation and exit requests",
    )
    async def list_requests(
        self, topic_id: FromPath[int], topics: NamedDependency[TopicService]
    ) -> list[RequestPublic]:
        await topics.get(topic_id)
        return [request_public(r) for r in await topics.requests(topic_id)]

    @post(
        "/{topic_id:int}/requests",
        guards=READ,
        summary="File a request (B.7, B.8, B.11) for an expert to decide",
    )
    async def file_request(
        self,
        topic_id: FromPath[int],
        data: JSONBody[RequestCreate],
        topics: NamedDependency[TopicService],
        request: Request[Principal, Any, Any],
    ) -> RequestPublic:
        return request_public(await topics.file_request(topic_id, data, request.user.actor))


class TopicRequestController(Controller):
    path = "/api/topic-requests"
    tags = ["topics"]
    dependencies = {"topics": Provide(provide_topics)}

    @post(
        "/{request_id:int}/decision",
        guards=APPROVE,
        status_code=200,
        summary="A topic expert approves (new rule version, or exit) or rejects a request",
    )
    async def decide(
        self,
        request_id: FromPath[int],
        data: JSONBody[Decision],
        topics: NamedDependency[TopicService],
        request: Request[Principal, Any, Any],
    ) -> RequestPublic:
        return request_public(await topics.decide(request_id, data, request.user.actor))
