"""What each form prints: its header lines and rows, from the approval's fields and steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.approvals.models import Approval, ApprovalStep
from backend.forms.labels import BOX, TITLE, day_zh
from backend.forms.layout import Pair, Row, Signed, Wide

Sheet = tuple[list[str], list[Row], str]


def signed(steps: list[ApprovalStep], box: str) -> Signed:
    step = next((s for s in steps if s.box == box), None)
    if step is None or step.done_at is None:
        return Signed(BOX[box], None, None, day_zh(None))
    return Signed(BOX[box], step.opinion, step.signer_name, day_zh(step.done_at), step.outcome)


def _letter_head(f: dict[str, Any], number: str) -> list[Row]:
    return [
        Pair("时间", f["made_on"], "编号", number),
        Pair("风险等级", f["level"], "风险发生时间", f["risk_on"]),
        Pair("预警主题", f["topic"], "获取信息来源", f["source"]),
        Pair("部门", f["unit"], "人员", f["people"]),
        Wide("风险描述", f["description"]),
        Wide("风险预警情况", f["warnings"]),
    ]


def b13(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    rows = [
        *_letter_head(f, a.number),
        Wide("可能存在的廉政风险", f["possible_risk"]),
        Wide("相关防控要求", f["requirements"]),
        Wide("要求反馈时间", f["feedback_due"]),
        signed(steps, "leader_approval"),
    ]
    return [f"编号：{a.number}"], rows, "说明：本函告书一式两份，报纪检监察部门及相关部门各一份"


def b14(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    rows = [
        *_letter_head(f, a.number),
        Wide("风险确认情况", f["confirmation"]),
        Wide("风险发生原因及相关说明", f["cause"]),
        Wide("采取的处理措施", f["measures"]),
        signed(steps, "head_opinion"),
        signed(steps, "discipline_instruction"),
    ]
    return [f"编号：{a.number}　对应风险函告书：{f['letter_number']}"], rows, ""


def b11(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    header = [
        f"申请部门：{f['unit']}",
        f"申请人：{f['requester']}",
        f"申请日期：{f['made_on']}",
        f"编号：{a.number}",
    ]
    rows: list[Row] = [
        Wide("监督主题名称", f["topic"]),
        Wide("规则内容", f["rule"]),
        Wide("原阈值", f["old_thresholds"]),
        Wide("变更阈值及变更原因", f"{f['new_thresholds']}\n变更原因：{f['reason']}"),
        signed(steps, "business_head_opinion"),
        signed(steps, "discipline_opinion"),
        signed(steps, "expert_opinion"),
    ]
    return header, rows, ""


def b7(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    rows: list[Row] = [
        Pair("时间", f["made_on"], "编号", a.number),
        Pair("部门", f["unit"], "人员", f["requester"]),
        Wide("预警主题描述", f["topic"]),
        Wide("原规则", f["old_rule"]),
        Wide("调整原因", f["reason"]),
        Wide(
            "调整建议",
            f"规则：{f['new_rule']}\n监督周期：{f['period']}\n风险阈值：{f['new_thresholds']}\n"
            f"字段维度：{f['fields']}",
        ),
        signed(steps, "department_opinion"),
        signed(steps, "discipline_opinion"),
        signed(steps, "leader_opinion"),
        signed(steps, "secretary_opinion"),
    ]
    return [f"编号：{a.number}"], rows, ""


def b8(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    rows: list[Row] = [
        Wide("主题名称", f["topic"]),
        Pair("申请人", f["requester"], "部门", f["unit"]),
        Pair("申请日期", f["made_on"], "预计出库日期", f["exit_on"]),
        Wide("申请原因", f["reason"]),
        Wide("近 6 个月的风险监督情况", f["six_months"]),
        signed(steps, "business_review"),
        signed(steps, "discipline_review"),
        signed(steps, "centre_opinion"),
    ]
    return [f"编号：{a.number}"], rows, ""


def b5(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    rows: list[Row] = [
        Pair("序号", "要求", "", "内容"),
        Pair("1", "拟开发或改进监督主题", "", f["topic"]),
        Pair("2", "工作目标", "", f["goal"]),
        signed(steps, "expert_review"),
        signed(steps, "tech_review"),
        signed(steps, "management_review"),
    ]
    header = [f"申请单位：{f['unit']}", f"申请时间：{f['made_on']}", f"编号：{a.number}"]
    return header, rows, ""


def b6(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    rows: list[Row] = [Pair("序号", "风险点", "风险层级", "详细描述")]
    for i, item in enumerate(f["items"], start=1):
        rows.append(
            Pair(str(i), item["risk_point"], item["tier"], f"{item['description']}\n单位：{item['unit']}"
                 + (f"\n备注：{item['note']}" if item.get("note") else ""))
        )  # fmt: skip
    rows += [
        signed(steps, "inspector_sign"),
        signed(steps, "inspection_leader_sign"),
        signed(steps, "receiver_sign"),
    ]
    return [f"编号：{a.number}"], rows, ""


def b9(a: Approval, steps: list[ApprovalStep]) -> Sheet:
    f = a.fields
    rows: list[Row] = [
        Pair("申请人", f["requester"], "所属部门", f["unit"]),
        Pair("申请时间", f["made_on"], "系统名称", f["system"]),
        Wide("账号", f["username"]),
        Wide("申请权限名称", f["permission"]),
        Wide("申请原因", f["reason"]),
        Wide("申请人签字", f["requester"]),
        signed(steps, "head_sign"),
        signed(steps, "discipline_account_opinion"),
        signed(steps, "admin_grant"),
    ]
    return [f"编号：{a.number}"], rows, ""


SHEETS: dict[str, Callable[[Approval, list[ApprovalStep]], Sheet]] = {
    "b5": b5,
    "b6": b6,
    "b7": b7,
    "b8": b8,
    "b9": b9,
    "b11": b11,
    "b13": b13,
    "b14": b14,
}
assert set(SHEETS) == set(TITLE)
