"""HTTP plumbing shared by every feature: request ids, JSON errors, the DB session dependency."""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from types import UnionType
from typing import Annotated, Any, Union, cast, get_args, get_origin

from litestar import Request, Response
from litestar._signature.types import ExtendedMsgSpecValidationError  # how Litestar names fields
from litestar.datastructures import State, UploadFile
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.plugins.pydantic import PydanticInitPlugin
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from backend.kernel.access import Channel
from backend.kernel.admission import READ_METHODS
from backend.kernel.db import Database
from backend.kernel.errors import AppError, Invalid
from backend.kernel.onehop import quick_writes

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

        with quick_writes():  # a request's writes are a few rows (backend/kernel/onehop.py)
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


def out_of_range_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A number too large for the database (≥ 2⁶³ on SQLite, beyond the column on PostgreSQL)
    or another value the database cannot take: the request's fault, not the server's."""
    log.info(
        "value refused by the database on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    return Response(
        _body("invalid_request", "A value is out of range.", request),
        status_code=400,
        headers=_headers(request),
    )


def undecodable_handler(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """A form field (or other request text) that is not UTF-8: Litestar's multipart reader lets
    the UnicodeDecodeError through."""
    log.info("undecodable text in %s %s", request.method, request.url.path)
    return Response(
        _body("invalid_request", "Text in the request is not valid UTF-8.", request),
        status_code=400,
        headers=_headers(request),
    )


def _bad_value(exc: BaseException | None) -> bool:
    """A database error caused by a value sent (SQLSTATE class 22, or asyncpg refusing to encode
    an argument: "value out of int32 range")."""
    for _ in range(5):
        if exc is None:
            return False
        state = getattr(exc, "sqlstate", None)
        if (isinstance(state, str) and state.startswith("22")) or type(exc).__name__ == "DataError":
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
    return False


def database_error_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    if _bad_value(exc):
        return out_of_range_handler(request, exc)
    if "database is locked" in str(exc.orig):  # SQLite: no turn to write in time
        return busy_handler(request, exc)
    return internal_error_handler(request, exc)


#: how long a client is asked to wait when no database connection was free in time
BUSY_RETRY_AFTER_SECONDS = 5


def busy_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """No pooled database connection became free in time, or (SQLite) no turn to write (a burst
    beyond what the server can answer): the request's transaction did nothing, and the client
    may send it again — 503 with Retry-After, not an error of ours to chase in the log."""
    log.warning("no database connection free in time on %s %s", request.method, request.url.path)
    return Response(
        _body("server_busy", "The server is busy: try again in a few seconds.", request),
        status_code=503,
        headers={**_headers(request), "Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    PoolTimeout: busy_handler,
    AppError: app_error_handler,
    StaleDataError: stale_handler,
    OverflowError: out_of_range_handler,
    DBAPIError: database_error_handler,
    UnicodeDecodeError: undecodable_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}


#: JSON types a request field of these types must come as (pydantic's lax mode would take
#: ``0`` for false, ``0`` for 1970-01-01, ``"5"`` for 5, ``true`` for 1)
_JSON_KIND: dict[Any, tuple[tuple[type, ...], str]] = {
    bool: ((bool,), "a boolean (true or false)"),
    int: ((int,), "a whole number"),
    date: ((str,), "a date as ISO text (YYYY-MM-DD)"),
    datetime: ((str,), "a date and time as ISO text"),
    time: ((str,), "a time as text (HH:MM)"),
}


def _plain(annotation: Any) -> Any:
    """``X`` of ``X``, ``X | None`` and ``Annotated[X, …]``; else the annotation itself."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return _plain(rest[0])
    return annotation


def _loose_values(model: type[BaseModel], value: Any, where: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Where ``value`` (decoded JSON) gives a field of ``model`` a value of another JSON type."""
    if not isinstance(value, dict):
        return []
    found: list[dict[str, Any]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        given = value.get(key)
        if given is None:
            continue
        kind = _plain(info.annotation)
        if kind in _JSON_KIND:
            types, words = _JSON_KIND[kind]
            if not isinstance(given, types) or (kind is int and isinstance(given, bool)):
                found.append(
                    {"type": "strict", "loc": (*where, key), "msg": f"must be {words}", "input": given}
                )
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            found.extend(_loose_values(kind, given, (*where, key)))
        elif get_origin(kind) is list and isinstance(given, list):
            item = _plain(get_args(kind)[0]) if get_args(kind) else None
            if isinstance(item, type) and issubclass(item, BaseModel):
                for n, element in enumerate(given):
                    found.extend(_loose_values(item, element, (*where, key, n)))
    return found


def _strict_from_json(model_type: type[BaseModel], value: Any) -> BaseModel:
    """A request body checked for JSON types first (no number for a boolean or a date, no text
    or boolean for a number), then validated as before. Strict mode itself cannot do it: SQLModel
    models validate through their own ``__init__``, which does not pass ``strict`` on."""
    loose = _loose_values(model_type, value)
    if loose:
        raise ExtendedMsgSpecValidationError(errors=loose)
    try:
        return model_type.model_validate(value)
    except ValidationError as exc:
        hide = model_type.model_config.get("hide_input_in_errors", False)
        errors = cast("list[dict[str, Any]]", exc.errors(include_input=not hide))
        raise ExtendedMsgSpecValidationError(errors=errors) from exc


class StrictJsonPydanticPlugin(PydanticInitPlugin):
    """Litestar's pydantic plugin; request bodies decoded by :func:`_strict_from_json`."""

    @classmethod
    def decoders(cls, validate_strict: bool = False) -> list[tuple[Callable[[Any], bool], Decoder]]:
        return [(_is_model, _strict_from_json), *super().decoders(validate_strict)]


Decoder = Callable[[Any, Any], Any]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


@dataclass
class FileForm:
    """A multipart form with one file in field ``file`` (photos, signatures): so documented."""

    file: UploadFile | None = None


@dataclass
class DataForm:
    """A multipart form with one file in field ``data`` (imports): so documented."""

    data: UploadFile | None = None


def sent_file(upload: UploadFile | None, field: str, what: str = "the file") -> UploadFile:
    """The form's file, or 400 ``file_required`` naming the field."""
    if not isinstance(upload, UploadFile):
        raise Invalid(
            f"send {what} as multipart field '{field}'", code="file_required", extra={"field": field}
        )
    return upload


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """The request's session, once it is admitted (``backend/kernel/admission.py``: acts before
    the reads waiting with them)."""
    db: Database = state.db
    act = request.method not in READ_METHODS
    async with state.admission.admitted(act) as ticket, db.session() as session:
        request.state[ADMITTED] = ticket
        yield session


ADMITTED = "probity_admitted"


@asynccontextmanager
async def outside_work(request: Request[Any, Any, Any], session: AsyncSession) -> AsyncIterator[None]:
    """Around a wait on a service outside the process within a request (a messenger's API): the
    request's transaction ends (its connection goes back to the pool; nothing written is pending
    there) and its admission slot is given back meanwhile, so a slow service holds neither."""
    await session.commit()
    ticket = request.state.get(ADMITTED)
    if ticket is None:
        yield
        return
    async with request.app.state.admission.stepped_out(ticket):
        yield
