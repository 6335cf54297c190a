"""A report as an XLSX workbook (openpyxl): the same figures and tables as the PDF, one sheet each."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from backend.kernel.tabular import xlsx_row
from backend.reports.content import ReportContent

BOLD = Font(bold=True)


def _sheet(book: Workbook, title: str, head: tuple[str, ...], rows: list[list[object]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(head))
    for cell in sheet[1]:
        cell.font = BOLD
    for row in rows:
        sheet.append(xlsx_row(row))
    for column, name in zip(sheet.columns, head, strict=False):
        sheet.column_dimensions[column[0].column_letter].width = max(10, len(name) * 2 + 4)


def report_xlsx(content: ReportContent) -> bytes:
    book = Workbook()
    overview = book.active
    assert overview is not None
    overview.title = "概况"
    overview.append(xlsx_row([content.title]))
    overview["A1"].font = BOLD
    overview.append(xlsx_row([f"统计范围：{content.unit}及所属单位", f"统计期间：{content.period}"]))
    for line in content.summary() + content.standing_out():
        overview.append(xlsx_row([line]))
    t, p = content.stats.totals, content.stats.previous_totals
    overview.append([])
    overview.append(["指标", "本期", "上期"])
    for name, key in (
        ("新增预警", "raised"),
        ("红色", "high"),
        ("橙色", "medium"),
        ("黄色", "low"),
        ("在办", "open"),
        ("逾期", "overdue"),
        ("待确认", "waiting"),
        ("已办结", "closed"),
        ("已核查", "decided"),
        ("属实", "true"),
    ):
        overview.append([name, getattr(t, key), getattr(p, key)])
    overview.column_dimensions["A"].width = 60
    _sheet(book, "各单位", content.UNIT_HEAD, content.unit_rows())
    _sheet(book, "各主题", content.TOPIC_HEAD, content.topic_rows())
    _sheet(book, "逾期预警", content.OVERDUE_HEAD, content.overdue_rows())
    _sheet(book, "本期问题", content.FINDING_HEAD, content.finding_rows(content.findings))
    _sheet(book, "上期问题答复", content.FINDING_HEAD, content.finding_rows(content.previous_findings))
    buf = BytesIO()
    book.save(buf)
    return buf.getvalue()
