"""What a report says, worked out once and rendered twice (PDF and XLSX)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from backend.reports.labels import LEVEL_ZH, SPECIALTY_ZH, change_zh, day_zh, percent
from backend.stats.schemas import Group, Stats


@dataclass(frozen=True)
class OverdueItem:
    topic: str
    unit: str
    level: str
    raised_on: date
    days_overdue: int


@dataclass(frozen=True)
class FindingLine:
    unit: str
    text: str
    answer: str | None = None
    answered_on: date | None = None


@dataclass
class ReportContent:
    title: str
    unit: str
    period: str
    stats: Stats
    overdue: list[OverdueItem]
    findings: list[FindingLine]
    previous_title: str | None = None
    previous_findings: list[FindingLine] = field(default_factory=list)

    # --- the words ---------------------------------------------------------------------------
    def summary(self) -> list[str]:
        t, p = self.stats.totals, self.stats.previous_totals
        iv = self.stats.interviews
        linked = self.stats.linked
        red, other = iv.red, iv.orange_yellow
        return [
            f"本期（{self.period}）新增预警 {t.raised} 条，其中红色 {t.high} 条、橙色 {t.medium} 条、"
            f"黄色 {t.low} 条，{change_zh(t.raised, p.raised)}。",
            f"截至统计时，在办 {t.open} 条，其中逾期 {t.overdue} 条；"
            f"待确认 {t.waiting} 条；已办结 {t.closed} 条。",
            f"已核查 {t.decided} 条，属实 {t.true} 条，属实率 {percent(t.true_rate)}；"
            f"按时反馈率 {percent(t.on_time_rate)}。",
            f"属实红色预警 {red.true_warnings} 条，已约谈 {red.interviewed} 条，约谈率 "
            f"{percent(red.ratio)}（要求不低于 80%）；属实橙色、黄色预警 {other.true_warnings} 条，"
            f"已约谈 {other.interviewed} 条，约谈率 {percent(other.ratio)}（要求不低于 50%）。",
            f"发出风险函告书 {linked.letters} 份，已报告 {linked.answered} 份，"
            f"逾期未报告 {linked.overdue} 份。",
        ]

    def standing_out(self) -> list[str]:
        """The topics and units that stand out: most warnings, most overdue."""
        lines = []
        topics = [g for g in self.stats.by_topic if g.raised][:3]
        if topics:
            lines.append(
                "预警最多的主题："
                + "、".join(f"{g.label or '未命名主题'}（{g.raised} 条）" for g in topics)
                + "。"
            )
        units = sorted((g for g in self.stats.by_unit if g.overdue), key=lambda g: -g.overdue)[:3]
        if units:
            lines.append("逾期最多的单位：" + "、".join(f"{g.label}（{g.overdue} 条）" for g in units) + "。")
        low = [
            g for g in self.stats.by_topic if g.true_rate is not None and g.decided >= 3 and g.true_rate < 0.2
        ]
        if low:
            lines.append(
                "属实率偏低、建议优化规则的主题："
                + "、".join(f"{g.label}（{percent(g.true_rate)}）" for g in low)
                + "。"
            )
        return lines or ["本期无突出问题。"]

    # --- the tables --------------------------------------------------------------------------
    UNIT_HEAD = ("单位", "新增", "红色", "橙色", "黄色", "在办", "逾期", "属实率", "按时反馈率")
    TOPIC_HEAD = ("主题", "专业", "新增", "在办", "逾期", "属实", "属实率")
    OVERDUE_HEAD = ("主题", "单位", "等级", "产生日期", "逾期天数")
    FINDING_HEAD = ("单位", "问题", "答复", "答复日期")

    def unit_rows(self) -> list[list[object]]:
        return [
            [
                g.label,
                g.raised,
                g.high,
                g.medium,
                g.low,
                g.open,
                g.overdue,
                percent(g.true_rate),
                percent(g.on_time_rate),
            ]
            for g in self.stats.by_unit
        ]

    def topic_rows(self) -> list[list[object]]:
        return [
            [
                g.label or "未命名主题",
                SPECIALTY_ZH.get(g.specialty or "", g.specialty or ""),
                g.raised,
                g.open,
                g.overdue,
                g.true,
                percent(g.true_rate),
            ]
            for g in self.stats.by_topic
        ]

    def overdue_rows(self) -> list[list[object]]:
        return [
            [o.topic, o.unit, LEVEL_ZH[o.level], day_zh(o.raised_on), o.days_overdue] for o in self.overdue
        ]

    @staticmethod
    def finding_rows(lines: list[FindingLine]) -> list[list[object]]:
        return [
            [f.unit, f.text, f.answer or "尚未答复", day_zh(f.answered_on) if f.answered_on else "—"]
            for f in lines
        ]


def level_counts(groups: list[Group]) -> dict[str, int]:
    return {g.key: g.raised for g in groups}
