"""A warning's file: what it is and why (evidence), every reply with its photos and the head's
decision, chases (催办) and supervision orders (督办), interviews with signatures, the check sheet
(B.17), the risk notice letters that name it, its timeline and its trail of acts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.casefile import ArchiveEntry, ArchiveFilters, Block, CaseFile, Facet, Facets
from backend.archive.sections import (
    TOPIC,
    add_photo,
    check_sheet_blocks,
    interview_blocks,
    linked_blocks,
    person_names,
    timeline_block,
    trail_block,
    unit_names,
)
from backend.archive.shelf import Shelf
from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.interviews.checks import CheckSheetService
from backend.interviews.service import InterviewService
from backend.kernel.access import Principal
from backend.kernel.settings import Settings
from backend.warnings.inbox import WARNING, W
from backend.warnings.linked import LinkedService
from backend.warnings.schemas import WarningDetail
from backend.warnings.service import WarningService

#: timeline steps that are chases or supervision orders
URGING = {"reminded", "chased", "urged", "supervision_order"}
LETTERS_SCANNED = 1000
SHELF = Shelf(
    source=WARNING.outerjoin(TOPIC, TOPIC.c.id == W.topic_id),
    topic=W.topic_code,
    unit=W.unit_id,
    person=W.person_id,
    opened=W.raised_at,
    key=W.id,
)


def archive_scope(principal: Principal) -> ColumnElement[bool]:
    """The archive's warnings: the committee all; heads and inspectors their units (not the
    specialty view of the inbox: an archive is of one's department)."""
    units = principal.case_unit_ids()
    if units is None:
        return true()
    return W.unit_id.in_(sorted(units))


