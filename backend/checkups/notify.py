"""Reaching people about a campaign, behind one small seam (:func:`default_notifier`).

:class:`InAppNotifier` writes :class:`CheckupNotice` rows that the phone lists
(``GET /api/checkups/notices``, bilingual titles and bodies). :class:`DeliveryNotifier` also emits an
event (``checkup.invitation``, ``checkup.reminder``, ``checkup.reopened``) for the delivery layer,
which routes it to the person's channels. Neither ever carries answers, notes, scores or grades:
the event holds the campaign id and the deadline only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend.checkups.models import CheckupNotice
from backend.events.service import emit


@dataclass(frozen=True)
class Message:
    kind: str  # invitation | reminder | reopened
    campaign_id: int | None
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    due_at: datetime | None = None


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


class DeliveryNotifier(InAppNotifier):
    """The in-app notice, plus an event the delivery workers route to the person's channels."""

    async def send(self, session: AsyncSession, person_ids: Iterable[int], message: Message) -> int:
        people = sorted(set(person_ids))
        count = await super().send(session, people, message)
        if people and message.campaign_id is not None:
            data: dict[str, object] = {"campaign_id": message.campaign_id}
            if message.due_at is not None:
                data["due_at"] = message.due_at.isoformat()
            await emit(
                session,
                f"checkup.{message.kind}",
                subject_type="checkup_campaign",
                subject_id=message.campaign_id,
                recipients=dict.fromkeys(people, "subject"),
                data=data,
            )
        return count


def default_notifier() -> Notifier:
    """The one place that chooses how people are reached."""
    return DeliveryNotifier()
