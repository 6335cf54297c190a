"""Interview records (约谈, 9.2.2.2, B.12): made by heads and inspectors over the person, with two
interviewers at least, signatures drawn on the phone, linked to the person's warnings; the ratio
of interviews to true warnings per unit and period; the record as a printable B.12 PDF.

Signatures are uploaded first (PNG, sniffed from the bytes, stored by SHA-256 like photos) and
named in the record, which binds each to that record. A record is stored once under its
client-generated id: a replay returns the first, another body under the same id is 409.
"""

from __future__ import annotations

import asyncio
import calendar as months
import hashlib
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.interviews.models import Interview, InterviewSignature, InterviewWarning
from backend.interviews.pdf import Interviewer, InterviewSheet, interview_pdf
from backend.interviews.schemas import (
    OTHER_GOAL,
    RED_GOAL,
    InterviewCreate,
    InterviewerPublic,
    InterviewPublic,
    InterviewRatio,
    RatioCell,
    SignaturePublic,
    Signer,
    UnitRatio,
)
from backend.kernel.access import Principal, Role
from backend.kernel.errors import AppError, Conflict, Forbidden, Invalid, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import SHANGHAI, utcnow
from backend.org.service import OrgService
from backend.warnings.linked import TRUE_STATES
from backend.warnings.models import Finding, Level, Warning
from backend.warnings.photos import PhotoStore, Unbound, check_image, keep_unbound
from backend.warnings.service import WarningService, record_read, record_step, replayed

#: a signature is uploaded before the record it signs
SIGNATURE = Unbound(
    InterviewSignature, "interview_id", "signature.upload", "interview_signature", "interview.record"
)
#: a record may be written a little ahead of the clock of the phone that made it
CLOCK_SLACK = timedelta(minutes=10)
PERIOD = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?$")


