"""Words of the evaluation's exports and archive PDF in zh-CN (they are read in Chinese)."""

from __future__ import annotations

from datetime import date

DIMENSION_ZH = {"behaviour": "廉洁行为", "awareness": "廉洁意识", "problems": "廉洁问题"}
FLAG_ZH = {"fell": "得分下降", "below": "低于提醒线"}
DIRECTION_ZH = {"plus": "加分", "minus": "减分"}


def day_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
