"""PTB persistence in the operational database: conversation states and half-finished replies.

Only ``user_data`` (a reply being written) and conversation states are kept; they are written
after every update (see :class:`bot.app.ProbityApplication`), so a restart — or a crash — in the
middle of a reply resumes it. The rows live in ``telegram_state``; the SQL is in
``backend.telegram.service.ChatStateStore``.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from backend.kernel.db import Database
from backend.telegram.service import ChatStateStore

Data = dict[str, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]
USER = "user"


def _conv(name: str) -> str:
    return f"conv:{name}"


class DatabasePersistence(BasePersistence[Data, Data, Data]):
    def __init__(self, db: Database) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=60,
        )
        self.db = db

    async def _load(self, scope: str) -> dict[str, Data]:
        async with self.db.session() as session:
            return await ChatStateStore(session).load(scope)

    async def _put(self, scope: str, key: str, data: Data | None) -> None:
        async with self.db.session() as session:
            store = ChatStateStore(session)
            if data:
                await store.put(scope, key, data)
            else:
                await store.drop(scope, key)

    # --- what is kept ---------------------------------------------------------------------
    async def get_user_data(self) -> dict[int, Data]:
        return {int(key): data for key, data in (await self._load(USER)).items()}

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._put(USER, str(user_id), data)

    async def drop_user_data(self, user_id: int) -> None:
        await self._put(USER, str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        out: ConversationDict = {}
        for key, data in (await self._load(_conv(name))).items():
            out[tuple(json.loads(key))] = data.get("state")
        return out

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        encoded = json.dumps(list(key))
        await self._put(_conv(name), encoded, None if new_state is None else {"state": new_state})

    # --- what is not (chat data, bot data, callback data) -----------------------------------
    async def get_chat_data(self) -> dict[int, Data]:
        return {}

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        return None

    async def get_bot_data(self) -> Data:
        return {}

    async def update_bot_data(self, data: Data) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Data) -> None:
        return None

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def flush(self) -> None:
        return None
