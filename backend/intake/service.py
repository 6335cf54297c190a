"""Public intake: a report from anyone, without an account, and its handling by inspectors.

Abuse is kept out without a captcha: each submission carries a proof of work (a challenge signed
by the server, fresh, used once, and a nonce whose hash has ``intake_pow_bits`` leading zero bits:
about a second of a phone's work), the sender's address may submit ``intake_per_hour`` and
``intake_per_day`` reports, and texts and files have size limits. The receipt code (80 random
bits) is the only way back to a report: looking it up says the state, two dates and the note
meant for the sender — never the report itself — and look-ups are rate-limited too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.intake.models import (
    Challenge,
    IntakeCategory,
    IntakeChallenge,
    IntakeDetail,
    IntakeFilePublic,
    IntakeRate,
    IntakeState,
    IntakeSummary,
    IntakeTriage,
    PublicReport,
    PublicReportFile,
    PublicStatus,
    Receipt,
)
from backend.kernel.access import Actor, Channel, Principal
from backend.kernel.errors import AppError, Invalid, NotFound
from backend.kernel.sealing import Sealer, derived_key
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.warnings.photos import PhotoStore, sniff_image

CHALLENGE_SECONDS = 600
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
RECEIPT_LENGTH = 16  # ~79 bits
LOOKUPS_PER_HOUR = 30
#: who the trail names for a report received (never the sender: they may be anonymous)
PUBLIC_SENDER = Actor.system(Channel.api, "public intake form")


@dataclass
class Draft:
    """A report as sent (the form's fields and files)."""

    challenge: str
    nonce: str
    category: str
    subject: str
    body: str
    about: str | None
    contact: str | None
    files: list[bytes]


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def receipt_text(code: str) -> str:
    """A code as typed: upper case, without spaces or dashes."""
    return "".join(c for c in code.upper() if c.isalnum())


def _busy(seconds: int, what: str) -> AppError:
    return AppError(
        f"Too many {what} from this address: try again later.",
        code="intake_rate_limited",
        status=429,
        extra={"retry_after": seconds},
    )


class IntakeService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self._mac_key = derived_key(settings, b"intake-mac")
        self._sealer = Sealer(derived_key(settings, b"intake-seal"))
        self.files = PhotoStore(settings.data_dir, "intake")

    def _mac(self, text: str) -> str:
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()

    # --- the public side ---------------------------------------------------------------------
    def challenge(self) -> Challenge:
        body = f"{int(time.time())}.{secrets.token_hex(8)}"
        return Challenge(
            challenge=f"{body}.{self._mac(body)[:32]}",
            bits=self.settings.intake_pow_bits,
            expires_in=CHALLENGE_SECONDS,
        )

    async def _spend(self, challenge: str, nonce: str) -> None:
        body, _, mac = challenge.rpartition(".")
        issued = body.split(".", 1)[0]
        if not (mac and issued.isdigit() and hmac.compare_digest(mac, self._mac(body)[:32])):
            raise Invalid("The form's check is not valid: reload the page.", code="intake_bad_challenge")
        if not 0 <= time.time() - int(issued) <= CHALLENGE_SECONDS:
            raise Invalid("The form's check has expired: send again.", code="intake_challenge_expired")
        work = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
        if len(nonce) > 32 or leading_zero_bits(work) < self.settings.intake_pow_bits:
            raise Invalid("The form's check is not complete: send again.", code="intake_bad_challenge")
        self.session.add(IntakeChallenge(digest=hashlib.sha256(challenge.encode()).hexdigest()))
        try:
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            raise Invalid("This form was already sent.", code="intake_challenge_spent") from None

    async def _count(self, key: str, since_seconds: int) -> int:
        since = utcnow() - timedelta(seconds=since_seconds)
        return (
            await self.session.execute(
                select(func.count()).where(col(IntakeRate.key) == key, col(IntakeRate.at) >= since)
            )
        ).scalar_one()

    async def _rate(self, kind: str, address: str, limits: list[tuple[int, int]], what: str) -> None:
        """Count one more ``kind`` for ``address`` or refuse (429) past one of the
        (count, seconds) limits; rows older than a day are forgotten."""
        await self.session.execute(
            delete(IntakeRate).where(col(IntakeRate.at) < utcnow() - timedelta(days=1))
        )
        key = f"{kind}:{self._mac('addr:' + address)[:64]}"
        for most, seconds in limits:
            if await self._count(key, seconds) >= most:
                await self.session.commit()
                raise _busy(seconds, what)
        self.session.add(IntakeRate(key=key))

    def _check(self, draft: Draft) -> tuple[IntakeCategory, list[tuple[bytes, str]]]:
        try:
            category = IntakeCategory(draft.category)
        except ValueError:
            raise Invalid(
                "Choose what the report is about.", code="invalid", extra={"field": "category"}
            ) from None
        for name, value, most in (("subject", draft.subject, 100), ("body", draft.body, 5000)):
            if not value.strip():
                raise Invalid(f"The {name} is empty.", code="required", extra={"field": name})
            if len(value) > most:
                raise Invalid(f"The {name} is too long.", code="too_long", extra={"field": name, "max": most})
        for name, optional in (("about", draft.about), ("contact", draft.contact)):
            if optional is not None and len(optional) > 200:
                raise Invalid(f"The {name} is too long.", code="too_long", extra={"field": name, "max": 200})
        if len(draft.files) > self.settings.intake_max_files:
            raise Invalid(
                f"At most {self.settings.intake_max_files} files.",
                code="intake_too_many_files",
                extra={"field": "files", "max": self.settings.intake_max_files},
            )
        checked = []
        for content in draft.files:
            if len(content) > self.settings.intake_file_max_bytes:
                raise AppError(
                    "A file is too large.",
                    code="intake_file_too_large",
                    status=413,
                    extra={"field": "files", "max_bytes": self.settings.intake_file_max_bytes},
                )
            mime = sniff_image(content) or ("application/pdf" if content[:5] == b"%PDF-" else None)
            if mime is None:
                raise AppError(
                    "Only photos (JPEG, PNG, WebP, HEIC, GIF) and PDF files are taken.",
                    code="intake_file_type",
                    status=415,
                    extra={"field": "files"},
                )
            checked.append((content, mime))
        return category, checked

    async def submit(self, draft: Draft, address: str) -> Receipt:
        category, files = self._check(draft)
        await self._spend(draft.challenge, draft.nonce)
        limits = [(self.settings.intake_per_hour, 3600), (self.settings.intake_per_day, 86400)]
        await self._rate("report", address, limits, "reports")
        code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
        contact = (draft.contact or "").strip() or None
        report = PublicReport(
            receipt_hash=self._mac("receipt:" + code),
            category=category.value,
            anonymous=contact is None,
            sealed="",
            files=len(files),
        )
        self.session.add(report)
        await self.session.flush()
        assert report.id is not None
        words = {
            "subject": draft.subject.strip(),
            "body": draft.body.strip(),
            "about": (draft.about or "").strip() or None,
            "contact": contact,
        }
        report.sealed = self._sealer.seal(words, f"public_report:{report.id}")
        for content, mime in files:
            digest = self.files.put(content)
            self.session.add(
                PublicReportFile(report_id=report.id, sha256=digest, content_type=mime, size=len(content))
            )
        await self.trail.record(
            self.session,
            PUBLIC_SENDER,
            action="intake.receive",
            object_type="public_report",
            object_id=report.id,
            new={"category": category.value, "files": len(files), "anonymous": report.anonymous},
        )
        await self.session.commit()
        return Receipt(receipt=code, state=IntakeState.received)

    async def status(self, receipt: str, address: str) -> PublicStatus:
        await self._rate("lookup", address, [(LOOKUPS_PER_HOUR, 3600)], "look-ups")
        await self.session.commit()
        found = (
            await self.session.execute(
                select(PublicReport).where(
                    col(PublicReport.receipt_hash) == self._mac("receipt:" + receipt_text(receipt))
                )
            )
        ).scalar_one_or_none()
        if found is None:
            raise NotFound("No report has this receipt code.", code="intake_not_found")
        return PublicStatus(
            state=IntakeState(found.state),
            received_on=found.received_at,
            updated_on=found.updated_at,
            note=found.public_note,
        )

    # --- inspectors and the committee --------------------------------------------------------
    async def _act(
        self, principal: Principal, action: str, report_id: int | None, power: str, **values: Any
    ) -> None:
        """A staff act on the public's reports, in the trail."""
        await self.trail.record(
            self.session,
            principal.actor,
            action=action,
            object_type="public_report",
            object_id=report_id,
            power=power,
            **values,
        )

    def _words(self, report: PublicReport) -> dict[str, Any]:
        return dict(self._sealer.open(report.sealed, f"public_report:{report.id}"))

    def _summary(self, report: PublicReport, words: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": report.id,
            "received_at": report.received_at,
            "updated_at": report.updated_at,
            "state": report.state,
            "category": report.category,
            "anonymous": report.anonymous,
            "subject": words["subject"],
            "files": report.files,
        }

    async def listed(
        self, principal: Principal, state: IntakeState | None, limit: int, offset: int
    ) -> list[IntakeSummary]:
        stmt = select(PublicReport)
        if state is not None:
            stmt = stmt.where(col(PublicReport.state) == state.value)
        rows = (
            await self.session.execute(
                stmt.order_by(col(PublicReport.received_at).desc(), col(PublicReport.id).desc())
                .limit(limit)
                .offset(offset)
            )
        ).scalars()
        out = [IntakeSummary.model_validate(self._summary(r, self._words(r))) for r in rows]
        await self._act(principal, "intake.list", None, "intake.read", new={"ids": [s.id for s in out]})
        await self.session.commit()
        return out

    async def _get(self, report_id: int) -> PublicReport:
        report = await self.session.get(PublicReport, report_id)
        if report is None:
            raise NotFound(f"no report {report_id}", code="intake_not_found")
        return report

    async def _detail(self, report: PublicReport) -> IntakeDetail:
        words = self._words(report)
        files = (
            await self.session.execute(
                select(PublicReportFile)
                .where(col(PublicReportFile.report_id) == report.id)
                .order_by(col(PublicReportFile.id))
            )
        ).scalars()
        return IntakeDetail.model_validate(
            {
                **self._summary(report, words),
                "body": words["body"],
                "about": words["about"],
                "contact": words["contact"],
                "public_note": report.public_note,
                "internal_note": report.internal_note,
                "handled_by": report.handled_by,
                "attachments": [
                    IntakeFilePublic(id=f.id or 0, content_type=f.content_type, size=f.size) for f in files
                ],
            }
        )

    async def detail(self, principal: Principal, report_id: int) -> IntakeDetail:
        report = await self._get(report_id)
        out = await self._detail(report)
        await self._act(principal, "intake.view", report_id, "intake.read")
        await self.session.commit()
        return out

    async def contents(self, report_id: int) -> tuple[IntakeDetail, list[PublicReportFile]]:
        """A report and its files' records, for a case file that names it (``backend/archive``: no
        trail record here, the file's export is in the trail); the files are in :attr:`files`."""
        report = await self._get(report_id)
        files = (
            await self.session.execute(
                select(PublicReportFile)
                .where(col(PublicReportFile.report_id) == report_id)
                .order_by(col(PublicReportFile.id))
            )
        ).scalars()
        return await self._detail(report), list(files)

    async def file(self, principal: Principal, report_id: int, file_id: int) -> tuple[bytes, str]:
        row = await self.session.get(PublicReportFile, file_id)
        if row is None or row.report_id != report_id:
            raise NotFound(f"no file {file_id} in report {report_id}", code="intake_not_found")
        await self._act(principal, "intake.file_view", report_id, "intake.read", new={"file_id": file_id})
        await self.session.commit()
        return self.files.get(row.sha256), row.content_type

    async def triage(self, principal: Principal, report_id: int, data: IntakeTriage) -> IntakeDetail:
        report = await self._get(report_id)
        old = {"state": report.state, "public_note": report.public_note}
        report.state = data.state.value
        if data.public_note is not None:
            report.public_note = data.public_note.strip() or None
        if data.internal_note is not None:
            report.internal_note = data.internal_note.strip() or None
        report.handled_by = principal.person_id
        report.updated_at = utcnow()
        await self._act(
            principal,
            "intake.triage",
            report_id,
            "intake.triage",
            old=old,
            new={"state": report.state, "public_note": report.public_note},
        )
        await self.session.commit()
        return await self._detail(report)

    async def refer(self, principal: Principal, report_id: int, clue_id: int) -> None:
        """The report became a problem clue (``backend/clues``): its state says so; no commit
        (the clue's transaction)."""
        report = await self._get(report_id)
        old = {"state": report.state}
        report.state = IntakeState.referred.value
        report.handled_by = principal.person_id
        report.updated_at = utcnow()
        await self._act(
            principal,
            "intake.refer",
            report_id,
            "intake.triage",
            old=old,
            new={"state": report.state, "clue_id": clue_id},
        )
