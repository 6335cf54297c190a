"""Sign-in, refresh, sign-out, password change, who am I; account administration."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
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
    RefreshRequest,
    TokenResponse,
)
from backend.auth.service import AuthService
from backend.kernel.access import Principal, Role, requires
from backend.kernel.web import request_channel, request_id


async def provide_auth(db_session: NamedDependency[AsyncSession], state: State) -> AuthService:
    return AuthService(db_session, state.settings, state.trail, state.hasher)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]
    dependencies = {"auth": Provide(provide_auth)}

    @post("/login", status_code=200, summary="Sign in: access token plus refresh token")
    async def login(
        self,
        data: JSONBody[LoginRequest],
        auth: NamedDependency[AuthService],
        request: Request[Any, Any, Any],
    ) -> TokenResponse:
        return await auth.login(
            data.username,
            data.password,
            channel=request_channel(request.headers),
            request_id=request_id(request),
        )

    @post("/refresh", status_code=200, summary="Trade a refresh token for new tokens (rotating)")
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

    @post("/password", status_code=204, guards=[requires()], summary="Change my password")
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        auth: NamedDependency[AuthService],
        request: Request[Principal, Any, Any],
    ) -> None:
        await auth.change_password(request.user, data.current_password, data.new_password)


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
        account = await auth.create_account(data, request.user.actor)
        return AccountPublic.model_validate(account, from_attributes=True)

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
        return AccountPublic.model_validate(account, from_attributes=True)

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
        account = await auth.reset_password(account_id, data.new_password, request.user.actor)
        return AccountPublic.model_validate(account, from_attributes=True)
