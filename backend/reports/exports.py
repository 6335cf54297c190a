"""Exports (reports, registers) in the trail and limited per account.

Each export is a trail record (``report.export``); an account may make ``EXPORTS_PER_MINUTE`` a
minute, counted from the trail after the export's own record: that record's chain update orders
concurrent exports, so two cannot both see room for one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.audit.service import AuditTrail
from backend.kernel.access import Principal
from backend.kernel.errors import AppError
from backend.kernel.timeutil import utcnow

#: exports (reports made, files downloaded) an account may make in a minute
EXPORTS_PER_MINUTE = 10


async def export_allowed(
    session: AsyncSession,
    trail: AuditTrail,
    principal: Principal,
    what: str,
    object_id: int | None,
    fmt: str,
    object_type: str = "report",
) -> None:
    """The export in the trail (no commit), or 429 (rolled back) past the account's share."""
    await trail.record(
        session,
        principal.actor,
        action="report.export",
        object_type=object_type,
        object_id=object_id,
        new={"what": what, "format": fmt},
        power="case.export",
    )
    since = utcnow() - timedelta(minutes=1)
    n = (
        await session.execute(
            select(func.count()).where(
                col(AuditRecord.action) == "report.export",
                col(AuditRecord.actor_account_id) == principal.account_id,
                col(AuditRecord.at) >= since,
            )
        )
    ).scalar_one()
    if principal.account_id and n > EXPORTS_PER_MINUTE:
        await session.rollback()
        raise AppError(
            f"at most {EXPORTS_PER_MINUTE} exports a minute: wait and try again",
            code="too_many_exports",
            status=429,
            headers={"Retry-After": "60"},
            extra={"retry_after": 60},
        )
