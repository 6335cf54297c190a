"""A case file as one PDF (A4, reportlab's built-in STSong-Light for Chinese): the title, when the
file was made and by whom, then each block: facts as a two-column table, tables, paragraphs and
pictures (photos as large as the page allows, signatures small)."""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from backend.archive.casefile import Block, CaseFile, Picture
from backend.archive.words import Words
from backend.interviews.pdf import FONT, GRID, build_pdf

TITLE = ParagraphStyle("a-title", fontName=FONT, fontSize=16, leading=22, alignment=1, spaceAfter=3 * mm)
HEAD = ParagraphStyle(
    "a-head", fontName=FONT, fontSize=12.5, leading=18, spaceBefore=4 * mm, spaceAfter=2 * mm
)
BODY = ParagraphStyle("a-body", fontName=FONT, fontSize=10, leading=14, wordWrap="CJK")
SMALL = ParagraphStyle("a-small", parent=BODY, fontSize=8.5, leading=11, textColor=colors.grey)
#: the page's text width (A4 less 18 mm margins)
WIDTH = 174 * mm
PHOTO_MAX = (120 * mm, 100 * mm)
SIGNATURE_HEIGHT = 12 * mm


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _picture(picture: Picture) -> list[Flowable]:
    try:
        width, height = ImageReader(io.BytesIO(picture.content)).getSize()
    except Exception:  # an image reportlab cannot read is in the ZIP only
        return [_p(picture.caption, SMALL)]
    if picture.small:
        scale = SIGNATURE_HEIGHT / max(height, 1)
    else:
        scale = min(PHOTO_MAX[0] / max(width, 1), PHOTO_MAX[1] / max(height, 1), 1.0)
    image = Image(io.BytesIO(picture.content), width=width * scale, height=height * scale)
    image.hAlign = "LEFT"
    return [image, _p(picture.caption, SMALL)]


def _block(block: Block, words: Words) -> list[Flowable]:
    out: list[Flowable] = [_p(block.title, HEAD)]
    if block.facts:
        table = Table(
            [[_p(label), _p(value or "—")] for label, value in block.facts],
            colWidths=[38 * mm, WIDTH - 38 * mm],
        )
        table.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)]))
        out.append(table)
    if block.table:
        n = len(block.table[0])
        first = 34 * mm
        widths = [first] + [(WIDTH - first) / (n - 1)] * (n - 1) if n > 1 else [WIDTH]
        table = Table([[_p(c) for c in row] for row in block.table], colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
        out.append(table)
    out += [_p(text) for text in block.paragraphs]
    for picture in block.pictures:
        out.append(Spacer(1, 2 * mm))
        out.append(KeepTogether(_picture(picture)))
    if not (block.facts or block.table or block.paragraphs or block.pictures):
        out.append(_p(block.empty or words("archive.none_text"), SMALL))
    return out


def case_pdf(file: CaseFile, words: Words, made_at: datetime, made_by: str) -> bytes:
    story: list[Flowable] = [
        _p(file.title, TITLE),
        _p(words("archive.made", at=words.stamp(made_at), by=made_by), SMALL),
        Spacer(1, 2 * mm),
    ]
    for block in file.blocks:
        story += _block(block, words)
    return build_pdf(file.title, story)
