"""A problem clue's file (B.16, 一事一档): what was reported and by whom, the triage and proposal,
the committee's instruction, the handover and its receipt, the outcome, every step of its timeline,
what it came from (the true warning with its photos, or the public report with its attachments)
and its trail of acts. Read by inspectors and the committee only, as the clue list is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.casefile import Block, CaseFile
from backend.archive.sections import (
    acted,
    add_photo,
    file_safe,
    person_names,
    timeline_block,
    trail_block,
)
from backend.archive.shelf import Shelf, ShelvedKind
from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.clues.models import Clue
from backend.clues.schemas import CluePublic
from backend.clues.service import ClueService
from backend.intake.service import IntakeService
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden, NotFound
from backend.kernel.settings import Settings
from backend.warnings.service import WarningService

CLUE = Clue.__table__  # type: ignore[attr-defined]
K = CLUE.c
SHELF = Shelf(
    source=CLUE,
    topic=K.source,
    unit=K.unit_id,
    person=K.subject_person_id,
    opened=K.registered_at,
    key=K.id,
)


def readers_only(principal: Principal) -> None:
    """Clues are kept apart from warnings: inspectors and the committee read them, nobody else."""
    if not principal.has(Role.inspector, Role.committee):
        raise Forbidden("This needs one of the roles: committee, inspector.", code="role_required")


class ClueKind(ShelvedKind):
    shelf, title, state = SHELF, K.nature, K.state
    topic_words, state_words = "clue.source", "clue_state"
    more = (K.summary, K.subject_name)
    name = "clue"

    async def build(
        self,
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        case_id: int,
        words: Words,
    ) -> CaseFile:
        readers_only(principal)
        svc = ClueService(session, trail, settings)
        row = await svc.get(principal, case_id)
        clue = (await svc.public([row]))[0]
        names = await person_names(
            session,
            [row.registered_by, row.triaged_by, row.instructed_by, row.handed_by, row.concluded_by],
        )
        subject = clue.subject_name or clue.subject_unit or clue.unit_name
        out = CaseFile(
            kind=self.name,
            case_id=case_id,
            title=words("archive.title.clue", subject=subject),
            file_name=words(
                "archive.file.clue", subject=file_safe(subject), day=words.day(row.registered_at)
            ),
            trail_objects=[("clue", str(case_id))],
        )
        out.blocks.append(self._basics(clue, names, row, words))
        out.blocks.append(self._handling(clue, names, row, words))
        if row.warning_id is not None:
            warning = await self._warning(session, settings, trail, principal, row.warning_id, words, out)
            out.blocks.append(warning)
        if row.intake_report_id is not None:
            report = await self._report(session, settings, trail, row.intake_report_id, words, out)
            out.blocks.append(report)
        out.blocks.append(timeline_block(await svc.steps(case_id), words, "clue.step"))
        out.blocks.append(await trail_block(session, out.trail_objects, words))
        return out

    @staticmethod
    def _basics(clue: CluePublic, names: dict[int, str], row: Clue, words: Words) -> Block:
        subject = "，".join(x for x in (clue.subject_name, clue.subject_unit, clue.subject_post) if x)
        reporter = "，".join(x for x in (clue.reporter_name, clue.reporter_unit, clue.reporter_post) if x)
        return Block(
            words("archive.basics"),
            facts=[
                (words("clue.number"), clue.number),
                (words("clue.source"), words.pick("clue.source", clue.source.value)),
                (words("clue.state"), words.pick("clue_state", clue.state.value)),
                (words("clue.unit"), clue.unit_name),
                (words("clue.subject"), subject),
                (words("clue.subject_rank"), clue.subject_rank or words("archive.none_text")),
                (words("clue.reporter"), reporter or words("clue.anonymous")),
                (words("clue.letter_unit"), clue.letter_unit or words("archive.none_text")),
                (words("clue.letter_no"), clue.letter_no or words("archive.none_text")),
                (words("clue.nature"), clue.nature or words("archive.none_text")),
                (words("clue.summary"), clue.summary),
                (words("archive.c.registered"), acted(words, names, row.registered_by, row.registered_at)),
            ],
        )

    @staticmethod
    def _handling(clue: CluePublic, names: dict[int, str], row: Clue, words: Words) -> Block:
        """Triage and proposal, the committee's instruction, the handover and receipt, the outcome."""
        pending = words("archive.pending")
        none = words("archive.none_text")
        level = words.pick("clue.level", clue.level.value) if clue.level else pending
        outcome = words.pick("clue.outcome", clue.outcome.value) if clue.outcome else pending
        return Block(
            words("archive.c.handling"),
            facts=[
                (words("clue.level"), level),
                (words("clue.proposal"), clue.proposal or pending),
                (words("archive.c.triaged_by"), names.get(row.triaged_by or 0, "")),
                (words("clue.instruction"), clue.instruction or none),
                (words("archive.c.instructed"), acted(words, names, row.instructed_by, row.instructed_at)),
                (words("archive.c.handed"), acted(words, names, row.handed_by, row.handed_at)),
                (words("clue.receiver"), clue.receiver_name or pending),
                (words("clue.received_at"), words.stamp(row.received_at) or pending),
                (words("clue.outcome"), outcome),
                (words("clue.outcome_text"), clue.outcome_text or none),
                (words("archive.c.concluded"), acted(words, names, row.concluded_by, row.concluded_at)),
            ],
        )

    @staticmethod
    async def _warning(
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        warning_id: int,
        words: Words,
        file: CaseFile,
    ) -> Block:
        """The true warning the clue came from, with the photos of its replies."""
        title = words("archive.c.from_warning")
        svc = WarningService(session, trail, settings)
        try:
            warning = await svc.get_visible(principal, warning_id)
        except NotFound:
            return Block(title, empty=words("archive.c.warning_out_of_scope"))
        detail = await svc.detail_unmarked(principal, warning, words.lang)
        s = detail.warning
        block = Block(
            title,
            facts=[
                (words("archive.w.topic"), s.topic_name or words("warning.untitled")),
                (words("archive.w.level"), words.pick("archive.level", s.level.value)),
                (words("archive.w.raised"), words.stamp(s.raised_at)),
                (words("archive.w.state"), words.pick("state", s.state.value)),
            ]
            + [(e.label, e.value) for e in detail.evidence_items],
        )
        for photo in detail.photos:
            try:
                content = svc.photos.get(photo.sha256)
            except FileNotFoundError:
                continue
            add_photo(
                file,
                block,
                words,
                content=content,
                sha256=photo.sha256,
                content_type=photo.content_type,
                at=photo.uploaded_at,
                trail_object=("warning_photo", str(photo.id)),
            )
        return block

    @staticmethod
    async def _report(
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        report_id: int,
        words: Words,
        file: CaseFile,
    ) -> Block:
        """The public report the clue came from, with its attachments as the sender sent them."""
        intake = IntakeService(session, trail, settings)
        report, stored = await intake.contents(report_id)
        file.trail_objects.append(("public_report", str(report_id)))
        block = Block(
            words("archive.c.from_report"),
            facts=[
                (words("intake.received_at"), words.stamp(report.received_at)),
                (words("intake.category"), words.pick("intake_category", report.category.value)),
                (words("archive.c.report_subject"), report.subject),
                (words("archive.c.report_body"), report.body),
                (words("intake.about"), report.about or words("intake.not_given")),
                (words("intake.contact"), report.contact or words("intake.anonymous")),
            ],
        )
        for f in stored:
            try:
                content = intake.files.get(f.sha256)
            except FileNotFoundError:
                continue
            add_photo(
                file,
                block,
                words,
                content=content,
                sha256=f.sha256,
                content_type=f.content_type,
                at=report.received_at,
                word="attachment",
            )
        return block

    # --- the archive list ---------------------------------------------------------------
    def scope(self, principal: Principal) -> list[ColumnElement[bool]]:
        readers_only(principal)
        return [ClueService.visible(principal)]

    def shown(self, row: Any) -> tuple[str, str]:
        """A clue without a nature is shown by its summary's start; a person only named by name."""
        return str(row.title or row.summary[:40]), str(row.person or row.subject_name or "")
