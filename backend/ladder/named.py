"""Ladder cases named for the notification list (``events.subjects.DESCRIBE``): the case's subject,
its tier and state, and when the answer or correction is due."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.kernel.timeutil import as_utc
from backend.ladder.models import LadderCase


async def describe_cases(
    session: AsyncSession, subject_type: str, ids: list[int], lang: str
) -> dict[int, dict[str, Any]]:
    if subject_type != "ladder_case" or not ids:
        return {}
    rows = (await session.execute(select(LadderCase).where(col(LadderCase.id).in_(ids)))).scalars()
    return {
        int(c.id or 0): {
            "title": c.subject,
            "tier": c.tier,
            "state": c.state,
            "due_at": as_utc(c.due_at).isoformat(),
        }
        for c in rows
    }
