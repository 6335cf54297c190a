"""What the local WeCom and DingTalk fakes share: an aiohttp server on 127.0.0.1 that records every
call, hands out access tokens, and refuses expired ones as both services do (42001; unknown 40014)."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.delivery.fakes import _Server


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeMessenger(_Server):
    #: mobile → user id (the corp's directory)
    mobiles: dict[str, str] = field(default_factory=dict)
    #: members the directory knows (a message to anyone else is refused)
    members: set[str] = field(default_factory=set)
    #: who is using the phone's messenger browser (its OAuth page answers for them)
    current_user: str | None = None
    #: every token is expired as soon as it is used (the service keeps refusing)
    always_expired: bool = False

    def __post_init__(self) -> None:
        _Server.__init__(self)
        self.calls: list[Call] = []
        self.valid: set[str] = set()
        self.expired: set[str] = set()
        self.tokens_issued = 0
        self.delivered: list[dict[str, Any]] = []
        self.codes: dict[str, str] = {}
        self._seq = itertools.count(1)

    def of(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Messages the service took (a call refused for its token or user is not among them)."""
        return list(self.delivered)

    def expire_tokens(self) -> None:
        self.expired |= self.valid
        self.valid.clear()

    def issue_token(self) -> str:
        token = f"tok-{next(self._seq)}-{secrets.token_hex(8)}"
        self.valid.add(token)
        self.tokens_issued += 1
        return token

    def issue_code(self) -> str:
        """A sign-in code for whoever uses the phone now."""
        code = secrets.token_hex(12)
        self.codes[code] = self.current_user or ""
        return code

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if self.always_expired:
            self.expire_tokens()
        if token in self.valid:
            return None
        if token in self.expired:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})

    async def _record(self, request: web.Request) -> Any:
        body = await request.json() if request.method in ("POST", "PUT") else None
        self.calls.append(Call(request.path, dict(request.query), body))
        return body
