"""Words of the forms in zh-CN (the forms are printed in Chinese): titles, boxes, roles."""

from __future__ import annotations

from datetime import date, datetime

from backend.kernel.timeutil import local

LEVEL_ZH = {"high": "高风险（红色）", "medium": "中风险（橙色）", "low": "低风险（黄色）"}
RULE_ZH = {
    "repeat": "同一主题三次属实预警",
    "concentrated": "多个主题的属实预警集中于同一人员或对象",
    "double_red": "同一主题两次属实高风险告警",
    "relapse": "预警经处理后再次出现属实告警",
}
ROLE_ZH = {
    "head": "部门负责人",
    "inspector": "纪检监察人员",
    "committee": "监督工作委员会",
    "expert": "主题专家",
    "admin": "系统管理员",
}
PERIOD_ZH = {"daily": "每日", "weekly": "每周", "monthly": "每月"}
DIRECTION_ZH = {"above": "不低于", "below": "不高于"}

#: each form's title (as the standard names it)
TITLE = {
    "b5": "“互联网+协同监督”平台监督主题方案评审单",
    "b6": "风险线索核查表",
    "b7": "规则优化联系单",
    "b8": "监督主题出库告知单",
    "b9": "“互联网+协同监督”平台应用权限申请表",
    "b11": "廉洁风险“互联网+协同监督”主题风险等级阈值变更申请单",
    "b13": "风险函告书",
    "b14": "风险报告单",
}

#: the box each sign-off step fills
BOX = {
    "leader_approval": "领导批复意见",
    "head_opinion": "部门负责人意见",
    "discipline_instruction": "纪检监察部门批示意见",
    "department_opinion": "专业部门意见",
    "discipline_opinion": "纪检监察部门意见",
    "leader_opinion": "分管领导意见",
    "secretary_opinion": "纪委书记意见",
    "business_review": "业务部门审核意见",
    "discipline_review": "纪检监察部门审核意见",
    "centre_opinion": "运监中心意见",
    "business_head_opinion": "业务部门负责人意见",
    "expert_opinion": "主题专家组意见",
    "expert_review": "主题专家组评审意见",
    "tech_review": "技术开发组单位评审意见",
    "management_review": "主题管理组评审意见",
    "inspector_sign": "监察人员",
    "inspection_leader_sign": "监察领导",
    "receiver_sign": "签收人",
    "head_sign": "部门负责人签字",
    "discipline_account_opinion": "纪检监察部门意见",
    "admin_grant": "技术开发组权限分配",
}


def day_zh(value: datetime | date | None) -> str:
    if value is None:
        return "    年  月  日"
    if isinstance(value, datetime):
        value = local(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def thresholds_zh(thresholds: dict[str, object] | None) -> str:
    """高风险：≥ 5；中风险：≥ 3；低风险：≥ 1 (the measure's bounds, in the form's words)."""
    if not thresholds:
        return "—"
    word = DIRECTION_ZH.get(str(thresholds.get("direction", "above")), "不低于")
    parts = []
    for key, name in (("high", "高风险"), ("medium", "中风险"), ("low", "低风险")):
        bound = thresholds.get(key)
        parts.append(f"{name}：{word} {bound:g}" if isinstance(bound, int | float) else f"{name}：—")
    return "；".join(parts)
