"""What the messenger feature does at other domains' moments (registered by ``compose``).

After a people import: the file's ``wecom_userid`` (and ``dingtalk_userid``) columns become the
people's messenger user ids; the import's report says who could not be matched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.kernel.access import Actor
from backend.kernel.hooks import Hook
from backend.kernel.settings import Settings
from backend.messenger.models import Provider
from backend.messenger.service import MessengerService
from backend.org.importer import PEOPLE_IMPORTED

#: the people import's column for each messenger's user id
COLUMNS = {Provider.wecom: "wecom_userid", Provider.dingtalk: "dingtalk_userid"}


async def take_user_ids(
    session: AsyncSession,
    trail: AuditTrail,
    settings: Settings,
    actor: Actor,
    rows: list[tuple[str, dict[str, str]]],
) -> dict[str, Any] | None:
    notes: dict[str, Any] = {}
    messenger = MessengerService(session, trail, settings)
    for provider, column in COLUMNS.items():
        pairs = [(no, (row.get(column) or "").strip()) for no, row in rows if (row.get(column) or "").strip()]
        if pairs:
            report = await messenger.set_user_ids(actor, provider, pairs)
            notes[provider.value] = report.model_dump(mode="json")
    return notes or None


HOOKS: list[Hook[Any]] = [Hook(PEOPLE_IMPORTED, take_user_ids)]
