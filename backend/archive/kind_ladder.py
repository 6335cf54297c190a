"""A ladder case's file (seed 001: 一事一档): the notice, inquiry or recommendation, every step
(answers, escalations, the extension, follow-up visits), the appeals and their answers, the
warnings it rests on, and its trail of acts."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.casefile import Block, CaseFile
from backend.archive.sections import person_names, trail_block, unit_names
from backend.archive.shelf import Shelf, ShelvedKind
from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.kernel.access import Principal
from backend.kernel.errors import NotFound
from backend.kernel.settings import Settings
from backend.ladder.models import LadderCase
from backend.ladder.service import LadderService
from backend.warnings.service import WarningService

CASE = LadderCase.__table__  # type: ignore[attr-defined]
C = CASE.c
SHELF = Shelf(source=CASE, topic=C.tier, unit=C.unit_id, person=C.person_id, opened=C.opened_at, key=C.id)


class LadderKind(ShelvedKind):
    shelf, title, state = SHELF, C.subject, C.state
    topic_words, state_words = "tier", "ladder.state"
    name = "ladder"

    async def build(
        self,
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        case_id: int,
        words: Words,
    ) -> CaseFile:
        file_ = await LadderService(session, trail, settings).file(principal, case_id)
        case = file_.case
        people = await person_names(
            session,
            [case.person_id, case.opened_by]
            + [s.actor_person_id for s in file_.steps]
            + [a.answered_by for a in file_.appeals],
        )
        units = await unit_names(session, [case.unit_id])
        tier = words.pick("tier", case.tier.value)
        out = CaseFile(
            kind=self.name,
            case_id=case_id,
            title=words("archive.title.ladder", tier=tier, subject=case.subject),
            file_name=words("archive.file.ladder", tier=tier, day=words.day(case.opened_at)),
            trail_objects=[("ladder_case", str(case_id))],
        )
        out.blocks.append(
            Block(
                words("archive.basics"),
                facts=[
                    (words("archive.l.subject"), case.subject),
                    (words("archive.l.tier"), tier),
                    (words("archive.l.person"), people.get(case.person_id, "")),
                    (words("archive.l.unit"), units.get(case.unit_id, "")),
                    (words("archive.l.state"), words.pick("ladder.state", case.state.value)),
                    (
                        words("archive.l.opened"),
                        f"{words.stamp(case.opened_at)}（{people.get(case.opened_by, '')}）",
                    ),
                    (words("archive.l.due"), words.day(case.due_at)),
                    (words("archive.l.extended"), words.yes_no(case.extended)),
                    (words("archive.l.closed"), words.stamp(case.closed_at) or words("archive.pending")),
                    (words("ladder.problem"), case.problem),
                    (words("ladder.requirements"), case.requirements or words("archive.none_text")),
                ],
            )
        )
        steps = [
            [
                words("archive.trail.at"),
                words("archive.t.step"),
                words("archive.l.tier"),
                words("archive.trail.who"),
                words("archive.u.note"),
            ]
        ]
        for s in file_.steps:
            who = people.get(s.actor_person_id or 0) or words("archive.trail.system")
            measures = s.data.get("measures") if isinstance(s.data, dict) else None
            text = "\n".join(x for x in (s.text or "", str(measures or "")) if x)
            steps.append(
                [
                    words.stamp(s.at),
                    words.pick("ladder.step", s.kind),
                    words.pick("tier", s.tier.value),
                    who,
                    text,
                ]
            )
        out.blocks.append(
            Block(
                words("archive.ladder_steps"),
                table=steps if len(steps) > 1 else [],
                empty=words("archive.none_trail"),
            )
        )
        if file_.appeals:
            for n, a in enumerate(file_.appeals, start=1):
                outcome = (
                    words.pick("archive.appeal", a.outcome.value) if a.outcome else words("archive.pending")
                )
                facts = [
                    (words("archive.a.filed"), words.stamp(a.filed_at)),
                    (words("archive.a.text"), a.text),
                    (words("archive.a.outcome"), outcome),
                ]
                if a.answer:
                    facts += [
                        (words("archive.a.answer"), a.answer),
                        (
                            words("archive.a.by"),
                            f"{people.get(a.answered_by or 0, '')} {words.stamp(a.answered_at)}".strip(),
                        ),
                    ]
                out.blocks.append(Block(words("archive.appeal_n", n=n), facts=facts))
        else:
            out.blocks.append(Block(words("archive.appeals"), empty=words("archive.none_appeals")))
        out.blocks.append(await self._warnings(session, settings, trail, principal, case.warning_ids, words))
        out.blocks.append(await trail_block(session, out.trail_objects, words))
        return out

    @staticmethod
    async def _warnings(
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        ids: list[int],
        words: Words,
    ) -> Block:
        svc = WarningService(session, trail, settings)
        rows = [
            [
                words("archive.w.topic"),
                words("archive.w.level"),
                words("archive.w.raised"),
                words("archive.w.state"),
            ]
        ]
        for wid in ids:
            try:
                warning = await svc.get_visible(principal, wid)
            except NotFound:
                continue
            detail = await svc.detail_unmarked(principal, warning, words.lang)
            s = detail.warning
            rows.append(
                [
                    s.topic_name or words("warning.untitled"),
                    words.pick("archive.level", s.level.value),
                    words.stamp(s.raised_at),
                    words.pick("state", s.state.value),
                ]
            )
        return Block(
            words("archive.ladder_warnings"),
            table=rows if len(rows) > 1 else [],
            empty=words("archive.none_warnings"),
        )

    # --- the archive list ---------------------------------------------------------------
    def scope(self, principal: Principal) -> list[ColumnElement[bool]]:
        return [LadderService.visible(principal)]
