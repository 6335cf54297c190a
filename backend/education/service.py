"""Education hours: imported (all rows or none, each refused row with its reason), credited for a
lesson marked studied (once per person), read by the person and summed for the portrait."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.delivery.broadcasts import BroadcastService
from backend.delivery.models import Broadcast
from backend.education.models import EducationImport, EducationPublic, EducationRecord, MyEducation
from backend.kernel.access import Actor, Principal
from backend.kernel.errors import Invalid, NotFound
from backend.kernel.settings import Settings
from backend.kernel.tabular import RowError, read_rows, require_columns
from backend.kernel.timeutil import local, utcnow
from backend.org.models import Person

COLUMNS = ["employee_no", "studied_on", "hours", "title"]
#: hours one record may credit (a day's course at most twice over)
MAX_HOURS = 40.0


def _public(r: EducationRecord) -> EducationPublic:
    return EducationPublic.model_validate(r, from_attributes=True)


def year_start(today: date) -> date:
    """The first day of the twelve months that count (today included)."""
    return today - timedelta(days=365)


class EducationService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session, self.trail, self.settings = session, trail, settings

    async def import_file(self, actor: Actor, filename: str, content: bytes) -> EducationImport:
        """The training system's file: employee number, date, hours, course; all rows or none."""
        header, rows = read_rows(filename, content)
        require_columns(header, COLUMNS)
        found = await self.session.execute(select(col(Person.employee_no), col(Person.id)))
        people = {str(no): int(pid) for no, pid in found.all() if pid is not None}
        refused: list[RowError] = []
        made: list[EducationRecord] = []
        for number, row in rows:
            no = (row.get("employee_no") or "").strip()
            person_id = people.get(no)
            if person_id is None:
                refused.append(RowError(number, "employee_no", f"unknown employee number {no!r}"))
            try:
                studied = date.fromisoformat((row.get("studied_on") or "").strip().replace("/", "-"))
            except ValueError:
                refused.append(RowError(number, "studied_on", "not a date (YYYY-MM-DD)"))
                continue
            try:
                hours = float((row.get("hours") or "").strip())
            except ValueError:
                hours = -1.0
            if not 0 < hours <= MAX_HOURS:
                refused.append(RowError(number, "hours", f"hours between 0 and {MAX_HOURS:g}"))
            title = (row.get("title") or "").strip()[:200]
            if not title:
                refused.append(RowError(number, "title", "required value is empty"))
            if person_id is not None and 0 < hours <= MAX_HOURS and title:
                made.append(
                    EducationRecord(
                        person_id=person_id,
                        studied_on=studied,
                        hours=hours,
                        title=title,
                        source="import",
                        created_by=actor.person_id,
                    )
                )
        if refused:
            raise Invalid(
                f"{len(refused)} row(s) refused; nothing was imported",
                code="import_refused",
                extra={"errors": [e.as_dict() for e in refused[:200]]},
            )
        self.session.add_all(made)
        await self.trail.record(
            self.session,
            actor,
            action="education.import",
            object_type="education_record",
            object_id=None,
            new={"file": filename[:120], "rows": len(made), "hours": sum(r.hours for r in made)},
        )
        await self.session.commit()
        return EducationImport(taken=len(made), refused=[])

    async def studied(self, principal: Principal, broadcast_id: int) -> EducationPublic:
        """A lesson I received, marked studied: its hours credited to me once."""
        broadcasts = BroadcastService(self.session, self.trail)
        await broadcasts.get(principal, broadcast_id)  # mine (or an admin's to read), else 404
        if not await broadcasts.received(principal.person_id, broadcast_id):
            raise NotFound(f"broadcast {broadcast_id} was not sent to you", code="broadcast_not_found")
        lesson = await self.session.get(Broadcast, broadcast_id)
        if lesson is None or not lesson.lesson_hours:
            raise Invalid("this message is not a lesson with hours", code="not_a_lesson")
        kept = await self._lesson_record(principal.person_id, broadcast_id)
        if kept is not None:
            return _public(kept)
        record = EducationRecord(
            person_id=principal.person_id,
            studied_on=local(utcnow()).date(),
            hours=float(lesson.lesson_hours),
            title=lesson.title,
            source="lesson",
            broadcast_id=broadcast_id,
            created_by=principal.person_id,
        )
        self.session.add(record)
        try:
            await self.session.flush()
        except IntegrityError:  # the same lesson marked at the same moment elsewhere: that one counts
            await self.session.rollback()
            kept = await self._lesson_record(principal.person_id, broadcast_id)
            assert kept is not None
            return _public(kept)
        await self.trail.record(
            self.session,
            principal.actor,
            action="education.lesson",
            object_type="broadcast",
            object_id=broadcast_id,
            new={"hours": record.hours},
        )
        await self.session.commit()
        return _public(record)

    async def _lesson_record(self, person_id: int, broadcast_id: int) -> EducationRecord | None:
        stmt = select(EducationRecord).where(
            col(EducationRecord.person_id) == person_id, col(EducationRecord.broadcast_id) == broadcast_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def mine(self, principal: Principal) -> MyEducation:
        since = year_start(local(utcnow()).date())
        stmt = (
            select(EducationRecord)
            .where(col(EducationRecord.person_id) == principal.person_id)
            .order_by(col(EducationRecord.studied_on).desc(), col(EducationRecord.id).desc())
            .limit(200)
        )
        records = list((await self.session.execute(stmt)).scalars())
        return MyEducation(
            hours=round(sum(r.hours for r in records if r.studied_on >= since), 2),
            required_hours=self.settings.education_hours_required,
            records=[_public(r) for r in records],
        )


async def hours_since(session: AsyncSession, person_ids: Iterable[int], since: date) -> dict[int, float]:
    """{person id: hours studied since ``since``} of those of ``person_ids`` who studied any."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    stmt = (
        select(col(EducationRecord.person_id), func.sum(col(EducationRecord.hours)))
        .where(col(EducationRecord.person_id).in_(wanted), col(EducationRecord.studied_on) >= since)
        .group_by(col(EducationRecord.person_id))
    )
    return {int(p): float(h or 0) for p, h in (await session.execute(stmt)).all()}
