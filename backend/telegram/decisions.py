"""After a verification is submitted, the heads who confirm or return it are told.

The lifecycle writes no event for a submitted reply; the bot needs one, because a head's
Confirm / Return buttons come with it (``backend.delivery.payloads`` renders them for the
``warning.submitted`` kind). Hooked on the lifecycle's :data:`backend.warnings.service.VERIFIED`
(``backend/telegram/hooks.py``), in the reply's transaction, so the event is written once whichever
channel (PWA, API, bot) the reply came through.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.events.service import emit
from backend.kernel.access import Actor
from backend.org.service import OrgService
from backend.warnings.models import Warning
from backend.warnings.routing import Routing

SUBMITTED = "warning.submitted"


async def tell_deciders(session: AsyncSession, trail: AuditTrail, warning: Warning, actor: Actor) -> None:
    heads = [
        p
        for p in await Routing(OrgService(session, trail)).heads(warning.unit_id)
        if p not in {warning.person_id, actor.person_id}
    ]
    if not heads:
        return
    await emit(
        session,
        SUBMITTED,
        subject_type="warning",
        subject_id=warning.id or 0,
        recipients={p: "head" for p in heads},
        level=str(warning.level),
        data={"warning_id": warning.id, "due_at": warning.due_at.isoformat() if warning.due_at else None},
    )
