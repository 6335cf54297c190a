"""Retention of sign-in sessions: a session that ended (expired or signed out) is deleted
``PROBITY_SESSION_RETENTION_DAYS`` after it ended; so is the second step of a sign-in (a TOTP
challenge, five minutes long) after it expired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.auth.models import AuthSession, TotpChallenge


async def purge_sessions(session: AsyncSession, ended_before: datetime) -> int:
    """Delete the sessions and sign-in challenges that ended before ``ended_before`` (commit stays
    with the caller). Returns how many."""
    result = await session.execute(
        delete(AuthSession).where(
            or_(
                col(AuthSession.expires_at) < ended_before,
                and_(col(AuthSession.revoked_at).is_not(None), col(AuthSession.revoked_at) < ended_before),
            )
        )
    )
    steps = await session.execute(delete(TotpChallenge).where(col(TotpChallenge.expires_at) < ended_before))
    return int(result.rowcount or 0) + int(steps.rowcount or 0)  # type: ignore[attr-defined]
