"""A notification about a problem (re-check due, rectification overdue) is named by its number and
title (registered by ``compose``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.events.subjects import DESCRIBE
from backend.kernel.hooks import Hook
from backend.problems.models import Problem
from backend.problems.service import problem_number


async def describe_problems(
    session: AsyncSession, subject_type: str, ids: list[int], lang: str
) -> dict[int, dict[str, Any]]:
    if subject_type != "problem" or not ids:
        return {}
    rows = (await session.execute(select(Problem).where(col(Problem.id).in_(ids)))).scalars()
    return {int(p.id or 0): {"title": f"{problem_number(p)} · {p.title}"} for p in rows}


HOOKS: list[Hook[Any]] = [Hook(DESCRIBE, describe_problems)]
