"""The B.1 risk list: kept by topic experts and admins, read by supervisors, exported as XLSX.

Every change bumps the version and keeps the one before (``risk_point_version``) with the trail
record; the export is in the trail and limited like the reports' (``backend/reports/exports.py``).
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import column, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.kernel.access import Principal
from backend.kernel.errors import Conflict, NotFound
from backend.kernel.timeutil import utcnow
from backend.registers.models import (
    RiskPoint,
    RiskPointCreate,
    RiskPointFields,
    RiskPointPublic,
    RiskPointUpdate,
    RiskPointVersion,
    RiskPointVersionPublic,
)
from backend.reports.exports import export_allowed
from backend.reports.labels import SPECIALTY_ZH
from backend.reports.xlsx import clean

TOPIC = table("topic", column("code"), column("name"))
FIELDS = list(RiskPointFields.model_fields)
#: the columns of form B.1, in its order, and the field each one shows
B1_COLUMNS = [
    ("专业", "specialty"),
    ("业务事项", "business_item"),
    ("流程环节", "process_step"),
    ("涉及岗位", "posts"),
    ("风险点", "risk_point"),
    ("行为表现", "manifestation"),
    ("防控措施", "control_measures"),
    ("监督方式", "watch"),
    ("责任部门", "owner"),
    ("版本", "version"),
]


class RegisterService:
    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        self.session = session
        self.trail = trail

    async def _public(self, rows: list[RiskPoint]) -> list[RiskPointPublic]:
        codes = sorted({r.topic_code for r in rows if r.topic_code})
        names: dict[str, str] = {}
        if codes:
            found = await self.session.execute(
                select(TOPIC.c.code, TOPIC.c.name).where(TOPIC.c.code.in_(codes))
            )
            names = {str(c): str(n) for c, n in found.all()}
        return [
            RiskPointPublic.model_validate(r, update={"topic_name": names.get(r.topic_code or "")})
            for r in rows
        ]

    async def risks(self, specialty: str | None = None) -> list[RiskPointPublic]:
        stmt = select(RiskPoint).order_by(col(RiskPoint.specialty), col(RiskPoint.code))
        if specialty:
            stmt = stmt.where(col(RiskPoint.specialty) == specialty)
        return await self._public(list((await self.session.execute(stmt)).scalars()))

    async def _get(self, risk_id: int) -> RiskPoint:
        row = await self.session.get(RiskPoint, risk_id, with_for_update=True)
        if row is None:
            raise NotFound(f"risk point {risk_id} does not exist", code="risk_point_not_found")
        return row

    async def create(self, principal: Principal, data: RiskPointCreate) -> RiskPointPublic:
        exists = await self.session.execute(select(col(RiskPoint.id)).where(col(RiskPoint.code) == data.code))
        if exists.first() is not None:
            raise Conflict(f"risk point {data.code} exists", code="risk_point_exists")
        row = RiskPoint.model_validate(data, update={"updated_by": principal.person_id})
        self.session.add(row)
        await self.session.flush()
        await self.trail.record(
            self.session,
            principal.actor,
            action="register.risk.create",
            object_type="risk_point",
            object_id=row.id,
            new=data.model_dump(),
            power="config.registers",
        )
        await self.session.commit()
        return (await self._public([row]))[0]

    async def update(self, principal: Principal, risk_id: int, data: RiskPointUpdate) -> RiskPointPublic:
        row = await self._get(risk_id)
        changes = data.model_dump(exclude_unset=True)
        before = {f: getattr(row, f) for f in FIELDS}
        changed = {k: v for k, v in changes.items() if before.get(k) != v}
        if changed:
            assert row.id is not None
            self.session.add(
                RiskPointVersion(
                    risk_point_id=row.id, version=row.version, data=before, changed_by=principal.person_id
                )
            )
            for key, value in changed.items():
                setattr(row, key, value)
            row.version += 1
            row.updated_at, row.updated_by = utcnow(), principal.person_id
            await self.trail.record(
                self.session,
                principal.actor,
                action="register.risk.update",
                object_type="risk_point",
                object_id=risk_id,
                old={k: before[k] for k in changed},
                new=changed,
                power="config.registers",
            )
        await self.session.commit()
        return (await self._public([row]))[0]

    async def versions(self, risk_id: int) -> list[RiskPointVersionPublic]:
        await self._get(risk_id)
        stmt = (
            select(RiskPointVersion)
            .where(col(RiskPointVersion.risk_point_id) == risk_id)
            .order_by(col(RiskPointVersion.version).desc())
        )
        return [
            RiskPointVersionPublic(version=v.version, data=v.data, valid_until=v.valid_until)
            for v in (await self.session.execute(stmt)).scalars()
        ]

    async def export(self, principal: Principal, specialty: str | None) -> bytes:
        rows = await self.risks(specialty)
        await export_allowed(self.session, self.trail, principal, "register.b1", None, "xlsx", "risk_point")
        await self.session.commit()
        return b1_workbook(rows)


def b1_workbook(rows: list[RiskPointPublic]) -> bytes:
    """Form B.1 (专业廉洁风险清单) as a workbook."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "专业廉洁风险清单"
    sheet.append(["序号", *(name for name, _ in B1_COLUMNS)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for n, r in enumerate(rows, start=1):
        watch = f"线上：{r.topic_name or r.topic_code}" if r.topic_code else f"线下：{r.offline_check or '—'}"
        values = {**r.model_dump(), "specialty": SPECIALTY_ZH.get(r.specialty, r.specialty), "watch": watch}
        sheet.append(clean([n, *(values[key] for _, key in B1_COLUMNS)]))
    buf = BytesIO()
    book.save(buf)
    return buf.getvalue()
