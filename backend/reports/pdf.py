"""A report as a Chinese PDF: reportlab with its built-in CJK font, charts drawn by reportlab.graphics
on the server (no browser, no font file)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from backend.interviews.pdf import BODY, FONT, SMALL, TITLE, build_pdf
from backend.reports.content import ReportContent
from backend.reports.labels import LEVEL_ZH

H2 = ParagraphStyle("h2", parent=BODY, fontSize=13, leading=20, spaceBefore=4 * mm, spaceAfter=2 * mm)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=9, leading=12)
LEVEL_COLOURS = {
    "high": colors.HexColor("#c62828"),
    "medium": colors.HexColor("#e8710a"),
    "low": colors.HexColor("#f2b705"),
}
WIDTH = A4[0] - 36 * mm


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _table(head: tuple[str, ...], rows: list[list[object]], widths: list[float] | None = None) -> Flowable:
    if not rows:
        return _p("无。")
    data = [[_p(h, CELL) for h in head]] + [[_p(str(c), CELL) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _bars(title: str, labels: list[str], series: dict[str, list[int]]) -> Drawing:
    """Stacked columns by level (red, orange, yellow) with a legend, labels in Chinese."""
    drawing = Drawing(WIDTH, 70 * mm)
    drawing.add(String(0, 66 * mm, title, fontName=FONT, fontSize=10))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 14 * mm, WIDTH - 40 * mm, 46 * mm
    chart.data = [series[level] for level in ("high", "medium", "low")] if labels else [[0]]
    chart.categoryAxis.categoryNames = [label[:6] for label in labels] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if len(labels) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
    chart.categoryAxis.style = "stacked"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    for i, level in enumerate(("high", "medium", "low")):
        chart.bars[i].fillColor = LEVEL_COLOURS[level]
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = WIDTH - 24 * mm, 56 * mm
    legend.fontName = FONT
    legend.fontSize = 8
    legend.colorNamePairs = [(LEVEL_COLOURS[lv], LEVEL_ZH[lv]) for lv in ("high", "medium", "low")]
    drawing.add(legend)
    return drawing


def report_pdf(content: ReportContent) -> bytes:
    s = content.stats
    units = s.by_unit[:10]
    series_labels = [
        f"{p.start.month}月"
        if s.period.kind != "quarter"
        else f"{p.start.year}Q{(p.start.month - 1) // 3 + 1}"
        for p in s.series
    ]
    story: list[Flowable] = [
        _p(content.title, TITLE),
        _p(
            f"统计范围：{content.unit}及所属单位；统计期间：{content.period}；"
            f"统计时间：{s.computed_at:%Y}年{s.computed_at.month}月{s.computed_at.day}日",
            SMALL,
        ),
        _p("一、总体情况", H2),
        *[_p(line) for line in content.summary()],
        Spacer(1, 2 * mm),
        _bars(
            "各单位新增预警（按等级）",
            [g.label for g in units],
            {lv: [getattr(g, lv) for g in units] for lv in ("high", "medium", "low")},
        ),
        _bars(
            "近期各期新增预警",
            series_labels,
            {lv: [getattr(p, lv) for p in s.series] for lv in ("high", "medium", "low")},
        ),
        _p("二、突出问题", H2),
        *[_p(line) for line in content.standing_out()],
        _p("三、各单位情况", H2),
        _table(content.UNIT_HEAD, content.unit_rows()),
        _p("四、各主题情况", H2),
        _table(
            content.TOPIC_HEAD,
            content.topic_rows(),
            [50 * mm, 16 * mm, 16 * mm, 16 * mm, 16 * mm, 16 * mm, 20 * mm],
        ),
        _p("五、逾期未办结预警", H2),
        _table(content.OVERDUE_HEAD, content.overdue_rows()),
        _p("六、本期发现的问题（请有关部门答复）", H2),
        _table(
            content.FINDING_HEAD[:2],
            [row[:2] for row in content.finding_rows(content.findings)],
            [45 * mm, WIDTH - 45 * mm],
        ),
        _p("七、上期问题及整改答复", H2),
        _p(f"上期报告：{content.previous_title}" if content.previous_title else "无上期报告。", SMALL),
        _table(
            content.FINDING_HEAD,
            content.finding_rows(content.previous_findings),
            [35 * mm, 55 * mm, 60 * mm, 24 * mm],
        ),
    ]
    return build_pdf(content.title, story)
