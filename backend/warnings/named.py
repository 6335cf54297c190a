"""Warnings named for the notification list (``events.subjects.DESCRIBE``): the topic's name in
the reader's language, the object, whose warning it is, and the level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.warnings.evidence import pick_lang
from backend.warnings.inbox import PERSON, W, named_from, shown_columns

#: per language, built once: the warnings of one notification page by id (an expanding list)
_NAMED: dict[str, Any] = {}


def _named(lang: str) -> Any:
    stmt = _NAMED.get(lang)
    if stmt is None:
        stmt = _NAMED[lang] = (
            select(
                W.id,
                W.object_key,
                W.level,
                W.state,
                shown_columns(lang)[0],
                PERSON.c.name.label("person_name"),
            )
            .select_from(named_from())
            .where(W.id.in_(bindparam("ids", expanding=True)))
        )
    return stmt


async def describe_warnings(
    session: AsyncSession, subject_type: str, ids: list[int], lang: str
) -> dict[int, dict[str, Any]]:
    if subject_type != "warning" or not ids:
        return {}
    rows = await session.execute(_named(pick_lang(lang)), {"ids": ids})
    return {
        int(r.id): {
            "topic_name": r.topic_name,
            "object_key": r.object_key,
            "person_name": r.person_name,
            "state": str(r.state),
        }
        for r in rows.all()
    }
