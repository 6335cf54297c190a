"""``create_app(settings)``: the Litestar application. Feature controllers are discovered.

Every ``backend/<feature>/controller.py`` contributes its ``Controller`` subclasses; adding a
feature adds a folder, not a line here.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Controller, Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.compression import CompressionMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope, Send
from sqlalchemy import text

import backend
from backend.audit.controller import provide_trail
from backend.audit.reads import ReadJournal
from backend.audit.sealing import Sealer
from backend.audit.service import AuditTrail
from backend.auth.middleware import auth_middleware
from backend.auth.service import WATCHED as AUTH_TABLES
from backend.auth.service import make_facts_cache, make_hasher
from backend.kernel import encoding
from backend.kernel.admission import Admission
from backend.kernel.contract import ContractJsonPlugin
from backend.kernel.db import Database
from backend.kernel.discovery import feature_modules
from backend.kernel.files import secure_process_files
from backend.kernel.heap import settle_over_time
from backend.kernel.hooks import compose
from backend.kernel.logs import configure_logging
from backend.kernel.settings import Settings
from backend.kernel.watch import start_change_watch
from backend.kernel.web import (
    EXCEPTION_HANDLERS,
    StrictJsonPydanticPlugin,
    provide_db_session,
    request_id_middleware,
    security_headers,
)
from backend.org.service import WATCHED as ORG_TABLES
from backend.warnings.inbox_json import BY_PERSON as INBOX_BY_PERSON
from backend.warnings.inbox_json import WATCHED as INBOX_TABLES

VERSION = "0.1.0"
PWA_DIR = Path(backend.__file__).resolve().parent.parent / "pwa"


#: what is worth compressing: the PWA's HTML, JS, CSS, manifest and SVG icons, and API JSON
#: (PNG, JPEG, PDF and other binaries pass as they are)
COMPRESSIBLE = (
    b"text/",
    b"application/javascript",
    b"application/json",
    b"application/manifest+json",
    b"application/problem+json",
    b"image/svg+xml",
)


class TextCompression(CompressionMiddleware):
    """Litestar's compression (brotli when the client accepts it, else gzip) for text only, and only
    for bodies worth it: the compressor is made once the first body shows the response is large
    enough (Litestar's own wrapper makes one for every response, a cost on the smallest ones)."""

    def create_compression_send_wrapper(self, send: Send, compression_encoding: str, scope: Scope) -> Send:
        make = super().create_compression_send_wrapper
        start: Any = None  # the http.response.start message, held until the first body
        target: Send | None = None

        async def pick(message: Message) -> None:
            nonlocal start, target
            if target is None and message["type"] == "http.response.start":
                start = message
                return
            if target is None:
                if start is None:
                    await send(message)
                    return
                headers = dict(start.get("headers") or ())
                kind = headers.get(b"content-type", b"").lower()
                small = (
                    message["type"] == "http.response.body"
                    and not message.get("more_body", False)
                    and len(message.get("body", b"")) < self.config.minimum_size
                )
                if small or b"content-encoding" in headers or not kind.startswith(COMPRESSIBLE):
                    target = send
                else:
                    target = make(send, compression_encoding, scope)
                await target(start)
            await target(message)

        return pick


def compression() -> CompressionConfig:
    """Brotli or gzip (backend/kernel/encoding.py) for responses of ``MIN_SIZE`` or more."""
    if not encoding.HAS_BROTLI:  # pragma: no cover - a dependency; gzip still works
        return CompressionConfig(
            backend="gzip",
            gzip_compress_level=encoding.GZIP_LEVEL,
            minimum_size=encoding.MIN_SIZE,
            middleware_class=TextCompression,
        )
    return CompressionConfig(
        backend="brotli",
        brotli_quality=encoding.BROTLI_QUALITY,
        brotli_mode="text",
        brotli_lgwin=22,
        brotli_gzip_fallback=True,
        gzip_compress_level=encoding.GZIP_LEVEL,
        minimum_size=encoding.MIN_SIZE,
        middleware_class=TextCompression,
    )


def discover_controllers() -> list[type[Controller]]:
    found: list[type[Controller]] = []
    for module in feature_modules("controller"):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Controller) and obj is not Controller and obj.__module__ == module.__name__:
                found.append(obj)
    return found


@get("/healthz", include_in_schema=True, tags=["health"], summary="Liveness and database check")
async def healthz(state: State) -> dict[str, Any]:
    db: Database = state.db
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "ok", "version": VERSION, "database": db.engine.dialect.name}


def app_state(settings: Settings, database: Database | None = None) -> dict[str, Any]:
    """What the app holds for one deployment: settings, database, trail, hasher, caches."""
    db = database or Database(settings)
    trail = AuditTrail(settings.secret_key.get_secret_value())
    return {
        "settings": settings,
        "db": db,
        "owns_db": database is None,
        "trail": trail,
        "reads": ReadJournal(db, trail, settings.read_trail_seconds),
        "sealer": Sealer(db, trail.seal, settings.audit_seal_seconds),
        "hasher": make_hasher(settings),
        "facts_cache": make_facts_cache(settings),
        "admission": Admission(settings.active_limit, settings.database_pool_timeout_seconds),
    }


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Start what the process's role has beside HTTP (``backend.roles``: workers, scheduler, bot),
    this process's trail of reads, trail sealer and change watch; stop them and close the database
    after."""
    from backend.roles import start_parts

    settings: Settings = app.state.settings
    db: Database = app.state.db
    parts = await start_parts(app.state.get("role", "all"), app)
    settling = asyncio.create_task(settle_over_time()) if settings.heap_settles else None
    reads: ReadJournal = app.state.reads
    reads.start()
    sealer: Sealer = app.state.sealer
    sealer.start()
    watched = {**INBOX_TABLES, **AUTH_TABLES, **ORG_TABLES}  # table → topic (backend/kernel/watch.py)
    # a person's own writes to warnings end their inbox only (backend/auth/middleware.py)
    watch = start_change_watch(db.engine, watched, INBOX_BY_PERSON) if settings.watches_changes else None
    try:
        yield
    finally:
        if settling is not None:
            settling.cancel()
        if watch is not None:
            await watch.stop()
        await reads.stop()
        await parts.stop()
        await sealer.stop()  # after the parts: what they wrote last is sealed too
        if app.state.owns_db:
            await db.dispose()


def create_app(settings: Settings, *, database: Database | None = None, role: str = "all") -> Litestar:
    """The app of a process of ``role`` (``all`` or ``api``: ``backend.roles``); features' hooks are
    composed first."""
    compose(role)
    settings.check_secrets()
    secure_process_files(settings.data_dir, settings.database_files)
    configure_logging(settings.log_level)

    handlers: list[Any] = [healthz, *discover_controllers()]
    if PWA_DIR.is_dir():
        handlers.append(
            create_static_files_router(
                path="/", directories=[PWA_DIR], html_mode=True, include_in_schema=False, name="pwa"
            )
        )
    return Litestar(
        route_handlers=handlers,
        state=State({**app_state(settings, database), "role": role}),
        dependencies={
            "db_session": Provide(provide_db_session),
            "trail": Provide(provide_trail, sync_to_thread=False),
        },
        middleware=[request_id_middleware, auth_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        compression_config=compression(),
        before_send=[security_headers],
        plugins=[StrictJsonPydanticPlugin()],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="Probity",
            version=VERSION,
            path="/schema",
            # the JSON only, at /schema and /schema/openapi.json: every docs UI Litestar offers
            # loads its scripts from a CDN, which the CSP (and a closed network) would refuse
            render_plugins=[ContractJsonPlugin()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
