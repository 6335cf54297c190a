"""A local Telegram Bot API on 127.0.0.1 for PTB's ``base_url`` / ``base_file_url``, and a phone
that writes updates as Telegram would send them.

Methods: getMe, sendMessage, answerCallbackQuery, editMessageText, editMessageReplyMarkup,
getFile (+ the file download), setWebhook, deleteWebhook, getUpdates (long polling). Every call
is recorded; ``flood[method] = n`` answers the next ``n`` calls of ``method`` with a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.delivery.fakes import _Server

BOT_ID = 7
USERNAME = "probity_bot"


@dataclass
class Call:
    method: str
    data: dict[str, Any]


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


class FakeBotApi(_Server):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.flood: dict[str, int] = defaultdict(int)
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.webhook: dict[str, Any] | None = None
        self._message_ids = itertools.count(1000)
        self.app.router.add_post("/bot{token}/{method}", self.handle)
        self.app.router.add_get("/file/bot{token}/{path:.*}", self.download)

    @property
    def base_url(self) -> str:
        return f"{self.base}/bot"

    # --- what the bot did ---------------------------------------------------------------
    def of(self, method: str, chat: int | None = None) -> list[dict[str, Any]]:
        return [
            c.data
            for c in self.calls
            if c.method == method and (chat is None or int(c.data.get("chat_id", 0)) == chat)
        ]

    def texts(self, chat: int) -> list[str]:
        return [str(m["text"]) for m in self.of("sendMessage", chat)]

    def last(self, chat: int) -> dict[str, Any]:
        return self.of("sendMessage", chat)[-1]

    def answers(self) -> list[str]:
        return [str(a.get("text") or "") for a in self.of("answerCallbackQuery")]

    def buttons(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        markup = message.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def button(self, message: dict[str, Any], prefix: str) -> str:
        """The callback data of the first button of ``message`` whose data starts with ``prefix``."""
        for b in self.buttons(message):
            if str(b.get("callback_data", "")).startswith(prefix):
                return str(b["callback_data"])
        raise AssertionError(f"no button {prefix!r} in {self.buttons(message)}")

    async def wait_for(self, method: str, count: int = 1, *, seconds: float = 10.0) -> list[dict[str, Any]]:
        for _ in range(int(seconds / 0.02)):
            if len(self.of(method)) >= count:
                break
            await asyncio.sleep(0.02)
        return self.of(method)

    # --- the API ------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
        else:
            data = dict(await request.post())
        markup = data.get("reply_markup")
        if isinstance(markup, str):
            data["reply_markup"] = json.loads(markup)
        if self.flood[method] > 0:
            self.flood[method] -= 1
            self.calls.append(Call(f"{method}:429", data))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        if method == "getUpdates":
            return await self.get_updates(data)
        self.calls.append(Call(method, data))
        if method == "getMe":
            return _ok({"id": BOT_ID, "is_bot": True, "first_name": "Probity", "username": USERNAME})
        if method in {"sendMessage", "editMessageText", "editMessageReplyMarkup"}:
            chat = int(data.get("chat_id") or 0)
            return _ok(
                {
                    "message_id": int(data.get("message_id") or next(self._message_ids)),
                    "date": 1_700_000_000,
                    "chat": {"id": chat, "type": "private"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Probity"},
                    "text": data.get("text", ""),
                }
            )
        if method == "answerCallbackQuery":
            return _ok(True)
        if method == "getFile":
            file_id = str(data["file_id"])
            if file_id not in self.files:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                    status=400,
                )
            return _ok(
                {
                    "file_id": file_id,
                    "file_unique_id": f"u-{file_id}",
                    "file_size": len(self.files[file_id]),
                    "file_path": f"photos/{file_id}.jpg",
                }
            )
        if method == "setWebhook":
            self.webhook = data
            return _ok(True)
        if method == "deleteWebhook":
            self.webhook = None
            return _ok(True)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def get_updates(self, data: dict[str, Any]) -> web.Response:
        timeout = float(data.get("timeout") or 0)
        out: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            out.append(await asyncio.wait_for(self.updates.get(), timeout=min(timeout, 1.0) or 0.05))
        while not self.updates.empty():
            out.append(self.updates.get_nowait())
        return _ok(out)

    async def download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        name = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".jpg")
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="image/jpeg")


@dataclass
class Phone:
    """One Telegram user in their private chat with the bot."""

    user_id: int
    language_code: str = "zh-hans"
    first_name: str = "Tester"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "type": "private", "first_name": self.first_name}

    def _message(self, **content: Any) -> dict[str, Any]:
        n = next(UPDATE_IDS)
        return {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": 1_700_000_000,
                "chat": self._chat(),
                "from": self._user(),
                **content,
            },
        }

    def text(self, text: str) -> dict[str, Any]:
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])}]
            if text.startswith("/")
            else []
        )
        return self._message(text=text, entities=entities) if entities else self._message(text=text)

    def photo(self, file_id: str, size: int, caption: str | None = None) -> dict[str, Any]:
        small = {"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}-s", "width": 90, "height": 90}
        large = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "width": 1280,
            "height": 960,
            "file_size": size,
        }
        extra = {"caption": caption} if caption else {}
        return self._message(photo=[small, large], **extra)

    def document(self, file_id: str, mime_type: str, size: int) -> dict[str, Any]:
        return self._message(
            document={
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_name": f"{file_id}.bin",
                "mime_type": mime_type,
                "file_size": size,
            }
        )

    def press(self, data: str, *, text: str = "…", message_id: int = 1) -> dict[str, Any]:
        n = next(UPDATE_IDS)
        return {
            "update_id": n,
            "callback_query": {
                "id": f"cb{n}",
                "from": self._user(),
                "chat_instance": f"ci{self.user_id}",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": 1_700_000_000,
                    "chat": self._chat(),
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Probity"},
                    "text": text,
                },
            },
        }


UPDATE_IDS = itertools.count(1)


class ThreadedBotApi:
    """The fake Bot API on a thread and loop of its own: an app under ``AsyncTestClient`` runs its
    lifespan on another loop and would wait on a server living in the test's loop."""

    def __init__(self, token: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake bot api", daemon=True)
        self.thread.start()
        self.api: FakeBotApi = self._run(self._start(token))

    async def _start(self, token: str) -> FakeBotApi:
        return await FakeBotApi(token).start()

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def put(self, update: dict[str, Any]) -> None:
        """An update for the bot's next getUpdates."""
        self.loop.call_soon_threadsafe(self.api.updates.put_nowait, update)

    def stop(self) -> None:
        self._run(self.api.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
