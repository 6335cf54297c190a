"""A lean HTTP/1.1 client for Web Push: one POST per message over kept-alive connections.

A fan-out sends thousands of small POSTs to a handful of push services. aiohttp's client spent
some 120 µs of CPU on each (URL objects, request and response objects, trace hooks, timers); a
request here is one ``transport.write`` of a prebuilt head and body and a response parsed by
``httptools`` (the C parser uvicorn uses), some 35 µs (benchmarks/delivery_bench.py fanout).

What it keeps of a proper client: connections per origin (scheme, host, port) reused while the
service keeps them alive and dropped after :data:`IDLE_SECONDS` idle; https verified against the
host name; a total timeout per request, connecting included; at most ``limit`` requests at once.
A request is never sent twice: an error before the answer is the caller's to retry later.

The SSRF guard of :mod:`notifications.netguard` holds here as on the aiohttp connector: a name is
resolved through :class:`~notifications.netguard.PublicResolver` (non-public answers dropped) and
the socket for the very address connected to comes from the guarded socket factory (refused
unless public), so nothing connects to a private address, IP literals included. Both are off
with ``PROBITY_PUSH_ALLOW_PRIVATE``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httptools
from aiohttp.abc import AbstractResolver

#: an idle connection older than this is closed instead of reused (aiohttp's keep-alive default)
IDLE_SECONDS = 15.0
#: of an answer's body only this much is kept (an error text; push services answer 201 empty)
BODY_LIMIT = 4096
#: characters a request target keeps as they are (already percent-encoded or reserved)
_SAFE = "!#$%&'()*+,/:;=?@[]~"
#: a URL as its scheme and authority, and the rest
_PARTS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)(.*)", re.DOTALL)
#: a request target that needs no encoding (as push services hand them out)
_PLAIN = re.compile(r"[A-Za-z0-9\-._~!$%&'()*+,/:;=?@\[\]]*")


class PushHTTPError(OSError):
    """The exchange failed (connection lost, malformed answer): nothing is known of the message."""


@dataclass(slots=True)
class Answer:
    status: int
    #: header names lower-cased (the last of a repeated one)
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def split(url: str) -> tuple[Origin, str]:
    """``url`` as its origin and request target (path and query, percent-encoded)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise PushHTTPError(f"not an http(s) URL: {url[:80]}")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise PushHTTPError(str(exc)) from None
    target = quote(parts.path or "/", safe=_SAFE) + (
        f"?{quote(parts.query, safe=_SAFE)}" if parts.query else ""
    )
    return Origin(scheme, parts.hostname, port), target


