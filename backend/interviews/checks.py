"""High-risk check sheets (XXX 主题高风险问题核查单, 11.1.3, B.17): for a true red warning the
business department fills the sheet with its head's opinion; the unit's leader adds theirs; it is
filed with the warning and printable."""

from __future__ import annotations

import asyncio

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.interviews.models import HighRiskCheck
from backend.interviews.pdf import CheckSheet, check_sheet_pdf
from backend.interviews.schemas import CheckSheetCreate, CheckSheetPublic, UnitOpinion
from backend.kernel.access import Principal
from backend.kernel.errors import Conflict, Forbidden, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.org.service import OrgService
from backend.warnings.linked import TRUE_STATES
from backend.warnings.models import Finding, Level
from backend.warnings.service import WarningService, record_read, record_step


def sheet_public(row: HighRiskCheck) -> CheckSheetPublic:
    return CheckSheetPublic(**row.model_dump(), pdf_url=f"/api/check-sheets/{row.id}/pdf")


class CheckSheetService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.warnings = WarningService(session, trail, settings)

    @staticmethod
    def visible(principal: Principal) -> ColumnElement[bool]:
        return principal.case_filter(
            person_col=col(HighRiskCheck.person_id), unit_col=col(HighRiskCheck.unit_id)
        )

    async def get(self, principal: Principal, sheet_id: int) -> HighRiskCheck:
        row = (
            await self.session.execute(
                select(HighRiskCheck).where(col(HighRiskCheck.id) == sheet_id, self.visible(principal))
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"check sheet {sheet_id} does not exist or is not in your scope", code="check_sheet_not_found"
            )
        return row

    async def sheets(
        self, principal: Principal, warning_id: int | None, limit: int, offset: int
    ) -> list[HighRiskCheck]:
        stmt = select(HighRiskCheck).where(self.visible(principal))
        if warning_id is not None:
            stmt = stmt.where(col(HighRiskCheck.warning_id) == warning_id)
        stmt = stmt.order_by(col(HighRiskCheck.id).desc()).limit(limit).offset(offset)
        return list((await self.session.execute(stmt)).scalars())

    async def create(self, principal: Principal, warning_id: int, data: CheckSheetCreate) -> HighRiskCheck:
        warning = await self.warnings.get_visible(principal, warning_id)
        if not self.warnings.may_decide(principal, warning):
            raise Forbidden(
                "the head of the person's department (or an inspector over it) fills the check sheet",
                code="not_unit_head",
            )
        if (
            warning.level != Level.high.value
            or warning.finding != Finding.true.value
            or warning.state not in TRUE_STATES
        ):
            raise Conflict(
                "a high-risk check sheet is for a red warning whose verification found it true",
                code="not_true_red",
                extra={"level": warning.level, "finding": warning.finding, "state": warning.state},
            )
        row = HighRiskCheck(
            warning_id=warning_id,
            person_id=warning.person_id,
            unit_id=warning.unit_id,
            topic_code=warning.topic_code,
            risk_description=data.risk_description,
            check_result=data.check_result,
            possible_risk=data.possible_risk,
            control_requirements=data.control_requirements,
            head_opinion=data.head_opinion,
            head_person_id=principal.person_id,
        )
        try:
            self.session.add(row)
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            raise Conflict("this warning already has a check sheet", code="check_sheet_exists") from None
        await record_step(
            self.session,
            self.trail,
            warning_id,
            principal.actor,
            kind="check_sheet",
            data={"check_sheet_id": row.id},
        )
        await self.trail.record(
            self.session,
            principal.actor,
            action="check_sheet.create",
            object_type="high_risk_check",
            object_id=row.id,
            new={"warning_id": warning_id},
            power="warning.confirm",
        )
        await self.session.commit()
        return row

    async def add_unit_opinion(self, principal: Principal, sheet_id: int, data: UnitOpinion) -> HighRiskCheck:
        row = await self.get(principal, sheet_id)
        if principal.person_id in {row.person_id, row.head_person_id} or not self.warnings.may_decide(
            principal, await self.warnings.get_visible(principal, row.warning_id)
        ):
            raise Forbidden(
                "the unit's leader (a head or inspector over it, not who filled the sheet) adds this opinion",
                code="not_unit_leader",
            )
        result = await self.session.execute(
            update(HighRiskCheck)
            .where(col(HighRiskCheck.id) == sheet_id, col(HighRiskCheck.unit_opinion).is_(None))
            .values(unit_opinion=data.opinion, unit_person_id=principal.person_id, unit_opinion_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("the unit's opinion is already on the sheet", code="opinion_given")
        await self.trail.record(
            self.session,
            principal.actor,
            action="check_sheet.unit_opinion",
            object_type="high_risk_check",
            object_id=sheet_id,
            old={"unit_opinion": None},
            new={"unit_opinion": data.opinion},
            power="warning.confirm",
        )
        await self.session.commit()
        await self.session.refresh(row)
        return row

    async def pdf(self, principal: Principal, sheet_id: int) -> tuple[HighRiskCheck, bytes]:
        row = await self.get(principal, sheet_id)
        warning = await self.warnings.get_visible(principal, row.warning_id)
        org = OrgService(self.session, self.trail)
        facts = await org.person_facts(row.person_id)
        units = {u.id: u.name for u in await org.list_units()}
        sheet = CheckSheet(
            number=f"HC-{row.id:06d}",
            topic=row.topic_code,
            made_at=row.head_opinion_at,
            risk_at=warning.raised_at,
            unit=units.get(row.unit_id, ""),
            person=facts.name if facts else "",
            risk_description=row.risk_description,
            check_result=row.check_result,
            possible_risk=row.possible_risk,
            control_requirements=row.control_requirements,
            head_opinion=row.head_opinion,
            head_opinion_at=row.head_opinion_at,
            unit_opinion=row.unit_opinion,
            unit_opinion_at=row.unit_opinion_at,
        )
        content = await asyncio.to_thread(check_sheet_pdf, sheet)
        await record_read(
            self.session, self.trail, principal.actor, "check_sheet.print", "high_risk_check", sheet_id
        )
        return row, content