class WarningKind:
    name = "warning"

    async def build(
        self,
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        case_id: int,
        words: Words,
    ) -> CaseFile:
        svc = WarningService(session, trail, settings)
        warning = await svc.get_visible(principal, case_id)
        detail = await svc.detail_unmarked(principal, warning, words.lang)
        s = detail.warning
        topic = s.topic_name or words("warning.untitled")
        units = await unit_names(session, [s.unit_id])
        people = await person_names(session, [s.person_id])
        facts = [
            (words("archive.w.topic"), topic),
            (words("archive.w.level"), words.pick("archive.level", s.level.value)),
            (words("archive.w.person"), people.get(s.person_id, "")),
            (words("archive.w.unit"), units.get(s.unit_id, "")),
            (words("archive.w.object"), s.object_key),
            (words("archive.w.period"), words.period(s.period_key)),
            (words("archive.w.state"), words.pick("state", s.state.value)),
            (
                words("archive.w.finding"),
                words.pick("finding", s.finding.value) if s.finding else words("archive.pending"),
            ),
            (words("archive.w.raised"), words.stamp(s.raised_at)),
            (words("archive.w.due"), words.day(s.due_at) if s.due_at else ""),
            (words("archive.w.overdue"), words.yes_no(s.overdue)),
        ]
        file = CaseFile(
            kind=self.name,
            case_id=case_id,
            title=words("archive.title.warning", topic=topic),
            file_name=words("archive.file.warning", topic=topic, day=words.day(s.raised_at)),
            trail_objects=[("warning", str(case_id))],
        )
        file.blocks.append(Block(words("archive.basics"), facts=facts))
        file.blocks.append(
            Block(
                words("archive.evidence"),
                facts=[(e.label, e.value) for e in detail.evidence_items],
                empty=words("archive.none_evidence"),
            )
        )
        file.blocks += await self._replies(svc, detail, words, file)
        file.blocks.append(self._urging(detail, words))
        file.blocks += await self._interviews(session, settings, trail, principal, case_id, words, file)
        sheets = await CheckSheetService(session, trail, settings).sheets(principal, case_id, 10, 0)
        names = await person_names(
            session, [x for sh in sheets for x in (sh.head_person_id, sh.unit_person_id)]
        )
        file.blocks += check_sheet_blocks(sheets, names, words)
        file.trail_objects += [("high_risk_check", str(sh.id)) for sh in sheets]
        letters = [
            r
            for r in await LinkedService(session, trail).list(principal, None, LETTERS_SCANNED, 0)
            if case_id in r.warning_ids
        ]
        lunits = await unit_names(session, [r.unit_id for r in letters])
        lnames = await person_names(session, [r.answered_by for r in letters])
        file.blocks += linked_blocks(letters, lunits, lnames, words)
        file.trail_objects += [("linked_warning", str(r.id)) for r in letters]
        file.blocks.append(timeline_block(detail.timeline, words, "step"))
        file.blocks.append(await trail_block(session, file.trail_objects, words))
        return file

    async def _replies(
        self, svc: WarningService, detail: WarningDetail, words: Words, file: CaseFile
    ) -> list[Block]:
        if not detail.verifications:
            return [Block(words("archive.replies"), empty=words("archive.none_replies"))]
        photos = {p.id: p for p in detail.photos}
        names = await person_names(
            svc.session,
            [v.person_id for v in detail.verifications] + [v.decided_by for v in detail.verifications],
        )
        out = []
        for v in detail.verifications:
            facts = [
                (words("archive.r.by"), names.get(v.person_id, "")),
                (words("archive.r.at"), words.stamp(v.submitted_at)),
                (words("archive.r.result"), words.pick("finding", v.result.value)),
                (words("archive.r.cause"), v.cause),
                (words("archive.r.measures"), v.measures or words("archive.none_text")),
            ]
            if v.latitude is not None and v.longitude is not None:
                facts.append((words("archive.r.place"), f"{v.latitude:.5f}, {v.longitude:.5f}"))
            decision = words.pick("archive.decision", v.decision or "pending")
            if v.decision:
                decision = f"{decision}（{names.get(v.decided_by or 0, '')}，{words.stamp(v.decided_at)}）"
            facts.append((words("archive.r.decision"), decision))
            if v.decision_reason:
                facts.append((words("archive.r.reason"), v.decision_reason))
            block = Block(words("archive.reply_n", n=v.round), facts=facts)
            for photo_id in v.photo_ids:
                photo = photos.get(photo_id)
                if photo is None:
                    continue
                add_photo(
                    file,
                    block,
                    words,
                    content=svc.photos.get(photo.sha256),
                    sha256=photo.sha256,
                    content_type=photo.content_type,
                    at=photo.uploaded_at,
                    trail_object=("warning_photo", str(photo.id)),
                )
            out.append(block)
        return out

    @staticmethod
    def _urging(detail: WarningDetail, words: Words) -> Block:
        rows = [
            [
                words("archive.trail.at"),
                words("archive.u.kind"),
                words("archive.trail.who"),
                words("archive.u.note"),
            ]
        ]
        for step in detail.timeline:
            if step.kind not in URGING:
                continue
            note = step.note or ""
            due = step.data.get("order_due_on") if isinstance(step.data, dict) else None
            if due:
                note = (
                    note + " " + words("archive.u.due", day=words.day(date.fromisoformat(str(due))))
                ).strip()
            who = step.actor_name or words("archive.trail.system")
            rows.append([words.stamp(step.at), words.pick("step", step.kind), who, note])
        if len(rows) == 1:
            return Block(words("archive.urging"), empty=words("archive.none_urging"))
        return Block(words("archive.urging"), table=rows)

    @staticmethod
    async def _interviews(
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        case_id: int,
        words: Words,
        file: CaseFile,
    ) -> list[Block]:
        svc = InterviewService(session, trail, settings)
        rows = await svc.records(principal, person_id=None, warning_id=case_id, limit=20, offset=0)
        records = await svc.public(rows)
        signatures: dict[str, bytes] = {}
        for r in records:
            file.trail_objects.append(("interview", str(r.id)))
            for s in r.signatures:
                try:
                    signatures[s.sha256] = svc.store.get(s.sha256)
                except FileNotFoundError:
                    continue
        return interview_blocks(records, signatures, words)

    # --- the archive list ---------------------------------------------------------------
    @staticmethod
    def _where(principal: Principal, filters: ArchiveFilters) -> list[ColumnElement[bool]]:
        return SHELF.where([WarningService.visible(principal), archive_scope(principal)], filters)

    async def entries(
        self,
        session: AsyncSession,
        principal: Principal,
        filters: ArchiveFilters,
        words: Words,
        limit: int,
        offset: int,
    ) -> tuple[list[ArchiveEntry], int]:
        columns = [W.id, W.level, W.state, W.raised_at, W.topic_code, TOPIC.c.name, TOPIC.c.name_en]
        rows, total = await SHELF.page(session, self._where(principal, filters), columns, limit, offset)
        out = []
        for r in rows:
            topic = (r.name_en if words.lang == "en" and r.name_en else r.name) or words("warning.untitled")
            out.append(
                ArchiveEntry(
                    kind=self.name,
                    case_id=int(r.id),
                    title=topic,
                    topic=topic,
                    person_name=str(r.person or ""),
                    unit_name=str(r.unit or ""),
                    opened_at=r.raised_at,
                    state=words.pick("state", r.state),
                    level=str(r.level),
                )
            )
        return out, total

    async def facets(self, session: AsyncSession, principal: Principal, words: Words) -> Facets:
        """Topics, departments, people and years the caller's archived warnings have."""
        where = self._where(principal, ArchiveFilters())
        topics = (
            await session.execute(
                select(W.topic_code, TOPIC.c.name, TOPIC.c.name_en)
                .distinct()
                .select_from(SHELF.source)
                .where(*where)
            )
        ).all()
        labels = (
            Facet(str(c), str((en if words.lang == "en" and en else n) or words("warning.untitled")))
            for c, n, en in topics
        )
        return await SHELF.facets(session, where, sorted(labels, key=lambda f: f.label))
