"""Blocks several kinds of case file share: interviews with their signatures (B.12), check sheets
(B.17), risk notice letters (B.13/B.14), and the case's trail of acts; names of people and units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.archive.casefile import Attachment, Block, CaseFile, Picture
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
#: photo types kept in the ZIP, with their file extension
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "application/pdf": "pdf",
}
#: photo types the PDF can draw (the others are in the ZIP only)
DRAWN = {"image/jpeg", "image/png", "image/gif"}


#: characters a file name may not hold on some system, and the longest part of a name a text gives
UNSAFE = str.maketrans({c: "-" for c in '/\\:*?"<>|\n\r\t'})
NAME_PART = 40


def file_safe(text: str) -> str:
    """A free text (a problem's title, a person's name) as part of a file name."""
    return text.translate(UNSAFE).strip()[:NAME_PART] or "-"


def acted(words: Words, names: dict[int, str], who: int | None, at: datetime | None) -> str:
    """Who acted and when (周红（2026年12月6日 14:05）), or 待处理 while nobody has."""
    if who is None and at is None:
        return words("archive.pending")
    stamp = words.stamp(at)
    name = names.get(who or 0, "")
    return f"{name}（{stamp}）" if name and stamp else name or stamp


class Step(Protocol):
    """A row of a case's timeline (a warning's, a clue's, a problem's …)."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor_name(self) -> str | None: ...
    @property
    def note(self) -> str | None: ...
    @property
    def data(self) -> Any: ...


def add_photo(
    file: CaseFile,
    block: Block,
    words: Words,
    *,
    content: bytes,
    sha256: str,
    content_type: str,
    at: datetime | None,
    trail_object: tuple[str, str] | None = None,
    word: str = "photo",
) -> None:
    """A photo (``word`` "photo") or other attachment ("attachment") of the case: its original in
    the ZIP (照片原件/照片03.jpg, hashed in the manifest), drawn in ``block`` with its number and
    upload time (or named there when the PDF cannot draw it)."""
    number = len(file.attachments) + 1
    name = words(f"archive.{word}_file", n=f"{number:02d}")
    ext = EXTENSIONS.get(content_type, "bin")
    file.attachments.append(Attachment(f"{name}.{ext}", sha256, content_type, content))
    if trail_object is not None:
        file.trail_objects.append(trail_object)
    caption = words(f"archive.{word}_caption", n=number, at=words.stamp(at))
    if content_type in DRAWN:
        block.pictures.append(Picture(caption, content, content_type))
    else:
        block.paragraphs.append(words("archive.photo_in_zip", caption=caption))


def timeline_block(steps: Sequence[Step], words: Words, family: str) -> Block:
    """Every step of a case in order: when, which step (the word of ``family.<kind>``), who, note."""
    rows = [
        [
            words("archive.trail.at"),
            words("archive.t.step"),
            words("archive.trail.who"),
            words("archive.u.note"),
        ]
    ]
    for step in steps:
        who = step.actor_name or words("archive.trail.system")
        rows.append([words.stamp(step.at), words.pick(family, step.kind), who, step.note or ""])
    return Block(
        words("archive.timeline"), table=rows if len(rows) > 1 else [], empty=words("archive.none_trail")
    )


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
