"""What WeCom's and DingTalk's server APIs have in common: an app's keys, its access token cached
until shortly before it expires and fetched again once when the service says it expired, JSON calls
whose errors never carry a token or a URL (where the token travels)."""

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
#: the user id (or mobile) is not in the corp (WeCom 46004/60111/81013, DingTalk 60121/33012)
UNKNOWN_USER = frozenset({46004, 60111, 81013, 60121, 33012})
#: a token is taken as expired this long before the service says it is
MARGIN_SECONDS = 300


class MessengerError(Exception):
    """The messenger answered with an error code (or not at all); the text never holds a token or URL."""

    service = "messenger"

    def __init__(self, errcode: int | None, detail: str, *, status: int | None = None) -> None:
        super().__init__(
            f"{self.service} {errcode if errcode is not None else 'unreachable'}: {detail}"[:300]
        )
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
    api_base: str = ""
    oauth_base: str = ""
    #: DingTalk: the app key (client id) and the host of its newer API (api.dingtalk.com)
    app_key: str | None = None
    open_api_base: str | None = None
    #: DingTalk: the interactive card template (presses through Stream mode)
    card_template_id: str | None = None
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


class BaseClient:
    """Token handling and JSON calls; a messenger's client adds its token request and its calls."""

    error: type[MessengerError] = MessengerError

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

    async def _get_json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self.http.request(method, url, timeout=self.timeout, **kwargs) as resp:
                if resp.status >= 500:
                    raise self.error(None, f"HTTP {resp.status}", status=resp.status)
                if resp.status != 200:
                    raise self.error(-2, f"HTTP {resp.status}", status=resp.status)
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:  # the message may hold the URL: not kept
            raise self.error(None, type(exc).__name__) from None
        if not isinstance(body, dict):
            raise self.error(-2, "the answer is not a JSON object")
        return body

    async def _fetch_token(self) -> tuple[str, float]:
        raise NotImplementedError

    async def token(self) -> str:
        key = self.app.cache_key
        cached = self.tokens.valid(key)
        if cached is not None:
            return cached
        async with self.tokens.lock(key):
            cached = self.tokens.valid(key)
            if cached is not None:
                return cached
            token, expires_in = await self._fetch_token()
            self.tokens.put(key, token, expires_in)
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
            body = await self._get_json(method, f"{self.app.api_base.rstrip('/')}{path}?{query}", json=json)
            errcode = int(body.get("errcode", 0) or 0)
            if errcode in TOKEN_ERRORS and attempt == 1:
                self.tokens.drop(self.app.cache_key, token)
                continue
            if errcode != 0:
                raise self.error(errcode, str(body.get("errmsg", ""))[:120])
            return body
        raise AssertionError("unreachable")  # pragma: no cover
