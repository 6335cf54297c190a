"""Printable forms in Chinese, laid out like the standard's tables: B.12 (约谈记录表) and B.17
(高风险问题核查单). reportlab's built-in CID font ``STSong-Light`` needs no font file."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from backend.kernel.timeutil import local

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1, spaceAfter=4 * mm)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
LABEL = ParagraphStyle("label", parent=BODY, alignment=1)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=9, leading=12, textColor=colors.grey)
SIGNATURE_HEIGHT = 12 * mm


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _stamp(value: datetime | None, *, minutes: bool = True) -> str:
    if value is None:
        return "    年  月  日"
    at = local(value)
    day = f"{at.year}年{at.month}月{at.day}日"
    return f"{day} {at:%H:%M}" if minutes else day


def _signature(png: bytes | None) -> Flowable | None:
    if not png:
        return None
    width, height = ImageReader(io.BytesIO(png)).getSize()
    scale = SIGNATURE_HEIGHT / max(height, 1)
    return Image(io.BytesIO(png), width=min(width * scale, 45 * mm), height=SIGNATURE_HEIGHT)


def _signed(name: str, png: bytes | None) -> list[Flowable]:
    image = _signature(png)
    return [_p(name), image] if image is not None else [_p(f"{name}（未签字）")]


GRID = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("TOPPADDING", (0, 0), (-1, -1), 4),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
]


#: the same helpers for the other forms (B.15 in backend/opinions, B.16 in backend/clues)
def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return _p(text, style)


def stamp(value: datetime | None, *, minutes: bool = True) -> str:
    return _stamp(value, minutes=minutes)


def form_document(title: str, header: str, table: Table) -> bytes:
    return _document(title, header, table)


def _document(title: str, header: str, table: Table) -> bytes:
    return build_pdf(title, [_p(title, TITLE), _p(header, SMALL), Spacer(1, 2 * mm), table])


def build_pdf(title: str, story: list[Flowable]) -> bytes:
    """An A4 document with 18 mm margins (the forms and the reports)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="Probity",
    )
    doc.build(story)
    return buf.getvalue()


@dataclass(frozen=True)
class Interviewer:
    name: str
    post: str | None
    signature: bytes | None


@dataclass(frozen=True)
class InterviewSheet:
    number: str
    warnings: str
    q_true: str
    q_cause: str
    q_integrity: str
    c_collaboration: str
    c_control: str
    c_education: str
    suggestion: str
    follow_up: str
    interviewers: Sequence[Interviewer]
    interviewee_name: str
    interviewee_unit: str
    interviewee_post: str
    interviewee_signature: bytes | None
    held_at: datetime
    place: str


def interview_pdf(sheet: InterviewSheet) -> bytes:
    """表 B.12 “风险预防”约谈记录表."""
    interviewers: list[Flowable] = []
    for person in sheet.interviewers:
        name = f"{person.name}（{person.post}）" if person.post else person.name
        interviewers += _signed(name, person.signature)
    rows = [
        [_p("三  问", LABEL), [
            _p(f"一、预警（告警）风险是否属实：{sheet.q_true}"),
            _p(f"二、相关具体原因及风险点：{sheet.q_cause}"),
            _p(f"三、个人八小时内外廉洁自律情况：{sheet.q_integrity}"),
        ], "", "", ""],
        [_p("三  查", LABEL), [
            _p(f"一、专业协同监督落地情况：{sheet.c_collaboration}"),
            _p(f"二、单位廉洁风险防控情况：{sheet.c_control}"),
            _p(f"三、个人廉洁教育学习情况：{sheet.c_education}"),
        ], "", "", ""],
        [_p("一 建 议", LABEL), _p(f"对加强相关风险监督防控的意见和建议：{sheet.suggestion}"), "", "", ""],
        [_p("针对约谈要求的落实措施", LABEL), _p(sheet.follow_up), "", "", ""],
        [_p("约谈人姓名（签字）", LABEL), interviewers, "", "", ""],
        [_p("约谈对象情况", LABEL), _p("姓名（签字）", LABEL),
         _signed(sheet.interviewee_name, sheet.interviewee_signature), "", ""],
        ["", _p("单位", LABEL), _p(sheet.interviewee_unit), "", ""],
        ["", _p("职务", LABEL), _p(sheet.interviewee_post or "—"), "", ""],
        [_p("时间", LABEL), _p(_stamp(sheet.held_at)), "", _p("地点", LABEL), _p(sheet.place)],
    ]  # fmt: skip
    table = Table(rows, colWidths=[30 * mm, 26 * mm, 48 * mm, 20 * mm, 50 * mm])
    table.setStyle(
        TableStyle(
            [
                *GRID,
                *[("SPAN", (1, r), (4, r)) for r in range(5)],
                ("SPAN", (0, 5), (0, 7)),
                *[("SPAN", (2, r), (4, r)) for r in range(5, 8)],
                ("SPAN", (1, 8), (2, 8)),
            ]
        )
    )
    header = f"编号：{sheet.number}    关联预警：{sheet.warnings}"
    return _document("“风险预防”约谈记录表", header, table)


@dataclass(frozen=True)
class CheckSheet:
    number: str
    topic: str
    made_at: datetime
    risk_at: datetime
    unit: str
    person: str
    risk_description: str
    check_result: str
    possible_risk: str
    control_requirements: str
    head_opinion: str
    head_opinion_at: datetime
    unit_opinion: str | None
    unit_opinion_at: datetime | None


def check_sheet_pdf(sheet: CheckSheet) -> bytes:
    """表 B.17 XXX 主题高风险问题核查单."""
    label_w, value_w = 40 * mm, 47 * mm
    rows = [
        [_p("时间", LABEL), _p(_stamp(sheet.made_at, minutes=False)), _p("编号", LABEL), _p(sheet.number)],
        [_p("预警主题", LABEL), _p(sheet.topic), _p("风险发生时间", LABEL),
         _p(_stamp(sheet.risk_at, minutes=False))],
        [_p("部门", LABEL), _p(sheet.unit), _p("人员", LABEL), _p(sheet.person)],
        [_p("风险描述", LABEL), _p(sheet.risk_description), "", ""],
        [_p("风险核查结果", LABEL), _p(sheet.check_result), "", ""],
        [_p("可能存在的廉政风险", LABEL), _p(sheet.possible_risk), "", ""],
        [_p("相关防控要求", LABEL), _p(sheet.control_requirements), "", ""],
        [_p("业务部门负责人意见", LABEL),
         [_p(sheet.head_opinion), _p(_stamp(sheet.head_opinion_at, minutes=False))], "", ""],
        [_p("单位负责人意见", LABEL),
         [_p(sheet.unit_opinion or ""), _p(_stamp(sheet.unit_opinion_at, minutes=False))], "", ""],
    ]  # fmt: skip
    table = Table(rows, colWidths=[label_w, value_w, label_w, 174 * mm - 2 * label_w - value_w])
    table.setStyle(TableStyle([*GRID, *[("SPAN", (1, r), (3, r)) for r in range(3, 9)]]))
    return _document(f"{sheet.topic} 主题高风险问题核查单", f"编号：{sheet.number}", table)
