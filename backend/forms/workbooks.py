"""The tabular forms as XLSX workbooks, laid out as their PDF: the title, the number, the table's
header and rows, then each sign-off box with its opinion, signer and date. B.6 风险线索核查表 is
the tabular one of the filed forms (B.3, the topic library, is ``backend/forms/library.py``)."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from backend.approvals.models import Approval, ApprovalStep
from backend.forms.labels import TITLE
from backend.forms.sheets import signed
from backend.kernel.tabular import xlsx_row

#: B.6's columns and their widths (characters)
B6_HEAD = ("序号", "风险点", "风险层级", "详细描述", "单位", "备注")
B6_WIDTHS = (6, 24, 10, 40, 18, 20)
B6_BOXES = ("inspector_sign", "inspection_leader_sign", "receiver_sign")


def _b6(a: Approval, steps: list[ApprovalStep]) -> tuple[list[list[Any]], int]:
    """The rows of B.6 (the header's row number counted from 1) from its fields and steps."""
    rows: list[list[Any]] = [[TITLE["b6"]], [f"编号：{a.number}"], list(B6_HEAD)]
    for n, item in enumerate(a.fields["items"], start=1):
        rows.append(
            [n, item["risk_point"], item["tier"], item["description"], item["unit"], item.get("note", "")]
        )
    rows.append([])
    for box in B6_BOXES:
        s = signed(steps, box)
        rows.append([s.label, s.opinion or "", "签字", s.signer or "", "日期", s.day])
    return rows, 3


#: the kinds with a workbook, and how each is laid out: (rows, header row), column widths
Layout = Callable[[Approval, list[ApprovalStep]], tuple[list[list[Any]], int]]
WORKBOOKS: dict[str, tuple[Layout, tuple[int, ...]]] = {
    "b6": (_b6, B6_WIDTHS),
}


def form_xlsx(a: Approval, steps: list[ApprovalStep]) -> bytes:
    layout, widths = WORKBOOKS[a.kind]
    rows, header = layout(a, steps)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = TITLE[a.kind][:31]
    for row in rows:
        sheet.append(xlsx_row(row))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(widths))
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    for line in sheet.iter_rows(min_row=header):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = BytesIO()
    book.save(out)
    return out.getvalue()
