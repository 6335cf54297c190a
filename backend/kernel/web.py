"""HTTP plumbing shared by every feature: request ids, JSON errors, the DB session dependency."""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response
from litestar.datastructures import State
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from backend.kernel.access import Channel
from backend.kernel.db import Database
from backend.kernel.errors import AppError

log = logging.getLogger("probity")

STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


NUL_REFUSED = "text may not contain NUL characters"


def _nul_guard(receive: Receive) -> Receive:
    """``receive`` that refuses a JSON body holding ``\\u0000`` (a raw NUL is not JSON at all):
    PostgreSQL cannot store it, file names cannot hold it."""
    tail = b""

    async def checked() -> ReceiveMessage:
        nonlocal tail
        message = await receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            if b"\\u0000" in tail + body:
                raise ClientException(NUL_REFUSED)
            tail = body[-5:]
        return message

    return checked


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take a sane ``X-Request-ID`` from the client or make one; echo it on the response.
    A NUL character in the path, the query or a JSON body is refused (400) before any handler."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            raise ClientException(NUL_REFUSED)
        if b"json" in headers.get(b"content-type", b""):
            receive = _nul_guard(receive)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


#: the PWA's own scripts, styles, images (and blob: previews of photos), API calls and service
#: worker only; no inline script or style (the PWA sets styles through CSSOM), no plugins, no frames
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: photos come from a file input (no camera permission); location is asked for a reply
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), interest-cohort=()"
HSTS = "max-age=31536000"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def served_over_https(scope: Scope) -> bool:
    """https to this process, or to a trusted proxy that says so in ``X-Forwarded-Proto``."""
    if scope.get("scheme") == "https":
        return True
    state = getattr(scope.get("app"), "state", None)
    settings = getattr(state, "settings", None)
    networks = settings.trusted_proxy_networks if settings is not None else ()
    client = scope.get("client")
    if not networks or not client:
        return False
    try:
        peer = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if not any(peer in net for net in networks):
        return False
    proto = dict(scope["headers"]).get(b"x-forwarded-proto", b"").decode("latin-1")
    return proto.split(",")[0].strip().lower() == "https"


async def security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook (it sees every response, errors and unknown paths too): CSP, nosniff,
    no referrer, no framing and a permissions policy; HSTS when served over https."""
    if message["type"] != "http.response.start":
        return
    given = list(message.get("headers", []))
    names = {bytes(name).lower() for name, _ in given}
    given.extend((k, v) for k, v in SECURITY_HEADERS if k not in names)
    if served_over_https(scope):
        given.append((b"strict-transport-security", HSTS.encode()))
    message["headers"] = given


def request_id(scope: Scope | Request[Any, Any, Any]) -> str | None:
    state = (scope.scope if isinstance(scope, Request) else scope).get("state", {})
    return state.get("request_id") if isinstance(state, dict) else None


def request_channel(headers: Any) -> Channel:
    """PWA sets ``X-Probity-Channel: pwa``; anything else calling the API is ``api``."""
    return Channel.pwa if headers.get("x-probity-channel", "").lower() == "pwa" else Channel.api


def _body(code: str, detail: str, request: Request[Any, Any, Any], **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra, "request_id": request_id(request)}


def _headers(request: Request[Any, Any, Any], extra: dict[str, str] | None = None) -> dict[str, str]:
    rid = request_id(request)
    return {**(extra or {}), **({"X-Request-ID": rid} if rid else {})}


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    return Response(
        _body(exc.code, exc.detail, request, **exc.extra),
        status_code=exc.status,
        headers=_headers(request, exc.headers),
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = STATUS_CODES.get(status, "error" if status < 500 else "internal_error")
    extra: dict[str, Any] = {}
    detail = exc.detail
    if isinstance(exc, ValidationException):
        status, code = 400, "invalid_request"
        errors = exc.extra if isinstance(exc.extra, list) else []
        extra["errors"] = [_field_error(e) for e in errors]
        if extra["errors"]:
            first = extra["errors"][0]
            detail = f"{first['field'] or 'body'}: {first['reason']}"
    elif status == 413:
        detail = "The request body is too large."
    if status >= 500:
        log.error("HTTP %s on %s %s: %s", status, request.method, request.url.path, exc.detail)
        detail = "Something went wrong on our side; it was logged."
    return Response(
        _body(code, detail, request, **extra),
        status_code=status,
        headers=_headers(request, getattr(exc, "headers", None)),
    )


def _field_error(err: Any) -> dict[str, Any]:
    if isinstance(err, dict):
        key = err.get("key") or ""
        return {"field": key or None, "reason": str(err.get("message", "invalid"))}
    return {"field": None, "reason": str(err)}


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        _body("internal_error", "Something went wrong on our side; it was logged.", request),
        status_code=500,
        headers=_headers(request),
    )


def stale_handler(request: Request[Any, Any, Any], exc: StaleDataError) -> Response[Any]:
    """A conditional update found the row changed by someone else since it was read."""
    return Response(
        _body("conflict", "Someone else changed this meanwhile: reload and try again.", request),
        status_code=409,
        headers=_headers(request),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: app_error_handler,
    StaleDataError: stale_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    db: Database = state.db
    async with db.session() as session:
        yield session
