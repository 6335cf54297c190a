"""表 B.16 问题线索拟办单, laid out like the standard's table, with the handover receipt and the
outcome below it. Words of choices (source, level, outcome) come from the message catalogue."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Table, TableStyle

from backend.clues.schemas import CluePublic
from backend.interviews.pdf import GRID, LABEL, form_document, para, stamp
from backend.warnings.evidence import say

LANG = "zh-CN"


def _or_dash(text: str) -> str:
    return text.strip() or "—"


def clue_pdf(clue: CluePublic, leader: str) -> bytes:
    reporter = clue.reporter_name or ("匿名" if clue.source.value == "public" else "—")
    source = say(LANG, f"clue.source.{clue.source.value}")
    proposal = clue.proposal
    if clue.level is not None:
        proposal = f"【{say(LANG, f'clue.level.{clue.level.value}')}】{proposal}"
    instruction = [para(_or_dash(clue.instruction))]
    if clue.instruction:
        instruction.append(para(f"{leader}    {stamp(clue.instructed_at, minutes=False)}"))
    receipt = (
        f"{clue.receiver_name}    {stamp(clue.received_at)}"
        if clue.received_at
        else (f"{clue.receiver_name}（待签收）" if clue.receiver_name else "—")
    )
    outcome = (
        f"【{say(LANG, f'clue.outcome.{clue.outcome.value}')}】{clue.outcome_text}    "
        f"{stamp(clue.concluded_at, minutes=False)}"
        if clue.outcome
        else "—"
    )
    rows = [
        [para("反映人", LABEL), para("姓名", LABEL), para(reporter), para("单位", LABEL),
         para(_or_dash(clue.reporter_unit))],
        ["", para("职务", LABEL), para(_or_dash(clue.reporter_post)), "", ""],
        [para("被反映人", LABEL), para("姓名", LABEL), para(_or_dash(clue.subject_name)), para("单位", LABEL),
         para(_or_dash(clue.subject_unit))],
        ["", para("职务", LABEL), para(_or_dash(clue.subject_post)), para("级别", LABEL),
         para(_or_dash(clue.subject_rank))],
        [para("线索来源", LABEL), "", para(source), para("问题性质", LABEL), para(_or_dash(clue.nature))],
        [para("来函单位", LABEL), "", para(_or_dash(clue.letter_unit)), para("函号", LABEL),
         para(_or_dash(clue.letter_no))],
        [para("内容摘要", LABEL), "", para(clue.summary), "", ""],
        [para("领导批示", LABEL), "", instruction, "", ""],
        [para("拟办意见", LABEL), "", para(_or_dash(proposal)), "", ""],
        [para("移交签收", LABEL), "", para(receipt), "", ""],
        [para("办理结果", LABEL), "", para(outcome), "", ""],
    ]  # fmt: skip
    table = Table(rows, colWidths=[24 * mm, 16 * mm, 52 * mm, 20 * mm, 62 * mm])
    table.setStyle(
        TableStyle(
            [
                *GRID,
                ("SPAN", (0, 0), (0, 1)),
                ("SPAN", (2, 1), (4, 1)),
                ("SPAN", (0, 2), (0, 3)),
                *[("SPAN", (0, r), (1, r)) for r in range(4, 11)],
                *[("SPAN", (2, r), (4, r)) for r in range(6, 11)],
            ]
        )
    )
    header = f"受理日期：{stamp(clue.registered_at, minutes=False)}    编号：{clue.number}"
    return form_document("问题线索拟办单", header, table)
