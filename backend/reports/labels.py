"""Words of the reports in zh-CN (a report is read in Chinese): levels, specialties, rules, dates."""

from __future__ import annotations

from datetime import date

LEVEL_ZH = {"high": "红色", "medium": "橙色", "low": "黄色"}
SPECIALTY_ZH = {
    "marketing": "营销",
    "finance": "财务",
    "materials": "物资",
    "engineering": "工程",
    "operations": "运检",
    "general": "综合",
    "": "未分专业",
}
KIND_ZH = {"month": "月度", "quarter": "季度", "custom": "专项"}


def day_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def change_zh(now: int, before: int) -> str:
    """较上期增加 3 条 / 减少 2 条 / 持平."""
    if now == before:
        return "与上期持平"
    return f"较上期{'增加' if now > before else '减少'} {abs(now - before)} 条"
