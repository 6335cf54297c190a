"""The ladder's documents, from a case's file (seed 001): 廉情预警告知书, 廉情预警质询书, 廉情监察建议书
(one per tier the case reached), 延期整改通知书 (after the extension), 回访登记表 (the visits)."""

from __future__ import annotations

from datetime import datetime

from backend.forms.labels import day_zh
from backend.forms.layout import Pair, Row, Wide, form_pdf
from backend.forms.service import FormBase
from backend.kernel.access import Principal
from backend.kernel.errors import NotFound
from backend.ladder.schemas import StepPublic
from backend.ladder.service import LadderService

DOCS = {
    "notice": ("廉情预警告知书", "notice", "请于收到本告知书之日起 7 个工作日内作出书面说明。"),
    "inquiry": ("廉情预警质询书", "inquiry", "请于收到本质询书之日起 7 个工作日内书面答复并提出整改措施。"),
    "recommendation": ("廉情监察建议书", "recommendation", "请于一个月内整改到位，并书面反馈整改情况。"),
}
EXTENSION_TITLE = "延期整改通知书"
VISIT_TITLE = "回访登记表"
KINDS = (*DOCS, "extension", "visit")
OUTCOME_ZH = {"lifted": "已整改，解除预警", "visited": "尚未整改到位，继续跟踪"}


def _due(step: StepPublic) -> str:
    raw = step.data.get("due_at")
    return day_zh(datetime.fromisoformat(raw)) if isinstance(raw, str) else "—"


class LadderDocs(FormBase):
    async def ladder_document(self, principal: Principal, case_id: int, doc: str) -> tuple[str, bytes]:
        if doc not in KINDS:
            raise NotFound(f"no ladder document {doc!r}", code="document_not_found")
        file = await LadderService(self.session, self.trail, self.settings).file(principal, case_id)
        case = file.case
        person = await self.person_name(case.person_id)
        unit = await self.unit_name(case.unit_id)
        number = f"LT-{case.opened_at:%Y}-{case.id:05d}"
        head: list[Row] = [
            Pair("编号", number, "日期", ""),
            Pair("对象", person, "单位", unit),
            Wide("事由", case.subject),
        ]
        if doc in DOCS:
            title, tier, ask = DOCS[doc]
            step = next((s for s in file.steps if s.tier == tier and s.kind in ("issued", "escalated")), None)
            if step is None:
                raise NotFound(f"case {case.id} never reached this tier", code="document_not_found")
            head[0] = Pair("编号", f"{number}-{tier[0].upper()}", "签发日期", day_zh(step.at))
            rows = [
                *head,
                Wide("存在的问题", case.problem),
                Wide("有关要求", f"{case.requirements or ask}\n{ask}" if case.requirements else ask),
                Wide("反馈期限", f"{_due(step)}前"),
            ]
            if step.kind == "escalated" and step.text:
                rows.append(Wide("升级原因", step.text))
        elif doc == "extension":
            title = EXTENSION_TITLE
            step = next((s for s in file.steps if s.kind == "extended"), None)
            if step is None:
                raise NotFound(f"case {case.id} has no extension", code="document_not_found")
            old = step.data.get("old_due_at")
            rows = [
                *head,
                Wide("原整改期限", day_zh(datetime.fromisoformat(old)) if isinstance(old, str) else "—"),
                Wide("延期后整改期限", _due(step)),
                Wide("延期原因", step.text or "—"),
                Wide("说明", "延期仅限一次，最长不超过一个月；逾期未整改的，按规定处理。"),
            ]
            head[0] = Pair("编号", f"{number}-Y", "通知日期", day_zh(step.at))
        else:
            title = VISIT_TITLE
            visits = [s for s in file.steps if s.kind in OUTCOME_ZH]
            if not visits:
                raise NotFound(f"case {case.id} has no visit yet", code="document_not_found")
            rows = [*head]
            for n, s in enumerate(visits, start=1):
                rows.append(Pair(f"第 {n} 次回访", day_zh(s.at), "回访结果", OUTCOME_ZH[s.kind]))
                rows.append(Wide("回访情况", s.text or "—"))
        await self._exported(principal, case_id, doc)
        return f"{doc}-{case.id}", form_pdf(title, [f"编号：{number}"], rows)

    async def _exported(self, principal: Principal, case_id: int, doc: str) -> None:
        await self.trail.record(
            self.session,
            principal.actor,
            action="form.export",
            object_type="ladder_case",
            object_id=case_id,
            new={"document": doc, "format": "pdf"},
            power="form.read",
        )
        await self.session.commit()