class _Connection(asyncio.Protocol):
    """One kept-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0
        self._headers: dict[str, str] = {}
        self._name = ""
        self._body: list[bytes] = []
        self._size = 0
        self._status = 0
        #: the answer to the current request has begun (its status line and headers are in)
        self.answering = False

    # --- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(PushHTTPError("the push service switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(PushHTTPError(f"malformed answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.answering and self.waiter is not None and not self.waiter.done():
            self._finish()  # an answer delimited by the end of the connection
            return
        self._fail(
            PushHTTPError(f"connection lost: {exc}" if exc else "the push service closed the connection")
        )

    # --- httptools callbacks ------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._headers = {}
        self._body = []
        self._size = 0
        self._status = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self.parser.get_status_code()
        self.answering = self._status >= 200

    def on_body(self, body: bytes) -> None:
        if self._size < BODY_LIMIT:
            self._body.append(body)
        self._size += len(body)

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # an interim answer: the final one follows
            return
        self.reusable = self.parser.should_keep_alive()
        self._finish()

    # --- one exchange --------------------------------------------------------------------
    def _finish(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(Answer(self._status, self._headers, b"".join(self._body)[:BODY_LIMIT]))

    def _fail(self, exc: Exception) -> None:
        self.reusable = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class PushClient:
    """POSTs to push services (see the module's doc). ``resolver`` answers names (given the
    guard, non-public answers are dropped by it); ``socket_factory`` makes the socket for each
    address connected to (the guard refuses non-public ones); ``ssl_context`` verifies https;
    ``timeout``: seconds a request may take, connecting included."""

    def __init__(
        self,
        *,
        resolver: AbstractResolver,
        socket_factory: Callable[[Any], socket.socket] | None = None,
        limit: int = 100,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self.resolver = resolver
        self.socket_factory = socket_factory
        self.ssl_context = ssl_context
        self._limit = asyncio.Semaphore(limit)
        self._idle: dict[Origin, list[_Connection]] = {}
        #: each push service's origin, parsed once ("https://fcm.googleapis.com" → Origin)
        self._origins: dict[str, Origin] = {}
        self._open: set[_Connection] = set()

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """POST ``body`` to ``url``; the answer, or :class:`PushHTTPError` (an ``OSError``) or
        ``TimeoutError`` when there was none in time."""
        origin, target = self._split(url)
        head = f"POST {target} HTTP/1.1\r\nHost: {origin.host_header}\r\n"
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise PushHTTPError(f"header {name} holds a line break")
            head += f"{name}: {value}\r\n"
        request = (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        async with self._limit:
            conn = self._reuse(origin)
            if conn is None:
                async with asyncio.timeout_at(deadline):
                    conn = await self._connect(origin)
            return await self._exchange(conn, request, deadline, loop)

    def _split(self, url: str) -> tuple[Origin, str]:
        """:func:`split` with the origin parsed once per push service (endpoints differ only in
        their path) and the path encoded only if it needs it."""
        parts = _PARTS.fullmatch(url)
        if parts is None:
            return split(url)
        base, rest = parts.groups()
        origin = self._origins.get(base)
        if origin is None:
            origin = split(base)[0]
            if len(self._origins) > 1000:
                self._origins.clear()
            self._origins[base] = origin
        target = rest.split("#", 1)[0] or "/"
        if not target.startswith("/"):
            target = "/" + target
        return origin, (target if _PLAIN.fullmatch(target) else quote(target, safe=_SAFE))

    async def _exchange(
        self, conn: _Connection, request: bytes, deadline: float, loop: asyncio.AbstractEventLoop
    ) -> Answer:
        waiter: asyncio.Future[Answer] = loop.create_future()
        conn.waiter = waiter
        conn.reusable = False
        conn.answering = False
        expire = loop.call_at(deadline, _expire, waiter)
        try:
            assert conn.transport is not None
            conn.transport.write(request)
            answer = await waiter
        except BaseException:
            conn.close()  # half an exchange on it: never reused
            self._open.discard(conn)
            raise
        finally:
            expire.cancel()
            conn.waiter = None
        if conn.reusable and not conn.closed:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(conn.origin, []).append(conn)
        else:
            conn.close()
            self._open.discard(conn)
        return answer

    def _reuse(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        fresh = time.monotonic() - IDLE_SECONDS
        while idle:
            conn = idle.pop()
            assert conn.transport is not None
            if not conn.closed and conn.idle_since > fresh and not conn.transport.is_closing():
                return conn
            conn.close()
            self._open.discard(conn)
        return None

    async def _connect(self, origin: Origin) -> _Connection:
        """A new connection to one of ``origin``'s addresses, each checked as it is connected to."""
        loop = asyncio.get_running_loop()
        try:
            literal = ipaddress.ip_address(origin.host)
        except ValueError:
            answers = await self.resolver.resolve(origin.host, origin.port, family=socket.AF_UNSPEC)
            addresses = [(int(a["family"]), int(a["proto"]), str(a["host"]), int(a["port"])) for a in answers]
        else:
            version = int(socket.AF_INET6 if literal.version == 6 else socket.AF_INET)
            addresses = [(version, 0, str(literal), origin.port)]
        failure: OSError = PushHTTPError(f"no address for {origin.host}")
        for family, proto, host, port in addresses:
            address = (host, port)
            try:
                if self.socket_factory is not None:
                    sock = self.socket_factory((family, socket.SOCK_STREAM, proto, "", address))
                else:
                    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=proto)
            except OSError as exc:
                failure = exc
                continue
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await loop.sock_connect(sock, address)
                https = origin.scheme == "https"
                _, conn = await loop.create_connection(
                    lambda: _Connection(origin),
                    sock=sock,
                    ssl=(self.ssl_context or _default_ssl()) if https else None,
                    server_hostname=origin.host if https else None,
                )
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            except BaseException:
                sock.close()
                raise
            self._open.add(conn)
            return conn
        raise failure

    async def close(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
        await self.resolver.close()

    async def __aenter__(self) -> PushClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def _expire(waiter: asyncio.Future[Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("the push service did not answer in time"))


_SSL: list[ssl.SSLContext] = []


def _default_ssl() -> ssl.SSLContext:
    """The system's trusted certificates, host names checked (made once, on first use)."""
    if not _SSL:
        _SSL.append(ssl.create_default_context())
    return _SSL[0]
