"""A notification about a supervision opinion (sent to a department) is named by its number and
the problem found (registered by ``compose``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.events.subjects import DESCRIBE
from backend.kernel.hooks import Hook
from backend.opinions.models import Opinion
from backend.opinions.service import opinion_number


async def describe_opinions(
    session: AsyncSession, subject_type: str, ids: list[int], lang: str
) -> dict[int, dict[str, Any]]:
    if subject_type != "opinion" or not ids:
        return {}
    rows = (await session.execute(select(Opinion).where(col(Opinion.id).in_(ids)))).scalars()
    return {int(o.id or 0): {"title": f"{opinion_number(o)} · {o.problem[:60]}"} for o in rows}


HOOKS: list[Hook[Any]] = [Hook(DESCRIBE, describe_opinions)]
