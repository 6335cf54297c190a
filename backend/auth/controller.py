"""Sign-in, refresh, sign-out, password change, who am I; account administration."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.models import (
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    LoginRequest,
    Me,
    PasswordChange,
    PasswordReset,
    RecoveryCodes,
    RefreshRequest,
    SecondFactorReset,
    SecondFactorStep,
    TokenResponse,
    TotpChallengeOnly,
    TotpCode,
    TotpDisable,
    TotpLogin,
    TotpSetup,
    TotpStatus,
)
from backend.auth.service import AuthService
from backend.auth.throttle import client_address
from backend.kernel.access import Principal, Role, requires
from backend.kernel.errors import AppError
from backend.kernel.web import request_channel, request_id


def json_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard (it runs before the body is read): passwords and tokens come as JSON only; a form
    or text/plain body (what another site's page can send without asking) is refused with 415."""
    kind = connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise AppError(
            "Send this as JSON (Content-Type: application/json).", code="unsupported_media_type", status=415
        )


async def provide_auth(db_session: NamedDependency[AsyncSession], state: State) -> AuthService:
    return AuthService(db_session, state.settings, state.trail, state.hasher)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]
    dependencies = {"auth": Provide(provide_auth)}

    @post("/login", status_code=200, guards=[json_only], summary="Sign in: access token plus refresh token")
    async def login(
        self,
        data: JSONBody[LoginRequest],
        auth: NamedDependency[AuthService],
        request: Request[Any, Any, Any],
    ) -> TokenResponse | SecondFactorStep:
        return await auth.login(
            data.username,
            data.password,
            channel=request_channel(request.headers),
            request_id=request_id(request),
            address=client_address(request.scope, auth.settings),
        )

    @post(
        "/login/totp",
        status_code=200,
        guards=[json_only],
        summary="Second step of a sign-in: the challenge and a code (or a recovery code)",
    )
    async def login_totp(
        self,
        data: JSONBody[TotpLogin],
        auth: NamedDependency[AuthService],
        request: Request[Any, Any, Any],
    ) -> TokenResponse:
        return await auth.login_totp(
            data.challenge,
            data.code,
            channel=request_channel(request.headers),
            request_id=request_id(request),
            address=client_address(request.scope, auth.settings),
        )

    @post(
        "/login/totp/setup",
        status_code=200,
        guards=[json_only],
        summary="Enrolment required at sign-in: a new TOTP secret for the challenge's account",
    )
    async def login_totp_setup(
        self,
        data: JSONBody[TotpChallengeOnly],
        auth: NamedDependency[AuthService],
        request: Request[Any, Any, Any],
    ) -> TotpSetup:
        return await auth.login_setup(
            data.challenge, channel=request_channel(request.headers), request_id=request_id(request)
        )

    @get("/totp", guards=[requires()], summary="My second factor: active, pending, required")
    async def totp_status(
        self, auth: NamedDependency[AuthService], request: Request[Principal, Any, Any]
    ) -> TotpStatus:
        return await auth.totp_status(request.user)

    @post(
        "/totp/setup", status_code=200, guards=[requires()], summary="Start TOTP enrolment (not active yet)"
    )
    async def totp_setup(
        self, auth: NamedDependency[AuthService], request: Request[Principal, Any, Any]
    ) -> TotpSetup:
        return await auth.totp_setup(request.user.account_id, request.user.actor)

    @post(
        "/totp/activate",
        status_code=200,
        guards=[requires(), json_only],
        summary="Confirm TOTP with a current code: active, with recovery codes shown once",
    )
    async def totp_activate(
        self,
        data: JSONBody[TotpCode],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> RecoveryCodes:
        return await auth.totp_activate(request.user.account_id, data.code, request.user.actor)

    @post(
        "/totp/disable",
        status_code=204,
        guards=[requires(), json_only],
        summary="Turn TOTP off (the password and a code)",
    )
    async def totp_disable(
        self,
        data: JSONBody[TotpDisable],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> None:
        await auth.totp_disable(
            request.user, data.password, data.code, address=client_address(request.scope, auth.settings)
        )

    @post(
        "/refresh",
        status_code=200,
        guards=[json_only],
        summary="Trade a refresh token for new tokens (rotating)",
    )
    async def refresh(
        self,
        data: JSONBody[RefreshRequest],
        auth: NamedDependency[AuthService],
        request: Request[Any, Any, Any],
    ) -> TokenResponse:
        return await auth.refresh(
            data.refresh_token, channel=request_channel(request.headers), request_id=request_id(request)
        )

    @post("/logout", status_code=204, guards=[requires()], summary="End this session")
    async def logout(self, auth: NamedDependency[AuthService], request: Request[Principal, Any, Any]) -> None:
        await auth.logout(request.user)

    @get("/me", guards=[requires()], summary="Who am I")
    async def me(self, auth: NamedDependency[AuthService], request: Request[Principal, Any, Any]) -> Me:
        return await auth.me(request.user)

    @post("/password", status_code=204, guards=[requires(), json_only], summary="Change my password")
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> None:
        await auth.change_password(
            request.user,
            data.current_password,
            data.new_password,
            address=client_address(request.scope, auth.settings),
        )


class AccountController(Controller):
    path = "/api/accounts"
    tags = ["accounts"]
    guards = [requires(Role.admin)]
    dependencies = {"auth": Provide(provide_auth)}

    @get("/", summary="All accounts (admin)")
    async def list_accounts(self, auth: NamedDependency[AuthService]) -> list[AccountPublic]:
        return await auth.list_accounts()

    @post("/", summary="Give a person an account (admin)")
    async def create_account(
        self,
        data: JSONBody[AccountCreate],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> AccountPublic:
        return auth.public(await auth.create_account(data, request.user.actor))

    @patch("/{account_id:int}", summary="Enable or disable an account (admin); disabling ends its sessions")
    async def update_account(
        self,
        account_id: FromPath[int],
        data: JSONBody[AccountUpdate],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> AccountPublic:
        account = await auth.get_account(account_id)
        if data.active is not None:
            account = await auth.set_active(account_id, data.active, request.user.actor)
        return auth.public(account)

    @post(
        "/{account_id:int}/password",
        status_code=200,
        summary="Set a new password; the person must change it (admin)",
    )
    async def reset_password(
        self,
        account_id: FromPath[int],
        data: JSONBody[PasswordReset],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> AccountPublic:
        return auth.public(await auth.reset_password(account_id, data.new_password, request.user.actor))

    @post(
        "/{account_id:int}/second-factor/reset",
        status_code=200,
        summary="Remove a person's lost second factor and end their sessions (admin; not one's own)",
    )
    async def reset_second_factor(
        self,
        account_id: FromPath[int],
        data: JSONBody[SecondFactorReset],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> AccountPublic:
        return auth.public(await auth.reset_second_factor(account_id, data.reason, request.user.actor))
