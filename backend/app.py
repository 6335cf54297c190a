"""``create_app(settings)``: the Litestar application. Feature controllers are discovered.

Every ``backend/<feature>/controller.py`` contributes its ``Controller`` subclasses; adding a
feature adds a folder, not a line here.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Controller, Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from sqlalchemy import text

import backend
from backend.audit.controller import provide_trail
from backend.audit.service import AuditTrail
from backend.auth.middleware import auth_middleware
from backend.auth.service import make_facts_cache, make_hasher
from backend.kernel.db import Database
from backend.kernel.discovery import feature_modules
from backend.kernel.jobs import JobRunner, discover_jobs
from backend.kernel.settings import Settings
from backend.kernel.web import EXCEPTION_HANDLERS, provide_db_session, request_id_middleware

VERSION = "0.1.0"
PWA_DIR = Path(backend.__file__).resolve().parent.parent / "pwa"


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
    return {
        "settings": settings,
        "db": database or Database(settings),
        "owns_db": database is None,
        "trail": AuditTrail(settings.secret_key.get_secret_value()),
        "hasher": make_hasher(settings),
        "facts_cache": make_facts_cache(settings),
    }


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Start background workers and jobs with the app (when enabled); close the database after."""
    settings: Settings = app.state.settings
    db: Database = app.state.db
    workers = None
    jobs = JobRunner(db, settings, discover_jobs())
    if settings.run_workers:
        from notifications.worker import start_workers

        workers = await start_workers(app)
        jobs.start()
    from bot.runtime import start_bot

    telegram_bot = await start_bot(app)
    try:
        yield
    finally:
        if telegram_bot is not None:
            await telegram_bot.stop()
        await jobs.stop()
        if workers is not None:
            await workers.stop()
        if app.state.owns_db:
            await db.dispose()


def create_app(settings: Settings, *, database: Database | None = None) -> Litestar:
    settings.check_secrets()
    logging.basicConfig(level=settings.log_level)

    handlers: list[Any] = [healthz, *discover_controllers()]
    if PWA_DIR.is_dir():
        handlers.append(
            create_static_files_router(
                path="/", directories=[PWA_DIR], html_mode=True, include_in_schema=False, name="pwa"
            )
        )
    return Litestar(
        route_handlers=handlers,
        state=State(app_state(settings, database)),
        dependencies={
            "db_session": Provide(provide_db_session),
            "trail": Provide(provide_trail, sync_to_thread=False),
        },
        middleware=[request_id_middleware, auth_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="Probity",
            version=VERSION,
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
