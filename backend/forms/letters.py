"""B.13 风险函告书 and B.14 风险报告单 of a linked warning, with every field of the standard's form."""

from __future__ import annotations

from collections import Counter
from typing import Any

from backend.approvals.models import Approval
from backend.approvals.service import StepSpec
from backend.forms.labels import LEVEL_ZH, RULE_ZH, day_zh
from backend.forms.schemas import NoticeCreate, ReportFormCreate
from backend.forms.service import FormBase
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden
from backend.kernel.timeutil import utcnow
from backend.topics.service import TopicService
from backend.warnings.linked import LinkedService, RiskReportCreate
from backend.warnings.models import LinkedWarning

NOTICE_STEPS = [StepSpec(Role.committee, "leader_approval")]
REPORT_STEPS = [StepSpec(Role.head, "head_opinion"), StepSpec(Role.inspector, "discipline_instruction")]
LEVEL_SHORT = {"high": "红色", "medium": "橙色", "low": "黄色"}


class LetterForms(FormBase):
    def linked(self) -> LinkedService:
        return LinkedService(self.session, self.trail)

    async def _letter_fields(self, letter: LinkedWarning) -> dict[str, Any]:
        """The head of B.13 and B.14: what the letter is about, read from its warnings."""
        members = await self.linked().members(letter)
        topics = TopicService(self.session, self.trail, self.settings)
        codes = list(dict.fromkeys(m["topic_code"] for m in members))
        names = []
        for code in codes:
            topic = await topics.by_code(code)
            names.append(topic.name if topic else code)
        people = list(dict.fromkeys(m["person_id"] for m in members))
        levels = Counter(m["level"] for m in members)
        count = "、".join(
            f"{LEVEL_SHORT[lv]} {levels[lv]} 条" for lv in ("high", "medium", "low") if levels[lv]
        )
        lines = [f"共 {len(members)} 条经部门负责人或纪检监察人员确认属实的预警（{count}）："]
        patterns = letter.patterns or [{"rule": letter.rule, "warning_ids": letter.warning_ids}]
        for n, p in enumerate(patterns, start=1):
            lines.append(f"{n}. {RULE_ZH[p['rule']]}：{len(p['warning_ids'])} 条")
        lines.append(
            "预警发生时间："
            + "、".join(f"{day_zh(m['raised_at'])}（{LEVEL_SHORT[m['level']]}）" for m in members)
        )
        rules = "；".join(RULE_ZH[p["rule"]] for p in (letter.patterns or [{"rule": letter.rule}]))
        return {
            "made_on": day_zh(utcnow()),
            "level": LEVEL_ZH[letter.level],
            "risk_on": day_zh(min((m["raised_at"] for m in members), default=letter.raised_at)),
            "topic": "、".join(names) or "—",
            "source": f"监督预警平台联动预警（{rules}）",
            "unit": await self.unit_name(letter.unit_id),
            "people": "、".join([await self.person_name(p) for p in people]) or "—",
            "warnings": "\n".join(lines),
            "rules": rules,
        }

    async def file_notice(self, principal: Principal, data: NoticeCreate) -> Approval:
        """B.13: an inspector over the department writes the letter; the leader approves it."""
        letter = await self.linked().get(principal, data.linked_id)
        if not principal.has(Role.inspector) or letter.unit_id not in principal.subtree_unit_ids:
            raise Forbidden(
                "the notice letter is written by an inspector over the department", code="not_inspector"
            )
        await self.no_open_twin("b13", "linked_warning", data.linked_id)
        fields = await self._letter_fields(letter)
        fields |= {
            "description": data.description or f"{fields['unit']}出现{fields['rules']}的情形。",
            "possible_risk": data.possible_risk,
            "requirements": data.requirements,
            "feedback_due": f"{day_zh(letter.report_due_at)}前（15 个工作日内）反馈《风险报告单》",
        }
        row = await self.approvals.open(
            kind="b13",
            subject_type="linked_warning",
            subject_id=data.linked_id,
            unit_id=letter.unit_id,
            fields=fields,
            steps=NOTICE_STEPS,
            actor=principal.actor,
            prefix="HG",
        )
        await self.session.commit()
        return row

    async def file_report(self, principal: Principal, data: ReportFormCreate) -> Approval:
        """B.14: the department's head answers the letter (its risk report); the head's opinion and
        discipline's instruction follow."""
        letter = await self.linked().get(principal, data.linked_id)
        if not principal.has(Role.head) or letter.unit_id not in principal.subtree_unit_ids:
            raise Forbidden("the risk report comes from the head of the department", code="not_unit_head")
        await self.no_open_twin("b14", "linked_warning", data.linked_id)
        if letter.state == "raised":
            report = RiskReportCreate(report=f"{data.confirmation}\n{data.cause}", measures=data.measures)
            await self.linked().report(principal, data.linked_id, report, commit=False)
        notices = await self.approvals.of_subject("b13", "linked_warning", data.linked_id)
        fields = await self._letter_fields(letter)
        b13 = notices[-1].fields if notices else {}
        fields |= {
            "description": b13.get("description", f"{fields['unit']}出现{fields['rules']}的情形。"),
            "letter_number": notices[-1].number if notices else "—",
            "confirmation": data.confirmation,
            "cause": data.cause,
            "measures": data.measures,
        }
        row = await self.approvals.open(
            kind="b14",
            subject_type="linked_warning",
            subject_id=data.linked_id,
            unit_id=letter.unit_id,
            fields=fields,
            steps=REPORT_STEPS,
            actor=principal.actor,
            prefix="BG",
        )
        await self.session.commit()
        return row
