"""Reaching people about a campaign. One small seam, so the delivery layer can replace it.

Until the delivery layer lands, :class:`InAppNotifier` writes :class:`CheckupNotice` rows that
the phone lists (``GET /api/checkups/notices``). A notice never carries answers or scores.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend.checkups.models import CheckupNotice


@dataclass(frozen=True)
class Message:
    kind: str  # invitation | reminder | reopened
    campaign_id: int | None
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


class Notifier(Protocol):
    async def send(self, session: AsyncSession, person_ids: Iterable[int], message: Message) -> int:
        """Queue ``message`` for each person in the caller's transaction; return how many."""
        ...


class InAppNotifier:
    async def send(self, session: AsyncSession, person_ids: Iterable[int], message: Message) -> int:
        count = 0
        for person_id in sorted(set(person_ids)):
            session.add(
                CheckupNotice(
                    person_id=person_id,
                    campaign_id=message.campaign_id,
                    kind=message.kind,
                    title_zh=message.title_zh,
                    title_en=message.title_en,
                    body_zh=message.body_zh,
                    body_en=message.body_en,
                )
            )
            count += 1
        await session.flush()
        return count


def default_notifier() -> Notifier:
    """The one place to swap in the delivery layer."""
    return InAppNotifier()
