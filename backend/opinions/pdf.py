"""表 B.15 协同监督意见书, laid out like the standard's table, with the department's answer and the
follow-up below it."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table, TableStyle

from backend.interviews.pdf import GRID, LABEL, form_document, para, stamp
from backend.opinions.schemas import OpinionPublic


def _signed(text: str, name: str | None, at: datetime | None) -> list[Flowable]:
    """An opinion, then who gave it and the day (年 月 日 left blank until it is given)."""
    return [para(text or "—"), para(f"{name or ''}    {stamp(at, minutes=False)}")]


def opinion_pdf(op: OpinionPublic) -> bytes:
    rows = [
        [para("编号", LABEL), para(op.number)],
        [para("整改部门/单位", LABEL), para(op.unit_name)],
        [para("发现问题", LABEL), para(op.problem)],
        [para("整改意见", LABEL), para(op.advice)],
        [para("项目组组长意见", LABEL), _signed(op.leader_opinion, op.leader_name, op.leader_at)],
        [
            para("监督工作委员会意见", LABEL),
            _signed(op.committee_opinion, op.committee_name, op.committee_at),
        ],
        [para("部门整改反馈", LABEL), _signed(op.answer, op.answered_by_name, op.answered_at)],
        [para("跟踪落实情况", LABEL), para(op.follow_up or "—")],
    ]
    table = Table(rows, colWidths=[40 * mm, 134 * mm])
    table.setStyle(TableStyle(GRID))
    return form_document(
        "协同监督意见书", f"编号：{op.number}    下发日期：{stamp(op.sent_at, minutes=False)}", table
    )
