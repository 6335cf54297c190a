"""Every form in one service: filing (per family), signing, printing, and what a completed form
applies."""

from __future__ import annotations

from backend.approvals.models import Approval, ApprovalState
from backend.forms.ladder_docs import LadderDocs
from backend.forms.letters import LetterForms
from backend.forms.library import TopicLibrary
from backend.forms.misc_forms import MiscForms
from backend.forms.topic_forms import TopicForms
from backend.kernel.access import Principal

TOPIC_FORMS = {"b7", "b8", "b11"}


class FormService(LetterForms, TopicForms, MiscForms, LadderDocs, TopicLibrary):
    async def apply(self, row: Approval, principal: Principal) -> None:
        """A B.7/B.8/B.11 decides its topic request (approved or returned); an approved B.9 creates
        the account; an approved B.14 closes its letter. In the last signature's transaction."""
        approved = row.state == ApprovalState.approved.value
        if row.kind in TOPIC_FORMS:
            await self.decide_request(row, principal, approved=approved)
        elif row.kind == "b9" and approved:
            await self.create_account(row, principal)
        elif row.kind == "b14" and approved:
            await self.linked().close(row.subject_id, principal.actor)
