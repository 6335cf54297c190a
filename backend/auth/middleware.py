"""Authenticate every ``/api`` request (but sign-in and refresh) and set ``request.user``."""

from __future__ import annotations

from litestar.datastructures import Headers
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.auth.service import AuthService, principal_from, signed_in_account
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
            account, session_id = await signed_in_account(state.db.engine, state.settings, token.strip())
            channel, rid = request_channel(headers), request_id(scope)
            facts = state.facts_cache.get(account.person_id) if account.active else None
            if facts is not None:  # the common case: no session, no service
                scope["user"] = principal_from(account, facts, session_id, channel, rid)
            else:
                async with state.db.session() as session:
                    service = AuthService(
                        session, state.settings, state.trail, state.hasher, state.facts_cache
                    )
                    scope["user"] = await service.principal(account, session_id, channel, rid)
        await app(scope, receive, send)

    return middleware
