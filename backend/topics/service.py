"""Topic library rules: B.3 fields, the state machine, versioned rules, change and exit requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail, changed
from backend.data.sandbox import CheckedRule, RuleRejected
from backend.data.service import DataService, check_rule
from backend.kernel.access import Actor
from backend.kernel.errors import Conflict, Invalid, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.topics.models import (
    Decision,
    RequestCreate,
    RequestKind,
    RequestPublic,
    RequestState,
    RuleDraft,
    RuleVersion,
    RuleVersionPublic,
    Thresholds,
    Topic,
    TopicCreate,
    TopicPublic,
    TopicRequest,
    TopicState,
    TopicUpdate,
    Transition,
)

#: state machine (6.2–6.7): proposed → validating → online → retired; back to proposed to rework
TRANSITIONS: dict[TopicState, set[TopicState]] = {
    TopicState.proposed: {TopicState.validating, TopicState.retired},
    TopicState.validating: {TopicState.online, TopicState.proposed, TopicState.retired},
    TopicState.online: {TopicState.retired, TopicState.validating},
    TopicState.retired: {TopicState.proposed},
}
RUNNABLE = (TopicState.validating, TopicState.online)


def _topic_values(topic: Topic) -> dict[str, Any]:
    # a topic read back from the database holds its enums as the stored strings
    return topic.model_dump(exclude={"id", "created_at", "updated_at", "last_run_at"}, warnings=False)


def _version_values(version: RuleVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "sql": version.sql,
        "params": version.params,
        "thresholds": version.thresholds,
        "note": version.note,
    }


class TopicService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings

    # --- reading ---------------------------------------------------------------------
    async def topics(self, state: TopicState | None = None, specialty: str | None = None) -> list[Topic]:
        stmt = select(Topic).order_by(col(Topic.code))
        if state is not None:
            stmt = stmt.where(col(Topic.state) == state)
        if specialty:
            stmt = stmt.where(col(Topic.specialty) == specialty)
        return list((await self.session.execute(stmt)).scalars())

    async def get(self, topic_id: int) -> Topic:
        topic = await self.session.get(Topic, topic_id)
        if topic is None:
            raise NotFound(f"topic {topic_id} does not exist", code="topic_not_found")
        return topic

    async def by_code(self, code: str) -> Topic | None:
        return (await self.session.execute(select(Topic).where(col(Topic.code) == code))).scalar_one_or_none()

    async def version(self, version_id: int | None) -> RuleVersion | None:
        return None if version_id is None else await self.session.get(RuleVersion, version_id)

    async def versions(self, topic_id: int) -> list[RuleVersion]:
        stmt = (
            select(RuleVersion).where(col(RuleVersion.topic_id) == topic_id).order_by(col(RuleVersion.number))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def public(self, topic: Topic) -> TopicPublic:
        version = await self.version(topic.current_version_id)
        public = TopicPublic.model_validate(topic, from_attributes=True)
        if version is not None:
            public.current_version = RuleVersionPublic.model_validate(version, from_attributes=True)
        return public

    # --- writing ---------------------------------------------------------------------
    async def create(self, data: TopicCreate, actor: Actor, *, commit: bool = True) -> Topic:
        if await self.by_code(data.code) is not None:
            raise Conflict(f"topic code {data.code!r} is taken", code="duplicate_topic")
        if data.offline and data.rule is not None:
            raise Invalid("an offline topic has no data rule", code="offline_topic_rule")
        topic = Topic(**data.model_dump(exclude={"rule"}, mode="json"))
        self.session.add(topic)
        await self.session.flush()
        await self.trail.record(
            self.session,
            actor,
            action="topic.create",
            object_type="topic",
            object_id=topic.id,
            new=_topic_values(topic),
            power="topic.write",
        )
        if data.rule is not None:
            await self._new_version(topic, data.rule, actor, note="first version")
        if commit:
            await self.session.commit()
        return topic

    async def update(self, topic_id: int, data: TopicUpdate, actor: Actor) -> Topic:
        topic = await self.get(topic_id)
        before = _topic_values(topic)
        for key, value in data.model_dump(exclude_unset=True, mode="json").items():
            if value is None:
                raise Invalid(f"{key} cannot be empty", code="invalid", extra={"field": key})
            setattr(topic, key, value)
        old, new = changed(before, _topic_values(topic))
        if new:
            topic.updated_at = utcnow()
            await self.trail.record(
                self.session,
                actor,
                action="topic.update",
                object_type="topic",
                object_id=topic.id,
                old=old,
                new=new,
                power="topic.write",
            )
        await self.session.commit()
        return topic

    async def set_rule(self, topic_id: int, draft: RuleDraft, actor: Actor) -> RuleVersion:
        """Edit the current rule in place while it has raised nothing; else a request is needed."""
        topic = await self.get(topic_id)
        if topic.offline:
            raise Invalid("an offline topic has no data rule", code="offline_topic_rule")
        current = await self.version(topic.current_version_id)
        if current is not None and current.raised:
            raise Conflict(
                f"version {current.number} raised warnings and is never edited: file a threshold-change "
                "or rule-optimisation request for a new version",
                code="version_frozen",
            )
        if current is None:
            version = await self._new_version(topic, draft, actor, note="first version")
        else:
            checked = await self._checked(draft, actor, topic.code)
            before = _version_values(current)
            current.sql, current.params = checked.sql, dict(draft.params)
            current.thresholds = draft.thresholds.model_dump()
            current.tables = list(checked.tables)
            old, new = changed(before, _version_values(current))
            await self.trail.record(
                self.session,
                actor,
                action="rule_version.edit",
                object_type="rule_version",
                object_id=current.id,
                old=old,
                new=new,
                power="topic.write",
            )
            version = current
        await self.session.commit()
        return version

    async def _checked(self, draft: RuleDraft, actor: Actor, topic_code: str) -> CheckedRule:
        """Check the rule; a rejected rule is refused with its reason, and the attempt is on the trail."""
        svc = DataService(self.session, self.trail, self.settings)
        try:
            return await check_rule(svc, draft.sql, dict(draft.params), draft.thresholds.measure)
        except RuleRejected as exc:
            await self.session.rollback()
            await self.trail.record(
                self.session,
                actor,
                action="rule.rejected",
                object_type="topic",
                object_id=topic_code,
                new={"sql": draft.sql[:4000], "params": draft.params, "reason": exc.detail},
                power="topic.write",
            )
            await self.session.commit()
            raise

    async def _new_version(
        self, topic: Topic, draft: RuleDraft, actor: Actor, *, note: str, request_id: int | None = None
    ) -> RuleVersion:
        checked = await self._checked(draft, actor, topic.code)
        numbers = [v.number for v in await self.versions(topic.id or 0)]
        version = RuleVersion(
            topic_id=topic.id or 0,
            number=max(numbers, default=0) + 1,
            sql=checked.sql,
            params=dict(draft.params),
            thresholds=draft.thresholds.model_dump(),
            tables=list(checked.tables),
            note=note,
            request_id=request_id,
            created_by=actor.person_id,
        )
        self.session.add(version)
        await self.session.flush()
        topic.current_version_id = version.id
        topic.updated_at = utcnow()
        await self.trail.record(
            self.session,
            actor,
            action="rule_version.create",
            object_type="rule_version",
            object_id=version.id,
            new={"topic": topic.code, **_version_values(version)},
            power="topic.write",
        )
        return version

    async def transition(
        self, topic_id: int, data: Transition, actor: Actor, *, commit: bool = True
    ) -> Topic:
        topic = await self.get(topic_id)
        allowed_states = set(TRANSITIONS[topic.state])
        if topic.offline and topic.state == TopicState.proposed:
            allowed_states = {TopicState.online, TopicState.retired}
        if data.to not in allowed_states:
            allowed = ", ".join(sorted(s.value for s in allowed_states))
            raise Conflict(
                f"a {topic.state!s} topic cannot become {data.to.value} (allowed: {allowed})",
                code="bad_transition",
            )
        if data.to in RUNNABLE and not topic.offline and topic.current_version_id is None:
            raise Conflict("give the topic a rule before it runs", code="no_rule")
        before = topic.state
        topic.state = data.to
        topic.updated_at = utcnow()
        await self.trail.record(
            self.session,
            actor,
            action="topic.transition",
            object_type="topic",
            object_id=topic.id,
            old={"state": str(before)},
            new={"state": data.to.value, "note": data.note},
            power="topic.approve",
        )
        if commit:
            await self.session.commit()
        return topic

    # --- versions that raised warnings -------------------------------------------------
    async def mark_raised(self, version_id: int) -> None:
        """Called by a run that stored a warning: the version is frozen from now on."""
        version = await self.session.get(RuleVersion, version_id)
        if version is not None and not version.raised:
            version.raised = True

    async def touch_run(self, topic: Topic) -> None:
        topic.last_run_at = utcnow()

    # --- requests (B.7, B.8, B.11) -------------------------------------------------------
    async def requests(self, topic_id: int) -> list[TopicRequest]:
        stmt = (
            select(TopicRequest).where(col(TopicRequest.topic_id) == topic_id).order_by(col(TopicRequest.id))
        )
        return list((await self.session.execute(stmt)).scalars())

    async def file_request(
        self, topic_id: int, data: RequestCreate, actor: Actor, *, commit: bool = True
    ) -> TopicRequest:
        topic = await self.get(topic_id)
        proposal: dict[str, Any] = {}
        if data.kind == RequestKind.threshold_change:
            if data.thresholds is None or data.sql is not None or data.params is not None:
                raise Invalid("a threshold change gives new thresholds only", code="invalid_request")
            proposal["thresholds"] = data.thresholds.model_dump()
        elif data.kind == RequestKind.rule_optimisation:
            if data.sql is None and data.params is None and data.thresholds is None:
                raise Invalid(
                    "a rule optimisation gives a new sql, params or thresholds", code="invalid_request"
                )
            proposal = data.model_dump(include={"sql", "params", "thresholds"}, exclude_none=True)
        elif topic.state == TopicState.retired:
            raise Conflict("the topic is already retired", code="bad_transition")
        if data.kind != RequestKind.exit and topic.offline:
            raise Invalid("an offline topic has no data rule", code="offline_topic_rule")
        open_same = [
            r for r in await self.requests(topic_id) if r.kind == data.kind and r.state == RequestState.open
        ]
        if data.kind == RequestKind.exit and open_same:
            return open_same[0]
        request = TopicRequest(
            topic_id=topic_id,
            kind=data.kind,
            reason=data.reason,
            proposal=proposal,
            requested_by=actor.person_id,
        )
        self.session.add(request)
        await self.session.flush()
        await self.trail.record(
            self.session,
            actor,
            action=f"topic_request.{data.kind.value}",
            object_type="topic_request",
            object_id=request.id,
            new={"topic": topic.code, "reason": data.reason, **proposal},
            power="topic.write",
        )
        if commit:
            await self.session.commit()
        return request

    async def decide(self, request_id: int, data: Decision, actor: Actor) -> TopicRequest:
        """A topic expert approves (a new version, or the exit) or rejects a request."""
        request = await self.session.get(TopicRequest, request_id)
        if request is None:
            raise NotFound(f"request {request_id} does not exist", code="request_not_found")
        if request.state != RequestState.open:
            raise Conflict(f"request {request_id} is already {request.state!s}", code="request_decided")
        topic = await self.get(request.topic_id)
        if data.approve:
            if request.kind == RequestKind.exit:
                await self.transition(
                    topic.id or 0, Transition(to=TopicState.retired, note=request.reason), actor, commit=False
                )
            else:
                current = await self.version(topic.current_version_id)
                base: dict[str, Any] = (
                    {"sql": current.sql, "params": current.params, "thresholds": current.thresholds}
                    if current
                    else {}
                )
                draft = RuleDraft.model_validate({**base, **request.proposal})
                version = await self._new_version(
                    topic,
                    draft,
                    actor,
                    note=f"{request.kind}: {request.reason}"[:500],
                    request_id=request.id,
                )
                request.version_id = version.id
        request.state = RequestState.approved if data.approve else RequestState.rejected
        request.decided_by = actor.person_id
        request.decision_note = data.note
        request.decided_at = utcnow()
        await self.trail.record(
            self.session,
            actor,
            action="topic_request.approve" if data.approve else "topic_request.reject",
            object_type="topic_request",
            object_id=request.id,
            old={"state": RequestState.open.value},
            new={"state": str(request.state), "note": data.note, "version_id": request.version_id},
            power="topic.approve",
        )
        await self.session.commit()
        return request


def request_public(request: TopicRequest) -> RequestPublic:
    return RequestPublic.model_validate(request, from_attributes=True)


def thresholds_of(version: RuleVersion) -> Thresholds:
    return Thresholds.model_validate(version.thresholds)
