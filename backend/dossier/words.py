"""Words of the archive PDF in zh-CN (the archive is read in Chinese)."""

from __future__ import annotations

LEVEL_ZH = {"high": "红色", "medium": "橙色", "low": "黄色", "none": "无"}
WARNING_STATE_ZH = {
    "raised": "已生成",
    "delivered": "已送达",
    "read": "已读",
    "submitted": "已反馈",
    "returned": "已退回",
    "confirmed": "已确认",
    "closed": "已办结",
}
REPLY_ZH = {"true": "属实", "false": "不属实", "not_true": "不属实"}
DECISION_ZH = {"confirmed": "已确认", "returned": "已退回"}
LINKED_RULE_ZH = {
    "repeat": "同一主题三次属实",
    "concentrated": "多主题集中于同一对象",
    "double_red": "同一主题两次红色告警",
    "relapse": "处置后再次告警",
}
LINKED_STATE_ZH = {"raised": "待报告", "answered": "已报告", "closed": "已办结"}
TIER_ZH = {"notice": "告知（三级）", "inquiry": "质询（二级）", "recommendation": "监察建议（一级）"}
CASE_STATE_ZH = {"open": "待答复", "answered": "已答复", "lifted": "已解除", "withdrawn": "已撤销"}
GRADE_ZH = {"high": "高", "medium": "中", "low": "低"}
CARE_ZH = {
    "talk": "谈心谈话",
    "counselling": "心理疏导",
    "group_session": "团体辅导",
    "controls": "岗位管控",
    "education": "廉洁教育",
    "rotation": "轮岗交流",
}
CARE_STATUS_ZH = {"open": "进行中", "done": "已完成", "cancelled": "已取消"}
DIMENSION_ZH = {"behaviour": "廉洁行为", "awareness": "廉洁意识", "problems": "廉洁问题"}
