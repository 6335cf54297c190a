"""Authenticate every ``/api`` request (but sign-in and refresh) and set ``request.user``."""

from __future__ import annotations

from litestar.datastructures import Headers
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.auth.service import facts_of, principal_from, signed_in_account
from backend.kernel.errors import Forbidden, Unauthorized
from backend.kernel.watch import acting_person
from backend.kernel.web import request_channel, request_id

PUBLIC_PATHS = frozenset(
    {"/api/auth/login", "/api/auth/refresh", "/api/auth/login/totp", "/api/auth/login/totp/setup"}
)
#: all an account whose password must be changed may call (besides sign-in and refresh)
WHILE_MUST_CHANGE = frozenset({"/api/auth/me", "/api/auth/password", "/api/auth/logout"})


#: routes anyone may call without an account (the public intake form)
PUBLIC_PREFIX = "/api/public/"


def needs_auth(path: str) -> bool:
    if path.startswith(PUBLIC_PREFIX):
        return False
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
            # no ORM session: its close is a task the loop must come back for, a request's worth of wait
            facts = (
                await facts_of(state.db.engine, state.facts_cache, account.person_id)
                if account.active
                else None
            )
            scope["user"] = principal_from(
                account, facts, session_id, request_channel(headers), request_id(scope)
            )
            if account.must_change_password and scope["path"].rstrip("/") not in WHILE_MUST_CHANGE:
                raise Forbidden(
                    "Change your password first (POST /api/auth/password).", code="password_change_required"
                )
            if account.person_id is not None:
                # what kept pages the request's own writes end (backend/kernel/watch.py)
                with acting_person(account.person_id):
                    await app(scope, receive, send)
                return
        await app(scope, receive, send)

    return middleware
