"""Blocks several kinds of case file share: interviews with their signatures (B.12), check sheets
(B.17), risk notice letters (B.13/B.14), and the case's trail of acts; names of people and units."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.archive.casefile import Block, Picture
from backend.archive.words import Words
from backend.audit.models import AuditRecord
from backend.interviews.models import HighRiskCheck
from backend.interviews.schemas import InterviewPublic, Signer
from backend.warnings.models import LinkedWarning

PERSON = table("person", column("id"), column("name"), column("unit_id"))
UNIT = table("unit", column("id"), column("name"))
TOPIC = table("topic", column("id"), column("code"), column("name"), column("name_en"))
#: trail records shown in one file at most (the newest are kept)
TRAIL_SHOWN = 500


async def person_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await session.execute(select(PERSON.c.id, PERSON.c.name).where(PERSON.c.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows.all()}


async def unit_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await session.execute(select(UNIT.c.id, UNIT.c.name).where(UNIT.c.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows.all()}


async def topic_names(session: AsyncSession, codes: Sequence[str | None], words: Words) -> dict[str, str]:
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = await session.execute(
        select(TOPIC.c.code, TOPIC.c.name, TOPIC.c.name_en).where(TOPIC.c.code.in_(wanted))
    )
    return {str(c): str((en if words.lang == "en" and en else n) or "") for c, n, en in rows.all()}


def interview_blocks(
    records: Sequence[InterviewPublic], signatures: dict[str, bytes], words: Words
) -> list[Block]:
    """Each interview record (B.12) with its interviewers' and interviewee's signatures."""
    if not records:
        return [Block(words("archive.interviews"), empty=words("archive.none_interviews"))]
    out = []
    for n, r in enumerate(records, start=1):
        interviewers = "、".join(f"{p.name}（{p.post}）" if p.post else p.name for p in r.interviewers)
        pictures = []
        names = {p.person_id: p.name for p in r.interviewers}
        for s in r.signatures:
            content = signatures.get(s.sha256)
            if content is None:
                continue
            who = r.interviewee_name if s.signer is Signer.interviewee else names.get(s.person_id, "")
            role = words(f"archive.signer.{s.signer.value}")
            pictures.append(Picture(f"{role}：{who}", content, small=True))
        out.append(
            Block(
                words("archive.interview_n", n=n),
                facts=[
                    (words("archive.iv.held_at"), words.stamp(r.held_at)),
                    (words("archive.iv.place"), r.place),
                    (words("archive.iv.interviewers"), interviewers),
                    (
                        words("archive.iv.interviewee"),
                        "，".join(
                            x for x in (r.interviewee_name, r.interviewee_unit, r.interviewee_post) if x
                        ),
                    ),
                    (words("archive.iv.q_true"), r.q_true),
                    (words("archive.iv.q_cause"), r.q_cause),
                    (words("archive.iv.q_integrity"), r.q_integrity),
                    (words("archive.iv.c_collaboration"), r.c_collaboration),
                    (words("archive.iv.c_control"), r.c_control),
                    (words("archive.iv.c_education"), r.c_education),
                    (words("archive.iv.suggestion"), r.suggestion),
                    (words("archive.iv.follow_up"), r.follow_up),
                ],
                pictures=pictures,
            )
        )
    return out


def check_sheet_blocks(sheets: Sequence[HighRiskCheck], names: dict[int, str], words: Words) -> list[Block]:
    """The high-risk check sheet (B.17) of a true red warning, with both opinions."""
    out = []
    for sheet in sheets:
        facts = [
            (words("archive.b17.risk_description"), sheet.risk_description),
            (words("archive.b17.check_result"), sheet.check_result),
            (words("archive.b17.possible_risk"), sheet.possible_risk),
            (words("archive.b17.control_requirements"), sheet.control_requirements),
            (
                words("archive.b17.head_opinion"),
                f"{sheet.head_opinion}（{names.get(sheet.head_person_id, '')}，"
                f"{words.stamp(sheet.head_opinion_at)}）",
            ),
            (
                words("archive.b17.unit_opinion"),
                f"{sheet.unit_opinion}（{names.get(sheet.unit_person_id or 0, '')}，"
                f"{words.stamp(sheet.unit_opinion_at)}）"
                if sheet.unit_opinion
                else words("archive.pending"),
            ),
        ]
        out.append(Block(words("archive.b17"), facts=facts))
    return out


def linked_blocks(
    letters: Sequence[LinkedWarning], units: dict[int, str], names: dict[int, str], words: Words
) -> list[Block]:
    """Risk notice letters (B.13) that name the case, with the department's risk report (B.14)."""
    if not letters:
        return [Block(words("archive.linked"), empty=words("archive.none_linked"))]
    out = []
    for n, letter in enumerate(letters, start=1):
        facts = [
            (words("archive.lk.rule"), words.pick("linked_rule", letter.rule)),
            (words("archive.lk.level"), words.pick("archive.level", letter.level)),
            (words("archive.lk.unit"), units.get(letter.unit_id, "")),
            (words("archive.lk.state"), words.pick("linked_state", letter.state)),
            (words("archive.lk.raised"), words.stamp(letter.raised_at)),
            (words("archive.lk.due"), words.day(letter.report_due_at)),
            (words("archive.lk.count"), words("archive.lk.count_value", n=len(letter.warning_ids))),
        ]
        if letter.report_text:
            facts += [
                (words("archive.lk.report"), letter.report_text),
                (words("archive.lk.measures"), letter.report_measures or ""),
                (
                    words("archive.lk.answered"),
                    f"{names.get(letter.answered_by or 0, '')} {words.stamp(letter.answered_at)}".strip(),
                ),
            ]
        out.append(Block(words("archive.linked_n", n=n), facts=facts))
    return out


async def trail_block(session: AsyncSession, objects: Sequence[tuple[str, str]], words: Words) -> Block:
    """The case's trail of acts: when, what, who (by name and post), through which channel."""
    title = words("archive.trail")
    if not objects:
        return Block(title, empty=words("archive.none_trail"))
    match = or_(
        *(
            and_(col(AuditRecord.object_type) == kind, col(AuditRecord.object_id) == ident)
            for kind, ident in objects
        )
    )
    rows = list(
        (
            await session.execute(
                select(AuditRecord).where(match).order_by(col(AuditRecord.id).desc()).limit(TRAIL_SHOWN)
            )
        ).scalars()
    )
    rows.reverse()
    names = await person_names(session, [r.actor_person_id for r in rows])
    table_rows = [[words("archive.trail.at"), words("archive.trail.act"), words("archive.trail.who")]]
    for r in rows:
        who = names.get(r.actor_person_id or 0) or words("archive.trail.system")
        if r.actor_post:
            who = f"{who}（{r.actor_post}）"
        table_rows.append([words.stamp(r.at), words.pick("trail.action", r.action), who])
    if len(table_rows) == 1:
        return Block(title, empty=words("archive.none_trail"))
    return Block(title, table=table_rows)
