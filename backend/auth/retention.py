"""Retention of sign-in sessions: a session that ended (expired or signed out) is deleted
``PROBITY_SESSION_RETENTION_DAYS`` after it ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.auth.models import AuthSession


async def purge_sessions(session: AsyncSession, ended_before: datetime) -> int:
    """Delete the sessions that ended before ``ended_before`` (commit stays with the caller).
    Returns how many."""
    result = await session.execute(
        delete(AuthSession).where(
            or_(
                col(AuthSession.expires_at) < ended_before,
                and_(col(AuthSession.revoked_at).is_not(None), col(AuthSession.revoked_at) < ended_before),
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
