"""The personal integrity archive (廉洁档案, seed 004): one page per person assembling what the
platform holds about them, each part only as far as the viewer may see it.

Who opens it: the person (their own), heads and inspectors whose subtree holds the person's unit,
the committee. Every part is read through its domain's own scope: warnings and interviews by the
case scope, linked letters by the unit scope, ladder cases (the person, inspectors, committee),
evaluation results and tags (confidential ones not for the person nor heads), the check-up grade
and care measures (the person and the inspectors over their unit only: not heads, not the
committee). Each opening is an act in the trail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from backend.audit.models import AuditRecord
from backend.audit.service import AuditTrail
from backend.checkups.crypto import Sealer
from backend.checkups.service import CheckupService
from backend.education.service import hours_since, year_start
from backend.evaluation.models import EvalTagPhoto
from backend.evaluation.rounds import RoundService
from backend.evaluation.schemas import TagPublic, TrendPoint
from backend.interviews.models import Interview
from backend.interviews.service import InterviewService
from backend.kernel.access import Principal, Role
from backend.kernel.errors import NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import LocalDateTime, local, utcnow
from backend.ladder.models import LadderCase
from backend.ladder.service import LadderService
from backend.org.models import Person, PersonPost, Post, Unit
from backend.org.service import OrgService
from backend.topics.models import Topic
from backend.warnings.models import LinkedWarning, Verification
from backend.warnings.models import Warning as RiskWarning
from backend.warnings.photos import PhotoStore
from backend.warnings.service import WarningService


class PersonPart(SQLModel):
    id: int
    name: str
    employee_no: str
    unit_name: str
    post_name: str | None
    started_in_post: date | None


class PostHeld(SQLModel):
    post_name: str | None
    unit_name: str
    since: date | None
    until: date | None


class WarningPart(SQLModel):
    id: int
    topic_name: str
    level: str
    state: str
    raised_at: LocalDateTime
    #: the latest reply: true / not_true, and the head's decision
    reply: str | None
    decision: str | None


class InterviewPart(SQLModel):
    id: int
    held_at: LocalDateTime
    place: str
    suggestion: str
    follow_up: str


class LetterPart(SQLModel):
    id: int
    rule: str
    level: str
    state: str
    raised_at: LocalDateTime


class LadderPart(SQLModel):
    id: int
    tier: str
    state: str
    subject: str
    opened_at: LocalDateTime


class CheckupPart(SQLModel):
    campaign_id: int
    graded_at: LocalDateTime
    composite_grade: str
    psych_grade: str


class CarePart(SQLModel):
    id: int
    kind: str
    risk_type: str
    status: str
    due_date: date


class Dossier(SQLModel):
    person: PersonPart
    posts: list[PostHeld]
    warnings: list[WarningPart]
    interviews: list[InterviewPart]
    letters: list[LetterPart]
    ladder: list[LadderPart]
    evaluation: list[TrendPoint]
    tags: list[TagPublic]
    #: none where the viewer may not see check-up results (then ``checkups_hidden``)
    checkups: list[CheckupPart]
    care: list[CarePart]
    checkups_hidden: bool
    #: hours of integrity education in the last twelve months (imported, or lessons studied)
    education_hours: float | None
    generated_at: LocalDateTime


def may_open(principal: Principal, person_id: int, unit_id: int) -> bool:
    if principal.person_id == person_id or principal.has(Role.committee):
        return True
    return principal.has(Role.head, Role.inspector) and unit_id in principal.subtree_unit_ids


class DossierService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.org = OrgService(session, trail)

    async def person(self, principal: Principal, person_id: int) -> Person:
        person = await self.session.get(Person, person_id)
        if person is None or not may_open(principal, person_id, person.unit_id):
            raise NotFound(f"no archive of person {person_id} in your scope", code="person_not_found")
        return person

    async def assemble(self, principal: Principal, person_id: int) -> Dossier:
        person = await self.person(principal, person_id)
        public = await self.org.person_public(person)
        await self.trail.record(
            self.session,
            principal.actor,
            action="dossier.read",
            object_type="person",
            object_id=person_id,
            power="case.read",
        )
        await self.session.commit()
        checkups, care, hidden = await self._checkups(principal, person)
        evaluation = RoundService(self.session, self.trail, self.settings)
        return Dossier(
            person=PersonPart(
                id=person_id,
                name=person.name,
                employee_no=person.employee_no,
                unit_name=public.unit_name,
                post_name=public.post_name,
                started_in_post=person.started_in_post,
            ),
            posts=await self._posts(person),
            warnings=await self._warnings(principal, person_id),
            interviews=await self._interviews(principal, person_id),
            letters=await self._letters(principal, person_id),
            ladder=await self._ladder(principal, person_id),
            evaluation=await evaluation.trend(principal, person_id),
            tags=await evaluation.tags_public(
                await evaluation.tags(principal, person_id=person_id, category_id=None)
            ),
            checkups=checkups,
            care=care,
            checkups_hidden=hidden,
            education_hours=(
                await hours_since(self.session, [person_id], year_start(local(utcnow()).date()))
            ).get(person_id, 0.0),
            generated_at=utcnow(),
        )

    async def _posts(self, person: Person) -> list[PostHeld]:
        """Posts over time, newest first: the post history (``person_post``, written on each change
        of post or unit), and before its first row (the post held when the table was made) what the
        trail of the person's record tells."""
        posts = {p.id: p.name for p in (await self.session.execute(select(Post))).scalars()}
        units = {u.id: u.name for u in (await self.session.execute(select(Unit))).scalars()}
        rows = list(
            (
                await self.session.execute(
                    select(PersonPost)
                    .where(col(PersonPost.person_id) == person.id)
                    .order_by(col(PersonPost.id))
                )
            ).scalars()
        )
        trail = await self._posts_from_trail(person, posts, units)
        if not rows:
            return list(reversed(trail))
        held = [
            PostHeld(
                post_name=posts.get(r.post_id),
                unit_name=units.get(r.unit_id, ""),
                since=r.since,
                until=r.until,
            )
            for r in rows
        ]
        first = rows[0]
        if first.source == "backfill":
            start = first.since
            earlier = [h for h in trail if h.since is not None and start is not None and h.since < start]
            if start is None:
                earlier = trail[:-1]
            if earlier and start is not None:
                earlier[-1].until = start  # held until the post the table starts with
            held = earlier + held
        return list(reversed(held))

    async def _posts_from_trail(
        self, person: Person, posts: dict[int | None, str], units: dict[int | None, str]
    ) -> list[PostHeld]:
        """Posts over time, oldest first, from the trail of the person's record (each change)."""
        rows = (
            await self.session.execute(
                select(AuditRecord)
                .where(col(AuditRecord.object_type) == "person", col(AuditRecord.object_id) == str(person.id))
                .order_by(col(AuditRecord.id))
            )
        ).scalars()
        held: list[PostHeld] = []
        for rec in rows:
            new = rec.new_value or {}
            if "post_id" not in new and "unit_id" not in new:
                continue
            post_id = new.get("post_id", person.post_id)
            unit_id = new.get("unit_id", person.unit_id)
            since = local(rec.at).date()
            if rec.old_value is None:  # the record's creation: in the post since they started in it
                started = new.get("started_in_post")
                if isinstance(started, str):
                    since = date.fromisoformat(started[:10])
                elif person.started_in_post is not None:
                    since = person.started_in_post
            if held and (held[-1].post_name, held[-1].unit_name) == (
                posts.get(post_id),
                units.get(unit_id, ""),
            ):
                continue
            if held:
                held[-1].until = since
            held.append(
                PostHeld(
                    post_name=posts.get(post_id), unit_name=units.get(unit_id, ""), since=since, until=None
                )
            )
        if not held:
            held.append(
                PostHeld(
                    post_name=posts.get(person.post_id),
                    unit_name=units.get(person.unit_id, ""),
                    since=person.started_in_post,
                    until=None,
                )
            )
        return held

    async def _warnings(self, principal: Principal, person_id: int) -> list[WarningPart]:
        stmt = (
            select(RiskWarning, col(Topic.name))
            .join(Topic, col(Topic.id) == col(RiskWarning.topic_id))
            .where(col(RiskWarning.person_id) == person_id, WarningService.visible(principal))
            .order_by(col(RiskWarning.raised_at).desc(), col(RiskWarning.id).desc())
            .limit(200)
        )
        rows = (await self.session.execute(stmt)).all()
        replies: dict[int, Verification] = {}
        if rows:
            for v in (
                await self.session.execute(
                    select(Verification)
                    .where(col(Verification.warning_id).in_([w.id for w, _ in rows]))
                    .order_by(col(Verification.id))
                )
            ).scalars():
                replies[v.warning_id] = v
        return [
            WarningPart(
                id=w.id or 0,
                topic_name=name,
                level=w.level,
                state=w.state,
                raised_at=w.raised_at,
                reply=replies[w.id].result if w.id in replies else None,
                decision=replies[w.id].decision if w.id in replies else None,
            )
            for w, name in rows
        ]

    async def _interviews(self, principal: Principal, person_id: int) -> list[InterviewPart]:
        stmt = (
            select(Interview)
            .where(col(Interview.person_id) == person_id, InterviewService.visible(principal))
            .order_by(col(Interview.held_at).desc(), col(Interview.id).desc())
        )
        return [
            InterviewPart(
                id=i.id or 0, held_at=i.held_at, place=i.place, suggestion=i.suggestion, follow_up=i.follow_up
            )
            for i in (await self.session.execute(stmt)).scalars()
        ]

    async def _letters(self, principal: Principal, person_id: int) -> list[LetterPart]:
        units = principal.case_unit_ids()
        stmt = select(LinkedWarning).where(col(LinkedWarning.person_id) == person_id)
        if units is not None:
            stmt = stmt.where(col(LinkedWarning.unit_id).in_(sorted(units)))
        return [
            LetterPart(id=x.id or 0, rule=x.rule, level=x.level, state=x.state, raised_at=x.raised_at)
            for x in (
                await self.session.execute(
                    stmt.order_by(col(LinkedWarning.raised_at).desc(), col(LinkedWarning.id).desc())
                )
            ).scalars()
        ]

    async def _ladder(self, principal: Principal, person_id: int) -> list[LadderPart]:
        stmt = (
            select(LadderCase)
            .where(col(LadderCase.person_id) == person_id, LadderService.visible(principal))
            .order_by(col(LadderCase.opened_at).desc(), col(LadderCase.id).desc())
        )
        return [
            LadderPart(id=c.id or 0, tier=c.tier, state=c.state, subject=c.subject, opened_at=c.opened_at)
            for c in (await self.session.execute(stmt)).scalars()
        ]

    async def _checkups(
        self, principal: Principal, person: Person
    ) -> tuple[list[CheckupPart], list[CarePart], bool]:
        """Grades and care only through the check-up domain's own rule (the person, their inspectors)."""
        svc = CheckupService(self.session, self.trail, Sealer.from_settings(self.settings))
        seen = principal.person_id == person.id or (
            principal.has(Role.inspector) and person.unit_id in principal.subtree_unit_ids
        )
        if not seen:
            return [], [], True
        parts: list[CheckupPart] = []
        for campaign in await svc.list_campaigns():
            try:
                results = await svc.person_results(campaign.id, person.id or 0, principal)
            except NotFound:
                continue
            current = next((r for r in results if r.current), None)
            if current is not None:
                parts.append(
                    CheckupPart(
                        campaign_id=campaign.id,
                        graded_at=current.graded_at,
                        composite_grade=current.composite_grade,
                        psych_grade=current.psych_grade,
                    )
                )
        care = [
            CarePart(id=c.id, kind=c.kind, risk_type=c.risk_type, status=c.status, due_date=c.due_date)
            for c in await svc.list_care(principal, None, None)
            if c.person_id == person.id
        ]
        return parts, care, False

    async def export(
        self,
        principal: Principal,
        person_id: int,
        render: Callable[[Dossier, dict[int, bytes]], bytes],
        counts: Callable[[Dossier], dict[str, Any]],
    ) -> bytes:
        """The archive as one file, the export in the trail (what parts, not their content); the
        photos of the tags listed (those the viewer may see) go in with them."""
        d = await self.assemble(principal, person_id)
        photos = await self._tag_photos(d)
        content = render(d, photos)
        await self.trail.record(
            self.session,
            principal.actor,
            action="dossier.export",
            object_type="person",
            object_id=person_id,
            new={"format": "pdf", **counts(d)},
            power="case.export",
        )
        await self.session.commit()
        return content

    async def _tag_photos(self, d: Dossier) -> dict[int, bytes]:
        """{tag id: its photo's bytes} of the tags in the archive (a missing file is left out)."""
        store = PhotoStore(self.settings.data_dir)
        ids = [t.photo_id for t in d.tags if t.photo_id is not None]
        rows: list[EvalTagPhoto] = (
            list(
                (
                    await self.session.execute(select(EvalTagPhoto).where(col(EvalTagPhoto.id).in_(ids)))
                ).scalars()
            )
            if ids
            else []
        )
        out: dict[int, bytes] = {}
        for row in rows:
            if row.tag_id is None:
                continue
            try:
                out[row.tag_id] = store.get(row.sha256)
            except FileNotFoundError:
                continue
        return out


def dossier_rows(d: Dossier) -> dict[str, Any]:
    """Counts per part (the trail of an export names what went out, not its content)."""
    return {
        k: len(getattr(d, k)) for k in ("warnings", "interviews", "letters", "ladder", "evaluation", "tags")
    }
