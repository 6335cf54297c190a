"""Forms: filed from a case, signed through the approval engine, printed; what a completed form
asks for is applied in the signature's transaction (``backend/forms/effects.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.approvals.models import Approval, ApprovalState, StepAct
from backend.approvals.service import ApprovalService
from backend.audit.service import AuditTrail
from backend.forms.labels import TITLE
from backend.forms.layout import form_pdf
from backend.forms.schemas import FormPublic
from backend.forms.sheets import SHEETS
from backend.forms.workbooks import WORKBOOKS, form_xlsx
from backend.kernel.access import Principal
from backend.kernel.errors import Conflict, NotFound
from backend.kernel.settings import Settings
from backend.org.service import OrgService


class FormBase:
    def __init__(
        self, session: AsyncSession, trail: AuditTrail, settings: Settings, hasher: Any = None
    ) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.hasher = hasher
        self.approvals = ApprovalService(session, trail)
        self.org = OrgService(session, trail)

    async def public(self, principal: Principal, row: Approval) -> FormPublic:
        return FormPublic.model_validate((await self.approvals.public(principal, row)).model_dump())

    async def unit_name(self, unit_id: int) -> str:
        names = {u.id: u.name for u in await self.org.list_units()}
        return names.get(unit_id, "—")

    async def person_name(self, person_id: int | None) -> str:
        if person_id is None:
            return "—"
        facts = await self.org.person_facts(person_id)
        return facts.name if facts else "—"

    async def no_open_twin(self, kind: str, subject_type: str, subject_id: int) -> None:
        """One form of a kind per subject at a time (a returned one may be filed again)."""
        for row in await self.approvals.of_subject(kind, subject_type, subject_id):
            if row.state != ApprovalState.returned.value:
                raise Conflict(
                    f"{TITLE[kind]} {row.number} is already filed for it",
                    code="form_exists",
                    extra={"id": row.id},
                )

    async def _form_exported(self, principal: Principal, row: Approval, fmt: str) -> None:
        await self.trail.record(
            self.session,
            principal.actor,
            action="form.export",
            object_type="approval",
            object_id=row.id,
            new={"kind": row.kind, "number": row.number, "format": fmt},
            power="form.read",
        )
        await self.session.commit()

    async def pdf(self, principal: Principal, approval_id: int) -> tuple[Approval, bytes]:
        row = await self.approvals.get(principal, approval_id)
        header, rows, footer = SHEETS[row.kind](row, await self.approvals.steps(approval_id))
        content = form_pdf(TITLE[row.kind], header, rows, footer)
        await self._form_exported(principal, row, "pdf")
        return row, content

    async def xlsx(self, principal: Principal, approval_id: int) -> tuple[Approval, bytes]:
        """A tabular form (B.6) as a workbook laid out as its PDF; 404 for the others."""
        row = await self.approvals.get(principal, approval_id)
        if row.kind not in WORKBOOKS:
            raise NotFound(f"{TITLE[row.kind]} is not a table: it has a PDF only", code="no_workbook")
        content = form_xlsx(row, await self.approvals.steps(approval_id))
        await self._form_exported(principal, row, "xlsx")
        return row, content

    async def apply(self, row: Approval, principal: Principal) -> None:
        """What a completed (or returned) form applies: none here (``FormService``)."""

    async def sign(self, principal: Principal, approval_id: int, position: int, data: StepAct) -> Approval:
        row = await self.approvals.act(principal, approval_id, position, data)
        if row.state != ApprovalState.open.value:
            await self.apply(row, principal)
        await self.session.commit()
        await self.session.refresh(row)
        return row
