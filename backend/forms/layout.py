"""The forms' PDF: a title, header lines and a grid of boxes like the standard's tables, with each
sign-off box holding its opinion, signer and date (reportlab, ``STSong-Light``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from backend.interviews.pdf import BODY, GRID, LABEL, SMALL, TITLE, build_pdf

WIDTH = 174 * mm


def para(text: str, style: object = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


@dataclass(frozen=True)
class Pair:
    """Two label/value couples on one row: 时间 | … | 编号 | …"""

    label: str
    value: str
    label2: str
    value2: str


@dataclass(frozen=True)
class Wide:
    """One label, one value spanning the rest of the row."""

    label: str
    value: str


@dataclass(frozen=True)
class Signed:
    """A sign-off box: the opinion, who signed (or that nobody has yet) and the day."""

    label: str
    opinion: str | None
    signer: str | None
    day: str
    outcome: str | None = None


Row = Pair | Wide | Signed


def _cells(row: Row) -> list[object]:
    if isinstance(row, Pair):
        return [para(row.label, LABEL), para(row.value), para(row.label2, LABEL), para(row.value2)]
    if isinstance(row, Wide):
        return [para(row.label, LABEL), para(row.value), "", ""]
    if row.signer is None:
        body: list[Flowable] = [para("（待签署）"), para(row.day)]
    else:
        mark = "退回" if row.outcome == "returned" else "同意"
        body = [para(f"{row.opinion or ''}"), para(f"{mark}　签署人：{row.signer}　{row.day}")]
    return [para(row.label, LABEL), body, "", ""]


def form_pdf(title: str, header: Sequence[str], rows: Sequence[Row], footer: str = "") -> bytes:
    """A form as PDF: label columns of 32 mm, value columns sharing the rest."""
    label_w, value_w = 32 * mm, 55 * mm
    data = [_cells(r) for r in rows]
    table = Table(data, colWidths=[label_w, value_w, label_w, WIDTH - 2 * label_w - value_w])
    spans = [("SPAN", (1, i), (3, i)) for i, r in enumerate(rows) if not isinstance(r, Pair)]
    table.setStyle(TableStyle([*GRID, *spans]))
    story: list[Flowable] = [para(title, TITLE)]
    story += [para(line, SMALL) for line in header]
    story += [Spacer(1, 2 * mm), table]
    if footer:
        story += [Spacer(1, 2 * mm), para(footer, SMALL)]
    return build_pdf(title, story)
