"""A notification about a clue (its handover to the receiver) is named by the clue's number and
the person or unit it concerns (registered by ``compose``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.clues.models import Clue
from backend.clues.service import clue_number
from backend.events.subjects import DESCRIBE
from backend.kernel.hooks import Hook


async def describe_clues(
    session: AsyncSession, subject_type: str, ids: list[int], lang: str
) -> dict[int, dict[str, Any]]:
    if subject_type != "clue" or not ids:
        return {}
    rows = (await session.execute(select(Clue).where(col(Clue.id).in_(ids)))).scalars()
    return {
        int(c.id or 0): {
            "title": " · ".join(filter(None, (clue_number(c), c.subject_name or c.subject_unit)))
        }
        for c in rows
    }


HOOKS: list[Hook[Any]] = [Hook(DESCRIBE, describe_clues)]
