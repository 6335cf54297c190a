"""B.6 风险线索核查表 (inspector → inspection leader → the department's receiver) and B.9 应用权限
申请表 (a department asks an account for one of its people; an admin's signature creates it)."""

from __future__ import annotations

import secrets

from backend.approvals.models import Approval
from backend.approvals.service import StepSpec
from backend.auth.models import AccountCreate
from backend.auth.service import AuthService
from backend.forms.labels import day_zh
from backend.forms.schemas import AccountFormCreate, ClueFormCreate
from backend.forms.service import FormBase
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden, Invalid
from backend.kernel.timeutil import utcnow

CLUE_STEPS = [
    StepSpec(Role.inspector, "inspector_sign"),
    StepSpec(Role.committee, "inspection_leader_sign"),
    StepSpec(Role.head, "receiver_sign"),
]
ACCOUNT_STEPS = [
    StepSpec(Role.head, "head_sign"),
    StepSpec(Role.inspector, "discipline_account_opinion"),
    StepSpec(Role.admin, "admin_grant"),
]


class MiscForms(FormBase):
    async def file_clue(self, principal: Principal, data: ClueFormCreate) -> Approval:
        if not principal.has(Role.inspector) or data.unit_id not in principal.subtree_unit_ids:
            raise Forbidden("an inspector over the department sends the clue sheet", code="not_inspector")
        unit = await self.unit_name(data.unit_id)
        items = [{**i.model_dump(), "unit": unit} for i in data.items]
        row = await self.approvals.open(
            kind="b6",
            subject_type="unit",
            subject_id=data.unit_id,
            unit_id=data.unit_id,
            fields={"made_on": day_zh(utcnow()), "unit": unit, "items": items},
            steps=CLUE_STEPS,
            actor=principal.actor,
            prefix="XS",
        )
        await self.session.commit()
        return row

    async def file_account(self, principal: Principal, data: AccountFormCreate) -> Approval:
        if not principal.has(Role.head):
            raise Forbidden("a department's head files an account request", code="not_unit_head")
        person = await self.org.person_by_no(data.employee_no)
        if person is None or person.id is None or person.unit_id not in principal.subtree_unit_ids:
            raise Invalid(
                f"nobody of your department has employee number {data.employee_no!r}",
                code="unknown_person",
                extra={"field": "employee_no"},
            )
        fields = {
            "made_on": day_zh(utcnow()),
            "requester": person.name,
            "unit": await self.unit_name(person.unit_id),
            "employee_no": data.employee_no,
            "username": data.username,
            "system": data.system,
            "permission": data.permission,
            "reason": data.reason,
        }
        row = await self.approvals.open(
            kind="b9",
            subject_type="person",
            subject_id=person.id,
            unit_id=person.unit_id,
            fields=fields,
            steps=ACCOUNT_STEPS,
            actor=principal.actor,
            prefix="QX",
        )
        await self.session.commit()
        return row

    async def create_account(self, row: Approval, principal: Principal) -> None:
        """The admin's signature: the account, with a random first password nobody sees (the admin
        sets one to hand over, or the person signs in through the company messenger)."""
        auth = AuthService(self.session, self.settings, self.trail, self.hasher)
        data = AccountCreate(
            employee_no=row.fields["employee_no"],
            username=row.fields["username"],
            password=secrets.token_urlsafe(24),
        )
        await auth.create_account(data, principal.actor, must_change=True, commit=False, check_strength=False)
