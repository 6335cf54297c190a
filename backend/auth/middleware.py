"""Authenticate every ``/api`` request (but sign-in and refresh) and set ``request.user``."""

from __future__ import annotations

from litestar.datastructures import Headers
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.auth.service import AuthService
from backend.kernel.errors import Unauthorized
from backend.kernel.web import request_channel, request_id

PUBLIC_PATHS = frozenset({"/api/auth/login", "/api/auth/refresh"})


def needs_auth(path: str) -> bool:
    path = path.rstrip("/") or "/"
    return (path == "/api" or path.startswith("/api/")) and path not in PUBLIC_PATHS


def auth_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and needs_auth(scope["path"]):
            headers = Headers.from_scope(scope)
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(
                    "Send 'Authorization: Bearer <access token>'; sign in at /api/auth/login.",
                    code="not_authenticated",
                )
            state = scope["litestar_app"].state
            async with state.db.session() as session:
                service = AuthService(session, state.settings, state.trail, state.hasher, state.facts_cache)
                scope["user"] = await service.principal_for(
                    token.strip(), channel=request_channel(headers), request_id=request_id(scope)
                )
        await app(scope, receive, send)

    return middleware
