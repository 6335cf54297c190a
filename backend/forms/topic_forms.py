"""B.11 threshold change, B.7 rule optimisation and B.8 exit: each files the topic's request
(``backend/topics``) and its form; the form's last signature approves the request (a new rule
version, or the exit), a return rejects it. B.5 plan review is signed the same way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from backend.approvals.models import Approval
from backend.approvals.service import StepSpec
from backend.forms.labels import LEVEL_ZH, PERIOD_ZH, day_zh, thresholds_zh
from backend.forms.schemas import ExitFormCreate, PlanFormCreate, RuleFormCreate, ThresholdFormCreate
from backend.forms.service import FormBase
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden
from backend.kernel.timeutil import utcnow
from backend.topics.models import Decision, RequestCreate, RequestKind, Topic
from backend.topics.service import TopicService
from backend.warnings.linked import topic_levels_since

THRESHOLD_STEPS = [
    StepSpec(Role.head, "business_head_opinion"),
    StepSpec(Role.inspector, "discipline_opinion"),
    StepSpec(Role.expert, "expert_opinion"),
]
RULE_STEPS = [
    StepSpec(Role.head, "department_opinion"),
    StepSpec(Role.inspector, "discipline_opinion"),
    StepSpec(Role.committee, "leader_opinion"),
    StepSpec(Role.committee, "secretary_opinion"),
]
EXIT_STEPS = [
    StepSpec(Role.head, "business_review"),
    StepSpec(Role.inspector, "discipline_review"),
    StepSpec(Role.expert, "centre_opinion"),
]
PLAN_STEPS = [
    StepSpec(Role.expert, "expert_review"),
    StepSpec(Role.admin, "tech_review"),
    StepSpec(Role.committee, "management_review"),
]


class TopicForms(FormBase):
    def topics(self) -> TopicService:
        return TopicService(self.session, self.trail, self.settings)

    async def _current(self, topic: Topic) -> dict[str, Any]:
        version = await self.topics().version(topic.current_version_id)
        return {"thresholds": version.thresholds if version else None, "sql": version.sql if version else ""}

    def _department(self, principal: Principal) -> None:
        if not principal.has(Role.head):
            raise Forbidden("a business department's head files this form", code="not_unit_head")

    async def _open(
        self,
        principal: Principal,
        kind: str,
        subject_id: int,
        unit_id: int,
        fields: dict[str, Any],
        steps: list[StepSpec],
        prefix: str,
    ) -> Approval:
        row = await self.approvals.open(
            kind=kind,
            subject_type="topic_request",
            subject_id=subject_id,
            unit_id=unit_id,
            fields=fields,
            steps=steps,
            actor=principal.actor,
            prefix=prefix,
        )
        await self.session.commit()
        return row

    async def _common(self, principal: Principal, topic: Topic, unit_id: int) -> dict[str, Any]:
        return {
            "made_on": day_zh(utcnow()),
            "unit": await self.unit_name(unit_id),
            "requester": await self.person_name(principal.person_id),
            "topic": topic.name,
        }

    async def file_threshold(self, principal: Principal, data: ThresholdFormCreate) -> Approval:
        self._department(principal)
        topic = await self.topics().get(data.topic_id)
        current = await self._current(topic)
        request = await self.topics().file_request(
            data.topic_id,
            RequestCreate(kind=RequestKind.threshold_change, reason=data.reason, thresholds=data.thresholds),
            principal.actor,
            commit=False,
        )
        fields = await self._common(principal, topic, principal.unit_id)
        fields |= {
            "rule": topic.rule_text or "—",
            "old_thresholds": thresholds_zh(current["thresholds"]),
            "new_thresholds": thresholds_zh(data.thresholds.model_dump()),
            "reason": data.reason,
        }
        return await self._open(
            principal, "b11", request.id or 0, principal.unit_id, fields, THRESHOLD_STEPS, "YZ"
        )

    async def file_rule(self, principal: Principal, data: RuleFormCreate) -> Approval:
        self._department(principal)
        topic = await self.topics().get(data.topic_id)
        current = await self._current(topic)
        ask = RequestCreate(
            kind=RequestKind.rule_optimisation,
            reason=data.reason,
            sql=data.sql,
            params=data.params,
            thresholds=data.thresholds,
        )
        request = await self.topics().file_request(data.topic_id, ask, principal.actor, commit=False)
        fields = await self._common(principal, topic, principal.unit_id)
        fields |= {
            "old_rule": f"{topic.rule_text or '—'}\n风险阈值：{thresholds_zh(current['thresholds'])}",
            "reason": data.reason,
            "new_rule": "调整规则语句" if data.sql else ("调整规则参数" if data.params else "不变"),
            "period": PERIOD_ZH[str(data.period or topic.monitoring_period)],
            "new_thresholds": thresholds_zh(data.thresholds.model_dump()) if data.thresholds else "不变",
            "fields": data.fields or "不变",
        }
        return await self._open(principal, "b7", request.id or 0, principal.unit_id, fields, RULE_STEPS, "GZ")

    async def file_exit(self, principal: Principal, data: ExitFormCreate) -> Approval:
        if not principal.has(Role.expert):
            raise Forbidden("the topic expert group files the exit notice", code="not_expert")
        topic = await self.topics().get(data.topic_id)
        request = await self.topics().file_request(
            data.topic_id,
            RequestCreate(kind=RequestKind.exit, reason=data.reason),
            principal.actor,
            commit=False,
        )
        levels = await topic_levels_since(self.session, data.topic_id, utcnow() - timedelta(days=183))
        seen = "，".join(f"{LEVEL_ZH[lv]} {levels.get(lv, 0)} 条" for lv in ("high", "medium", "low"))
        fields = await self._common(principal, topic, data.unit_id)
        fields |= {
            "exit_on": day_zh(data.exit_on),
            "reason": data.reason,
            "six_months": f"近 6 个月预警：{seen}",
        }
        return await self._open(principal, "b8", request.id or 0, data.unit_id, fields, EXIT_STEPS, "CK")

    async def file_plan(self, principal: Principal, data: PlanFormCreate) -> Approval:
        fields = {
            "made_on": day_zh(utcnow()),
            "unit": await self.unit_name(principal.unit_id),
            "topic": data.topic,
            "goal": data.goal,
        }
        row = await self.approvals.open(
            kind="b5",
            subject_type="plan",
            subject_id=principal.person_id,
            unit_id=principal.unit_id,
            fields=fields,
            steps=PLAN_STEPS,
            actor=principal.actor,
            prefix="PS",
        )
        await self.session.commit()
        return row

    async def decide_request(self, row: Approval, principal: Principal, *, approved: bool) -> None:
        """The form's last signature (or a return) decides the topic's request."""
        steps = await self.approvals.steps(row.id or 0)
        note = next((s.opinion for s in reversed(steps) if s.opinion), "") or ""
        await self.topics().decide(
            row.subject_id, Decision(approve=approved, note=note[:1000]), principal.actor
        )
