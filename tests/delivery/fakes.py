"""Local stand-ins for the services delivery talks to, all on 127.0.0.1.

* :class:`FakePushService` — a Web Push service: records what arrives, answers per subscription
  from a script of status codes; :func:`browser_subscription` makes the browser's side (a P-256
  key pair and auth secret) so tests can decrypt what arrived with ``http_ece``.
* :class:`FakeBotApi` — the Telegram Bot API for PTB's ``base_url``.
* :class:`HttpReceiver` — WeCom, DingTalk, Feishu and the SMS gateway (JSON posts).
* :class:`SmtpReceiver` — an ``aiosmtpd`` server with AUTH.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Browser:
    """The browser's half of a push subscription."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    def json(self) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64(public), "auth": b64(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


def browser_subscription(endpoint: str) -> Browser:
    return Browser(ec.generate_private_key(ec.SECP256R1()), os.urandom(16), endpoint)


class _Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.app = web.Application()
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Any:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class FakePushService(_Server):
    """POST /push/{name}: answers from ``script[name]`` (status codes, then 201 for ever)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []
        self.script: dict[str, deque[int | tuple[int, dict[str, str]]]] = defaultdict(deque)
        self.max_bytes: int | None = None
        #: seconds before each answer (a slow push service)
        self.delay = 0.0
        self.app.router.add_post("/push/{name}", self.handle)

    def endpoint(self, name: str) -> str:
        return f"{self.base}/push/{name}"

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        self.received.append(Received(name, {k.lower(): v for k, v in request.headers.items()}, body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.max_bytes is not None and len(body) > self.max_bytes:
            return web.Response(status=413)
        if self.script[name]:
            answer = self.script[name].popleft()
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            return web.Response(status=status, headers=headers, text="scripted")
        return web.Response(status=201)

    def for_name(self, name: str) -> list[Received]:
        return [r for r in self.received if r.path == name]


class FakeBotApi(_Server):
    """The Bot API methods PTB's ``Bot`` calls: getMe, sendMessage. Chats in ``blocked`` refuse."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.sent: list[dict[str, Any]] = []
        self.blocked: set[int] = set()
        self.flood: deque[int] = deque()
        self.app.router.add_post("/bot{token}/{method}", self.handle)

    @property
    def base_url(self) -> str:
        return f"{self.base}/bot"

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
        if method == "getMe":
            return web.json_response(
                {
                    "ok": True,
                    "result": {"id": 7, "is_bot": True, "first_name": "Probity", "username": "probity_bot"},
                }
            )
        if method == "sendMessage":
            chat = int(data["chat_id"])
            if chat in self.blocked:
                return web.json_response(
                    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
                    status=403,
                )
            if self.flood:
                self.flood.popleft()
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 7",
                        "parameters": {"retry_after": 7},
                    },
                    status=429,
                )
            markup = data.get("reply_markup")
            data["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            self.sent.append(data)
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "message_id": len(self.sent),
                        "date": 1700000000,
                        "chat": {"id": chat, "type": "private"},
                        "text": data.get("text", ""),
                    },
                }
            )
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)


class HttpReceiver(_Server):
    """WeCom (token + send), DingTalk robot, Feishu hook, SMS gateway: records every request."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Received] = []
        self.fail: set[str] = set()
        #: seconds before each answer (a slow gateway)
        self.delay = 0.0
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(Received(str(request.rel_url), dict(request.headers), await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        path = request.path
        if any(path.startswith(p) for p in self.fail):
            return web.Response(status=503, text="down")
        if path.startswith("/cgi-bin/gettoken"):
            return web.json_response(
                {"errcode": 0, "errmsg": "ok", "access_token": "TOKEN123", "expires_in": 7200}
            )
        if path.startswith("/open-apis/"):
            return web.json_response({"code": 0, "msg": "success"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def bodies(self, prefix: str) -> list[bytes]:
        return [r.body for r in self.requests if r.path.startswith(prefix)]


@dataclass
class SmtpReceiver:
    user: str = "probity"
    password: str = "smtp-secret-pass"
    port: int = field(default_factory=free_port)
    messages: list[bytes] = field(default_factory=list)
    _controller: Any = None

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.messages.append(envelope.content)
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (
                self.user,
                self.password,
            )
            return AuthResult(success=ok)

        self._controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticator,
            auth_require_tls=False,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
