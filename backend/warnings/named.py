"""Warnings named for the notification list (``events.subjects.DESCRIBE``): the topic's name in
the reader's language, the object, whose warning it is, and the level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.warnings.inbox import PERSON, W, named_from, shown_columns


async def describe_warnings(
    session: AsyncSession, subject_type: str, ids: list[int], lang: str
) -> dict[int, dict[str, Any]]:
    if subject_type != "warning" or not ids:
        return {}
    rows = await session.execute(
        select(
            W.id, W.object_key, W.level, W.state, shown_columns(lang)[0], PERSON.c.name.label("person_name")
        )
        .select_from(named_from())
        .where(W.id.in_(ids))
    )
    return {
        int(r.id): {
            "topic_name": r.topic_name,
            "object_key": r.object_key,
            "person_name": r.person_name,
            "state": str(r.state),
        }
        for r in rows.all()
    }
