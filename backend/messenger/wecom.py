"""WeCom's server API, spoken over HTTP directly (a private deployment has its own host).

The access token is fetched with the app's secret (``/cgi-bin/gettoken``), cached per app until a
little before it expires, and fetched again once when WeCom answers that it expired or is invalid
(errcode 40014 / 42001); it is never logged, and no error text carries a URL (where it travels).

Calls used: ``message/send`` (template cards, with WeCom's duplicate check so a card sent again
after a crash is dropped by WeCom), ``message/update_template_card`` (after a press),
``user/getuserid`` (a user id by mobile number) and ``auth/getuserinfo`` (SSO: OAuth code → user).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

#: the token expired / is not valid (any more): fetch a new one and try once more
TOKEN_ERRORS = frozenset({40014, 42001})
#: the user id (or mobile) is not in the corp
UNKNOWN_USER = frozenset({46004, 60111, 81013})
#: a token is taken as expired this long before WeCom says it is
MARGIN_SECONDS = 300
PUBLIC_API = "https://qyapi.weixin.qq.com"
PUBLIC_OAUTH = "https://open.weixin.qq.com"
#: WeCom drops a card with the same content (task id included) within this many seconds
DUPLICATE_CHECK_SECONDS = 4 * 3600


class WeComError(Exception):
    """WeCom answered with an error code (or not at all); the text never holds a token or URL."""

    def __init__(self, errcode: int | None, detail: str, *, status: int | None = None) -> None:
        super().__init__(f"WeCom {errcode if errcode is not None else 'unreachable'}: {detail}"[:300])
        self.errcode = errcode
        self.status = status

    @property
    def retryable(self) -> bool:
        # -1: system busy; 45009: API rate limit; none: not reached / timed out / 5xx
        return self.errcode in (None, -1, 45009, 45033)


@dataclass(frozen=True)
class AppKeys:
    """An app's settings with its secrets opened (never shown: ``repr`` leaves them out)."""

    id: int
    unit_id: int
    provider: str
    corp_id: str
    agent_id: str
    secret: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    aes_key: str | None = field(default=None, repr=False)
    api_base: str = PUBLIC_API
    oauth_base: str = PUBLIC_OAUTH
    show_topic: bool = False
    enabled: bool = True

    @property
    def cache_key(self) -> str:
        raw = f"{self.api_base}|{self.corp_id}|{self.agent_id}|{self.secret}"
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class _Cached:
    token: str = field(repr=False)
    until: float


class TokenCache:
    """Access tokens per app, in this process; one fetch at a time per app."""

    def __init__(self) -> None:
        self._tokens: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: how many tokens were fetched (tests and the README's figures read it)
        self.fetched = 0

    def valid(self, key: str) -> str | None:
        cached = self._tokens.get(key)
        return cached.token if cached is not None and cached.until > time.monotonic() else None

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def put(self, key: str, token: str, expires_in: float) -> None:
        self._tokens[key] = _Cached(token, time.monotonic() + max(0.0, expires_in - MARGIN_SECONDS))
        self.fetched += 1

    def drop(self, key: str, token: str) -> None:
        cached = self._tokens.get(key)
        if cached is not None and cached.token == token:
            del self._tokens[key]


#: the process's tokens (the worker and the API share them)
TOKENS = TokenCache()


class WeComClient:
    def __init__(
        self,
        app: AppKeys,
        http: aiohttp.ClientSession,
        *,
        timeout: float = 10.0,
        tokens: TokenCache = TOKENS,
    ) -> None:
        self.app = app
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.tokens = tokens

    def _url(self, path: str) -> str:
        return self.app.api_base.rstrip("/") + path

    async def _get_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.http.request(method, self._url(path), timeout=self.timeout, **kwargs) as resp:
                if resp.status >= 500:
                    raise WeComError(None, f"HTTP {resp.status}", status=resp.status)
                if resp.status != 200:
                    raise WeComError(-2, f"HTTP {resp.status}", status=resp.status)
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:  # the message may hold the URL: not kept
            raise WeComError(None, type(exc).__name__) from None
        if not isinstance(body, dict):
            raise WeComError(-2, "the answer is not a JSON object")
        return body

    async def token(self) -> str:
        key = self.app.cache_key
        cached = self.tokens.valid(key)
        if cached is not None:
            return cached
        async with self.tokens.lock(key):
            cached = self.tokens.valid(key)
            if cached is not None:
                return cached
            body = await self._get_json(
                "GET", "/cgi-bin/gettoken", params={"corpid": self.app.corp_id, "corpsecret": self.app.secret}
            )
            if body.get("errcode", 0) != 0 or not body.get("access_token"):
                raise WeComError(body.get("errcode"), str(body.get("errmsg", ""))[:120])
            token = str(body["access_token"])
            self.tokens.put(key, token, float(body.get("expires_in", 7200)))
            return token

    async def call(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """One API call with the app's token; a new token and one more try if it had expired."""
        for attempt in (1, 2):
            token = await self.token()
            query = "&".join(
                f"{k}={quote(v, safe='')}" for k, v in {**(params or {}), "access_token": token}.items()
            )
            body = await self._get_json(method, f"{path}?{query}", json=json)
            errcode = int(body.get("errcode", 0) or 0)
            if errcode in TOKEN_ERRORS and attempt == 1:
                self.tokens.drop(self.app.cache_key, token)
                continue
            if errcode != 0:
                raise WeComError(errcode, str(body.get("errmsg", ""))[:120])
            return body
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the calls Probity makes ----------------------------------------------------------
    async def send_card(self, user_id: str, card: dict[str, Any]) -> dict[str, Any]:
        """A template card to one person; WeCom's duplicate check drops a repeat of the same card."""
        body = await self.call(
            "POST",
            "/cgi-bin/message/send",
            json={
                "touser": user_id,
                "msgtype": "template_card",
                "agentid": int(self.app.agent_id) if self.app.agent_id.isdigit() else self.app.agent_id,
                "template_card": card,
                "enable_id_trans": 0,
                "enable_duplicate_check": 1,
                "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
            },
        )
        if body.get("invaliduser"):
            raise WeComError(81013, "the user id is not in the corp")
        return body

    async def update_card(self, user_id: str, response_code: str, card: dict[str, Any]) -> None:
        await self.call(
            "POST",
            "/cgi-bin/message/update_template_card",
            json={
                "userids": [user_id],
                "agentid": int(self.app.agent_id) if self.app.agent_id.isdigit() else self.app.agent_id,
                "response_code": response_code,
                "template_card": card,
            },
        )

    async def user_id_by_mobile(self, mobile: str) -> str | None:
        try:
            body = await self.call("POST", "/cgi-bin/user/getuserid", json={"mobile": mobile})
        except WeComError as exc:
            if exc.errcode in UNKNOWN_USER:
                return None
            raise
        user_id = body.get("userid")
        return str(user_id) if user_id else None

    async def user_of_code(self, code: str) -> str | None:
        """SSO: the member an OAuth code stands for (``None``: not a member of the corp)."""
        body = await self.call("GET", "/cgi-bin/auth/getuserinfo", params={"code": code})
        user_id = body.get("userid") or body.get("UserId")
        return str(user_id) if user_id else None

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """The OAuth page WeCom's browser opens (``snsapi_base``: silent, user id only)."""
        return (
            f"{self.app.oauth_base.rstrip('/')}/connect/oauth2/authorize?appid={quote(self.app.corp_id)}"
            f"&redirect_uri={quote(redirect_uri, safe='')}&response_type=code&scope=snsapi_base"
            f"&state={state}&agentid={quote(self.app.agent_id)}#wechat_redirect"
        )
