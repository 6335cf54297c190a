"""B.3 监督预警主题库（数据清单）: every topic with the columns of the standard's table, as a PDF
(landscape A4) and as an XLSX workbook."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from backend.forms.labels import PERIOD_ZH
from backend.forms.layout import para
from backend.forms.service import FormBase
from backend.interviews.pdf import BODY, FONT, TITLE
from backend.kernel.access import Principal
from backend.kernel.tabular import xlsx_row
from backend.reports.labels import SPECIALTY_ZH
from backend.topics.models import Topic
from backend.topics.service import TopicService

B3_TITLE = "监督预警主题库（数据清单）"
HEAD = (
    "序号",
    "权限主题",
    "专业",
    "监督目标",
    "风险点",
    "办理岗位",
    "监督规则",
    "风险等级判定",
    "相关指标计算公式",
    "所需数据字段",
    "数据来源",
    "监督周期",
    "所需数据范围（至少）",
)
CELL = ParagraphStyle("b3cell", parent=BODY, fontSize=7, leading=9)
WIDTHS = [9, 24, 12, 22, 24, 18, 30, 24, 22, 22, 18, 12, 16]


def _row(n: int, topic: Topic) -> list[str]:
    return [
        str(n),
        topic.name,
        SPECIALTY_ZH.get(topic.specialty, topic.specialty),
        topic.target,
        topic.risk_point,
        topic.handling_post,
        topic.rule_text or ("线下检查" if topic.offline else ""),
        topic.threshold_text,
        topic.formula,
        topic.data_fields,
        topic.data_source,
        PERIOD_ZH[str(topic.monitoring_period)],
        topic.data_range,
    ]


class TopicLibrary(FormBase):
    async def _rows(self, principal: Principal, fmt: str) -> list[list[str]]:
        topics = await TopicService(self.session, self.trail, self.settings).topics()
        await self.trail.record(
            self.session,
            principal.actor,
            action="form.export",
            object_type="topic_library",
            new={"form": "b3", "format": fmt, "topics": len(topics)},
            power="form.read",
        )
        await self.session.commit()
        return [_row(n, t) for n, t in enumerate(topics, start=1)]

    async def library_pdf(self, principal: Principal) -> bytes:
        rows = await self._rows(principal, "pdf")
        data = [[Paragraph(h, CELL) for h in HEAD]] + [[para(c, CELL) for c in r] for r in rows]
        table = Table(data, colWidths=[w * mm for w in WIDTHS], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), FONT),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ]
            )
        )
        buf = BytesIO()
        doc = SimpleDocTemplate(
            buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=14 * mm,
            bottomMargin=14 * mm, title=B3_TITLE, author="Probity",
        )  # fmt: skip
        doc.build([para(B3_TITLE, TITLE), table])
        return buf.getvalue()

    async def library_xlsx(self, principal: Principal) -> bytes:
        rows = await self._rows(principal, "xlsx")
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "主题库"
        sheet.append(list(HEAD))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(xlsx_row(list(row)))
        for column, width in zip(sheet.columns, WIDTHS, strict=False):
            sheet.column_dimensions[column[0].column_letter].width = max(8, width * 0.8)
            for cell in column:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        out = BytesIO()
        book.save(out)
        return out.getvalue()
