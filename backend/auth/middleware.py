"""Authenticate every ``/api`` request (but sign-in and refresh) and set ``request.user``."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware

from backend.auth.service import AuthService
from backend.kernel.errors import Unauthorized
from backend.kernel.web import request_channel, request_id

PUBLIC_PATTERNS = [r"^/(?!api(/|$))", r"^/api/auth/login/?$", r"^/api/auth/refresh/?$"]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send 'Authorization: Bearer <access token>'; sign in at /api/auth/login.",
                               code="not_authenticated")
        state = connection.app.state
        async with state.db.session() as session:
            service = AuthService(session, state.settings, state.trail, state.hasher)
            principal = await service.principal_for(
                token.strip(), channel=request_channel(Headers.from_scope(connection.scope)),
                request_id=request_id(connection.scope))
        return AuthenticationResult(user=principal, auth=token)


def auth_middleware() -> DefineMiddleware:
    return DefineMiddleware(BearerAuthMiddleware, exclude=PUBLIC_PATTERNS)