def parse_held_at(value: str) -> datetime:
    """ISO date and time; without an offset it is local time (Asia/Shanghai)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid(
            f"held_at must be a date and time like 2026-11-20T14:30+08:00, not {value[:40]!r}",
            code="invalid_datetime",
            extra={"field": "held_at"},
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed


def parse_period(value: str) -> tuple[date, date]:
    """``2026`` (a year), ``2026-11`` (a month) or ``2026-Q4`` (a quarter): first and last day."""
    match = PERIOD.match(value.strip())
    if not match or not 1900 <= int(match.group(1)) <= 9998:
        raise Invalid(
            f"period must be YYYY, YYYY-MM or YYYY-Qn, not {value[:40]!r}",
            code="invalid_period",
            extra={"field": "period"},
        )
    year = int(match.group(1))
    if match.group(2):
        month = int(match.group(2))
        return date(year, month, 1), date(year, month, months.monthrange(year, month)[1])
    if match.group(3):
        first = 3 * int(match.group(3)) - 2
        return date(year, first, 1), date(year, first + 2, months.monthrange(year, first + 2)[1])
    return date(year, 1, 1), date(year, 12, 31)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def record_hash(data: InterviewCreate) -> str:
    text = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def ratio_cell(true: int, interviewed: int, goal: float) -> RatioCell:
    ratio = round(interviewed / true, 4) if true else None
    return RatioCell(
        true_warnings=true,
        interviewed=interviewed,
        ratio=ratio,
        goal=goal,
        met=None if ratio is None else ratio >= goal,
    )


class InterviewService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.store = PhotoStore(settings.data_dir)
        self.org = OrgService(session, trail)
        self.warnings = WarningService(session, trail, settings)

    # --- scope --------------------------------------------------------------------
    @staticmethod
    def visible(principal: Principal) -> ColumnElement[bool]:
        return principal.case_filter(person_col=col(Interview.person_id), unit_col=col(Interview.unit_id))

    @staticmethod
    def may_record(principal: Principal, unit_id: int) -> bool:
        return principal.has(Role.head, Role.inspector) and unit_id in principal.subtree_unit_ids

    async def get(self, principal: Principal, interview_id: int) -> Interview:
        row = (
            await self.session.execute(
                select(Interview).where(col(Interview.id) == interview_id, self.visible(principal))
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"interview {interview_id} does not exist or is not in your scope", code="interview_not_found"
            )
        return row

    # --- signatures ---------------------------------------------------------------
    async def add_signature(self, principal: Principal, content: bytes) -> tuple[InterviewSignature, bool]:
        """Store a signature image drawn on the phone (PNG only); the same image again is one row."""
        mime = check_image(content, self.settings.photo_max_bytes)
        if mime != "image/png":
            raise AppError(
                "a signature is a PNG image drawn on the phone", code="signature_not_png", status=415,
                extra={"field": "file"},
            )  # fmt: skip
        return await keep_unbound(self.session, self.trail, self.store, principal, SIGNATURE, content, mime)

    async def signature(
        self, principal: Principal, interview_id: int, signature_id: int
    ) -> tuple[InterviewSignature, bytes]:
        await self.get(principal, interview_id)
        row = await self.session.get(InterviewSignature, signature_id)
        if row is None or row.interview_id != interview_id:
            raise NotFound(
                f"signature {signature_id} is not on interview {interview_id}", code="signature_not_found"
            )
        content = self._bytes(row.sha256)
        await self.trail.record(
            self.session,
            principal.actor,
            action="signature.download",
            object_type="interview_signature",
            object_id=signature_id,
            new={"interview_id": interview_id},
            power="case.read",
        )
        await self.session.commit()
        return row, content

    def _bytes(self, sha256: str) -> bytes:
        try:
            return self.store.get(sha256)
        except FileNotFoundError as exc:
            raise AppError(
                "the signature file is missing from storage", code="file_missing", status=410
            ) from exc

    # --- recording ----------------------------------------------------------------
    async def create(
        self, principal: Principal, data: InterviewCreate, *, basis: dict[str, Any] | None = None
    ) -> tuple[Interview, bool]:
        """Record an interview on true warnings, or (``basis``: another domain's reason, such as an
        evaluation result suggesting a first-form talk) without warnings."""
        if not data.warning_ids and basis is None:
            raise Invalid("name the warning(s) the interview is about", code="warnings_required",
                          extra={"field": "warning_ids"})  # fmt: skip
        digest = record_hash(data)
        replay = await self._replay(principal, data.client_id, digest)
        if replay is not None:
            return replay, False
        person = await self.org.get_person(principal, data.person_id)
        if person.id == principal.person_id:
            raise Forbidden("nobody records their own interview", code="own_interview")
        if not self.may_record(principal, person.unit_id):
            raise Forbidden(
                "only a head or an inspector over the person records an interview", code="not_unit_head"
            )
        interviewee = await self.org.person_public(person)
        interviewers = await self._interviewers(data.interviewer_ids, interviewee.id)
        warnings = await self._warnings(principal, data.warning_ids, interviewee.id)
        held_at = self._held_at(data.held_at, warnings)
        signatures = await self._signatures(
            principal, data, interviewee.id, [p.person_id for p in interviewers]
        )
        row = Interview(
            client_id=data.client_id,
            person_id=interviewee.id,
            unit_id=interviewee.unit_id,
            interviewee_name=interviewee.name,
            interviewee_unit=interviewee.unit_name,
            interviewee_post=interviewee.post_name or "",
            held_at=held_at,
            place=data.place,
            q_true=data.q_true,
            q_cause=data.q_cause,
            q_integrity=data.q_integrity,
            c_collaboration=data.c_collaboration,
            c_control=data.c_control,
            c_education=data.c_education,
            suggestion=data.suggestion,
            follow_up=data.follow_up,
            interviewers=[p.model_dump() for p in interviewers],
            signatures=[
                {
                    "signature_id": s.id,
                    "signer": ref.signer.value,
                    "person_id": ref.person_id,
                    "sha256": s.sha256,
                }
                for ref, s in signatures
            ],
            body_hash=digest,
            recorded_by=principal.person_id,
        )
        try:
            self.session.add(row)
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            replay = await self._replay(principal, data.client_id, digest)
            if replay is None:
                raise
            return replay, False
        assert row.id is not None
        for ref, s in signatures:
            bound = await self.session.execute(
                update(InterviewSignature)
                .where(col(InterviewSignature.id) == s.id, col(InterviewSignature.interview_id).is_(None))
                .values(interview_id=row.id, signer=ref.signer.value, signer_person_id=ref.person_id)
                .execution_options(synchronize_session=False)
            )
            if bound.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(f"signature {s.id} was used meanwhile", code="signature_used")
        for w in warnings:
            self.session.add(InterviewWarning(interview_id=row.id, warning_id=w.id or 0))
            await record_step(
                self.session,
                self.trail,
                w.id or 0,
                principal.actor,
                kind="interviewed",
                data={"interview_id": row.id, "held_at": held_at.isoformat()},
            )
        await self.trail.record(
            self.session,
            principal.actor,
            action="interview.create",
            object_type="interview",
            object_id=row.id,
            new={
                "person_id": row.person_id,
                "warning_ids": [w.id for w in warnings],
                "interviewers": [p.person_id for p in interviewers],
                "held_at": held_at,
                "signatures": [s.id for _, s in signatures],
                **({"basis": basis} if basis else {}),
            },
            power="interview.record",
        )
        await self.session.commit()
        return row, True

    async def _replay(self, principal: Principal, client_id: str, digest: str) -> Interview | None:
        return await replayed(
            self.session, Interview, client_id, owner=("recorded_by", principal.person_id), digest=digest
        )

    async def _interviewers(self, ids: list[int], interviewee_id: int) -> list[InterviewerPublic]:
        unique = list(dict.fromkeys(ids))
        if len(unique) < 2:
            raise Invalid(
                "an interview has two interviewers at least (standard 9.2.2.2, seed 001)",
                code="two_interviewers_required",
                extra={"field": "interviewer_ids"},
            )
        if interviewee_id in unique:
            raise Invalid(
                "the interviewee cannot be one of the interviewers",
                code="interviewee_is_interviewer",
                extra={"field": "interviewer_ids"},
            )
        out = []
        for person_id in unique:
            facts = await self.org.person_facts(person_id)
            if facts is None or not facts.active:
                raise Invalid(
                    f"interviewer {person_id} is not an active person",
                    code="unknown_interviewer",
                    extra={"field": "interviewer_ids", "person_id": person_id},
                )
            out.append(InterviewerPublic(person_id=person_id, name=facts.name, post=facts.post_name))
        return out

    async def _warnings(self, principal: Principal, ids: list[int], person_id: int) -> list[Warning]:
        out = []
        for warning_id in dict.fromkeys(ids):
            warning = await self.warnings.get_visible(principal, warning_id)
            if warning.person_id != person_id:
                raise Invalid(
                    f"warning {warning_id} is not a warning of the interviewee",
                    code="warning_not_of_person",
                    extra={"field": "warning_ids", "warning_id": warning_id},
                )
            out.append(warning)
        return out

    @staticmethod
    def _held_at(value: str, warnings: list[Warning]) -> datetime:
        held_at = parse_held_at(value)
        if held_at > utcnow() + CLOCK_SLACK:
            raise Invalid(
                "held_at is in the future: record an interview after it was held",
                code="held_in_future",
                extra={"field": "held_at"},
            )
        if not warnings:
            return held_at
        first = min(w.raised_at for w in warnings).replace(second=0, microsecond=0)
        if held_at < first:
            raise Invalid(
                "held_at is before the warning was raised",
                code="held_before_warning",
                extra={"field": "held_at", "raised_at": first.isoformat()},
            )
        return held_at

    async def _signatures(
        self, principal: Principal, data: InterviewCreate, interviewee_id: int, interviewer_ids: list[int]
    ) -> list[tuple[Any, InterviewSignature]]:
        wanted = {(Signer.interviewee, interviewee_id)} | {(Signer.interviewer, p) for p in interviewer_ids}
        given = [(ref.signer, ref.person_id) for ref in data.signatures]
        strangers = sorted(f"{s.value}:{p}" for s, p in set(given) - wanted)
        if strangers or len(given) != len(set(given)):
            raise Invalid(
                "each signature belongs to one interviewer or the interviewee, once",
                code="unknown_signer",
                extra={"field": "signatures", "signers": strangers},
            )
        missing = sorted(f"{s.value}:{p}" for s, p in wanted - set(given))
        if missing:
            raise Invalid(
                "every interviewer and the interviewee sign the record",
                code="signatures_missing",
                extra={"field": "signatures", "missing": missing},
            )
        ids = [ref.signature_id for ref in data.signatures]
        rows = {
            s.id: s
            for s in (
                await self.session.execute(
                    select(InterviewSignature).where(
                        col(InterviewSignature.id).in_(ids),
                        col(InterviewSignature.uploaded_by) == principal.person_id,
                        col(InterviewSignature.interview_id).is_(None),
                    )
                )
            ).scalars()
        }
        unknown = sorted(set(ids) - set(rows))
        if unknown or len(ids) != len(set(ids)):
            raise Invalid(
                f"signature(s) {unknown or ids} were not uploaded by you, are used, or are named twice",
                code="unknown_signature",
                extra={"field": "signatures", "signature_ids": unknown},
            )
        return [(ref, rows[ref.signature_id]) for ref in data.signatures]

    # --- reading ------------------------------------------------------------------
    async def records(
        self,
        principal: Principal,
        *,
        person_id: int | None,
        warning_id: int | None,
        limit: int,
        offset: int,
    ) -> list[Interview]:
        stmt = select(Interview).where(self.visible(principal))
        if person_id is not None:
            stmt = stmt.where(col(Interview.person_id) == person_id)
        if warning_id is not None:
            linked = select(col(InterviewWarning.interview_id)).where(
                col(InterviewWarning.warning_id) == warning_id
            )
            stmt = stmt.where(col(Interview.id).in_(linked))
        stmt = (
            stmt.order_by(col(Interview.held_at).desc(), col(Interview.id).desc()).limit(limit).offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def _warning_ids(self, interview_ids: list[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {i: [] for i in interview_ids}
        if interview_ids:
            rows = await self.session.execute(
                select(col(InterviewWarning.interview_id), col(InterviewWarning.warning_id))
                .where(col(InterviewWarning.interview_id).in_(interview_ids))
                .order_by(col(InterviewWarning.warning_id))
            )
            for interview_id, warning_id in rows.all():
                out[interview_id].append(warning_id)
        return out

    async def public(self, rows: list[Interview]) -> list[InterviewPublic]:
        links = await self._warning_ids([r.id for r in rows if r.id is not None])
        return [
            InterviewPublic(
                **r.model_dump(exclude={"interviewers", "signatures", "body_hash"}),
                interviewers=[InterviewerPublic.model_validate(p) for p in r.interviewers],
                signatures=[
                    SignaturePublic(
                        id=s["signature_id"],
                        signer=Signer(s["signer"]),
                        person_id=s["person_id"],
                        sha256=s["sha256"],
                        url=f"/api/interviews/{r.id}/signatures/{s['signature_id']}",
                    )
                    for s in r.signatures
                ],
                warning_ids=links.get(r.id or 0, []),
                pdf_url=f"/api/interviews/{r.id}/pdf",
            )
            for r in rows
        ]

    async def read(self, principal: Principal, interview_id: int) -> InterviewPublic:
        row = await self.get(principal, interview_id)
        await record_read(
            self.session, self.trail, principal.actor, "interview.view", "interview", interview_id
        )
        return (await self.public([row]))[0]

    async def pdf(self, principal: Principal, interview_id: int) -> tuple[Interview, bytes]:
        row = await self.get(principal, interview_id)
        (record,) = await self.public([row])
        marks = {(s.signer, s.person_id): self._bytes(s.sha256) for s in record.signatures}
        codes = dict(
            (
                await self.session.execute(
                    select(col(Warning.id), col(Warning.topic_code)).where(
                        col(Warning.id).in_(record.warning_ids)
                    )
                )
            ).all()
        )
        sheet = InterviewSheet(
            number=f"YT-{row.id:06d}",
            warnings="、".join(f"#{w}（{codes.get(w, '')}）" for w in record.warning_ids),
            q_true=row.q_true,
            q_cause=row.q_cause,
            q_integrity=row.q_integrity,
            c_collaboration=row.c_collaboration,
            c_control=row.c_control,
            c_education=row.c_education,
            suggestion=row.suggestion,
            follow_up=row.follow_up,
            interviewers=[
                Interviewer(p.name, p.post, marks.get((Signer.interviewer, p.person_id)))
                for p in record.interviewers
            ],
            interviewee_name=row.interviewee_name,
            interviewee_unit=row.interviewee_unit,
            interviewee_post=row.interviewee_post,
            interviewee_signature=marks.get((Signer.interviewee, row.person_id)),
            held_at=row.held_at,
            place=row.place,
        )
        content = await asyncio.to_thread(interview_pdf, sheet)
        await record_read(
            self.session, self.trail, principal.actor, "interview.print", "interview", interview_id
        )
        return row, content

    # --- the ratio (9.2.2.2) --------------------------------------------------------
    async def ratio(
        self, principal: Principal, raised_from: date | None, raised_to: date | None
    ) -> InterviewRatio:
        if raised_from and raised_to and raised_to < raised_from:
            raise Invalid(
                "raised_to is before raised_from", code="invalid_range", extra={"field": "raised_to"}
            )
        w = Warning.__table__.c  # type: ignore[attr-defined]
        where: list[ColumnElement[bool]] = [
            self.warnings.visible(principal),
            w.finding == Finding.true.value,
            w.state.in_(TRUE_STATES),
        ]
        if raised_from:
            where.append(w.raised_at >= _day_start(raised_from))
        if raised_to:
            where.append(w.raised_at < _day_start(raised_to + timedelta(days=1)))
        interviewed = exists().where(col(InterviewWarning.warning_id) == w.id)
        red = w.level == Level.high.value
        stmt = (
            select(
                w.unit_id,
                func.sum(red.cast(Integer())),
                func.sum(and_(red, interviewed).cast(Integer())),
                func.sum((~red).cast(Integer())),
                func.sum(and_(~red, interviewed).cast(Integer())),
            )
            .where(*where)
            .group_by(w.unit_id)
            .order_by(w.unit_id)
        )
        units = []
        totals = [0, 0, 0, 0]
        for unit_id, *counts in (await self.session.execute(stmt)).all():
            n = [int(c or 0) for c in counts]
            totals = [a + b for a, b in zip(totals, n, strict=True)]
            units.append(
                UnitRatio(
                    unit_id=unit_id,
                    red=ratio_cell(n[0], n[1], RED_GOAL),
                    orange_yellow=ratio_cell(n[2], n[3], OTHER_GOAL),
                )
            )
        total = UnitRatio(
            unit_id=0,
            red=ratio_cell(totals[0], totals[1], RED_GOAL),
            orange_yellow=ratio_cell(totals[2], totals[3], OTHER_GOAL),
        )
        return InterviewRatio(raised_from=raised_from, raised_to=raised_to, units=units, total=total)
