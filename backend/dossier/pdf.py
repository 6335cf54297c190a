"""The personal integrity archive as one PDF (A4, reportlab's ``STSong-Light``), in Chinese."""

from __future__ import annotations

import io
from datetime import date, datetime
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from backend.dossier.service import Dossier
from backend.dossier.words import (
    CARE_STATUS_ZH,
    CARE_ZH,
    CASE_STATE_ZH,
    DECISION_ZH,
    DIMENSION_ZH,
    GRADE_ZH,
    LEVEL_ZH,
    LINKED_RULE_ZH,
    LINKED_STATE_ZH,
    REPLY_ZH,
    TIER_ZH,
    WARNING_STATE_ZH,
)
from backend.interviews.pdf import BODY, GRID, SMALL, TITLE, build_pdf
from backend.kernel.timeutil import local

HEAD = TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee")])
PHOTO_MAX = (110 * mm, 90 * mm)


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = local(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _section(title: str, header: list[str], rows: list[list[str]], empty: str = "无记录") -> list[Flowable]:
    out: list[Flowable] = [Spacer(1, 4 * mm), Paragraph(f"<b>{escape(title)}</b>", BODY)]
    if not rows:
        return [*out, _p(empty, SMALL)]
    table = Table([[_p(h) for h in header], *[[_p(c) for c in r] for r in rows]], repeatRows=1)
    table.setStyle(HEAD)
    return [*out, Spacer(1, 1 * mm), table]


def _photo(content: bytes, caption: str) -> list[Flowable]:
    """A tag's photo as large as fits, with its caption (an image reportlab cannot read: the caption)."""
    try:
        width, height = ImageReader(io.BytesIO(content)).getSize()
    except Exception:
        return [_p(caption + "（照片格式无法在PDF中显示）", SMALL)]
    scale = min(PHOTO_MAX[0] / max(width, 1), PHOTO_MAX[1] / max(height, 1), 1.0)
    image = Image(io.BytesIO(content), width=width * scale, height=height * scale)
    image.hAlign = "LEFT"
    return [KeepTogether([Spacer(1, 2 * mm), image, _p(caption, SMALL)])]


def dossier_pdf(d: Dossier, photos: dict[int, bytes] | None = None) -> bytes:
    """The archive; ``photos`` are the tags' photos by tag id (drawn after the tag table)."""
    photos = photos or {}
    numbered = {t.id: n for n, t in enumerate((t for t in d.tags if t.id in photos), start=1)}
    p = d.person
    story: list[Flowable] = [
        _p("廉洁档案", TITLE),
        _p(f"姓名：{p.name}　工号：{p.employee_no}　单位：{p.unit_name}　岗位：{p.post_name or '—'}"),
        _p(f"生成时间：{day(d.generated_at)}　本档案仅含查阅人有权查看的内容", SMALL),
    ]
    story += _section(
        "任职经历",
        ["岗位", "单位", "起", "止"],
        [
            [h.post_name or "—", h.unit_name, day(h.since), day(h.until) if h.until else "至今"]
            for h in d.posts
        ],
    )
    story += _section(
        "预警与核查反馈",
        ["主题", "等级", "状态", "生成日期", "反馈", "负责人意见"],
        [
            [
                w.topic_name,
                LEVEL_ZH.get(w.level, "—"),
                WARNING_STATE_ZH.get(w.state, "—"),
                day(w.raised_at),
                REPLY_ZH.get(w.reply or "", "—"),
                DECISION_ZH.get(w.decision or "", "—"),
            ]
            for w in d.warnings
        ],
    )
    story += _section(
        "约谈记录",
        ["约谈日期", "地点", "建议", "落实措施"],
        [[day(i.held_at), i.place, i.suggestion, i.follow_up] for i in d.interviews],
    )
    story += _section(
        "联动预警函",
        ["情形", "等级", "状态", "日期"],
        [
            [
                LINKED_RULE_ZH.get(x.rule, "—"),
                LEVEL_ZH.get(x.level, "—"),
                LINKED_STATE_ZH.get(x.state, "—"),
                day(x.raised_at),
            ]
            for x in d.letters
        ],
    )
    story += _section(
        "廉情预警（告知、质询、监察建议）",
        ["层级", "事由", "状态", "日期"],
        [
            [TIER_ZH.get(c.tier, "—"), c.subject, CASE_STATE_ZH.get(c.state, "—"), day(c.opened_at)]
            for c in d.ladder
        ],
    )
    story += _section(
        "多维度廉洁评价",
        ["轮次", "业务类别", "基础分", *DIMENSION_ZH.values(), "总分", "类别排名"],
        [
            [
                t.round_name,
                t.category_name,
                f"{t.base:g}",
                f"{t.behaviour:g}",
                f"{t.awareness:g}",
                f"{t.problems:g}",
                f"{t.total:g}",
                f"{t.rank_category}/{t.of_category}",
            ]
            for t in d.evaluation
        ],
    )
    story += _section(
        "评价标签",
        ["日期", "标签", "维度", "说明", "填报人", "照片"],
        [
            [
                day(t.occurred_on),
                t.tag_name,
                DIMENSION_ZH.get(t.dimension, "—"),
                t.note or "—",
                t.filed_by_name,
                f"见附图{numbered[t.id]}" if t.id in numbered else "—",
            ]
            for t in d.tags
        ],
    )
    for t in d.tags:
        if t.id in numbered:
            story += _photo(
                photos[t.id], f"附图{numbered[t.id]}　{day(t.occurred_on)} {t.tag_name}（{t.person_name}）"
            )
    hidden = "廉洁体检结果仅本人和本单位纪检监察人员可见"
    story += _section(
        "廉洁体检",
        ["评定日期", "综合等级", "心理等级"],
        [
            [day(c.graded_at), GRADE_ZH.get(c.composite_grade, "—"), GRADE_ZH.get(c.psych_grade, "—")]
            for c in d.checkups
        ],
        empty=hidden if d.checkups_hidden else "无记录",
    )
    story += _section(
        "廉洁关爱措施",
        ["措施", "期限", "状态"],
        [[CARE_ZH.get(c.kind, "—"), day(c.due_date), CARE_STATUS_ZH.get(c.status, "—")] for c in d.care],
        empty=hidden if d.checkups_hidden else "无记录",
    )
    story += [Spacer(1, 4 * mm), _p("廉洁教育学时：平台暂未记录", SMALL)]
    return build_pdf(f"廉洁档案 {p.name}", story)
