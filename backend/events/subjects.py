"""What a notification is about, in words (issue 16): "新预警 · date · date" told nothing.

The events feature knows subjects only by type and id; the feature that owns a subject names it
through the :data:`DESCRIBE` hook point (``backend/<feature>/hooks.py``): a warning by its topic's
name and its object, a ladder case by its subject. Only the recipient's own notifications are
described, so a description is of something the person was told about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.hooks import REGISTRY, HookPoint

#: ``describe(session, subject_type, ids, lang)`` → {id: {field: text}} for the types it owns
Describe = Callable[[AsyncSession, str, list[int], str], Awaitable[dict[int, dict[str, Any]]]]
DESCRIBE: HookPoint[Describe] = HookPoint("events.describe")


async def describe(session: AsyncSession, items: Sequence[dict[str, Any]], lang: str) -> None:
    """Fill each item's ``subject`` (notifications as ``NotificationService.page`` gives them) from
    the hooks (left None where no feature names it)."""
    by_type: dict[str, set[int]] = {}
    for item in items:
        by_type.setdefault(item["subject_type"], set()).add(item["subject_id"])
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for subject_type, ids in by_type.items():
        for hook in REGISTRY(DESCRIBE):
            named = await hook(session, subject_type, sorted(ids), lang)
            found.update({(subject_type, i): d for i, d in named.items()})
    for item in items:
        item["subject"] = found.get((item["subject_type"], item["subject_id"]))
