"""A local DingTalk on 127.0.0.1: the ``oapi`` calls (token, work notice, user by mobile, user by
union id), the newer API's sign-in calls (user token, who am I) and the sign-in page as DingTalk's
own browser sees it (免登: straight back to the app with an ``authCode``), all on one host."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.messenger.fake_base import FakeMessenger

CORP_ID = "dingprobitytest01"
AGENT_ID = "2000001"
APP_KEY = "dingappkeyprobity"
APP_SECRET = "fake-dingtalk-app-secret-0123456789"


@dataclass
class FakeDingTalk(FakeMessenger):
    app_key: str = APP_KEY
    secret: str = APP_SECRET

    def __post_init__(self) -> None:
        super().__post_init__()
        #: a user token handed out at sign-in → whose it is
        self.user_tokens: dict[str, str] = {}
        r = self.app.router
        r.add_get("/gettoken", self.gettoken)
        r.add_post("/topapi/message/corpconversation/asyncsend_v2", self.send)
        r.add_post("/topapi/v2/user/getbymobile", self.getbymobile)
        r.add_post("/topapi/user/getbyunionid", self.getbyunionid)
        r.add_post("/v1.0/oauth2/userAccessToken", self.user_access_token)
        r.add_get("/v1.0/contact/users/me", self.me)
        r.add_get("/oauth2/auth", self.auth)

    def cards_to(self, user_id: str) -> list[dict[str, Any]]:
        return [m["msg"]["action_card"] for m in self.sent if m["userid_list"] == user_id]

    async def gettoken(self, request: web.Request) -> web.Response:
        await self._record(request)
        if request.query.get("appkey") != self.app_key or request.query.get("appsecret") != self.secret:
            return web.json_response({"errcode": 40089, "errmsg": "invalid appkey or appsecret"})
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": self.issue_token(), "expires_in": 7200}
        )

    async def send(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (refused := self._token_error(request)) is not None:
            return refused
        if body.get("msg", {}).get("msgtype") != "action_card":
            return web.json_response({"errcode": 40035, "errmsg": "invalid message"})
        if body.get("userid_list") not in self.members:
            return web.json_response({"errcode": 33012, "errmsg": "invalid userid"})
        self.delivered.append(body)
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "task_id": next(self._seq), "request_id": "r"}
        )

    async def getbymobile(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (refused := self._token_error(request)) is not None:
            return refused
        user = self.mobiles.get(str(body.get("mobile", "")))
        if user is None:
            return web.json_response({"errcode": 60121, "errmsg": "user not found"})
        return web.json_response({"errcode": 0, "errmsg": "ok", "result": {"userid": user}})

    async def getbyunionid(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (refused := self._token_error(request)) is not None:
            return refused
        union = str(body.get("unionid", ""))
        user = union.removeprefix("union-")
        if not union.startswith("union-") or user not in self.members:
            return web.json_response({"errcode": 60121, "errmsg": "user not found"})
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": user}}
        )

    async def user_access_token(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        ok = body.get("clientId") == self.app_key and body.get("clientSecret") == self.secret
        user = self.codes.pop(str(body.get("code", "")), None)
        if not ok or user is None or body.get("grantType") != "authorization_code":
            return web.json_response({"code": "invalidAuthCode", "message": "bad code"}, status=400)
        token = secrets.token_hex(16)
        self.user_tokens[token] = user
        return web.json_response({"accessToken": token, "refreshToken": "r", "expireIn": 7200})

    async def me(self, request: web.Request) -> web.Response:
        await self._record(request)
        user = self.user_tokens.get(request.headers.get("x-acs-dingtalk-access-token", ""))
        if user is None:
            return web.json_response({"code": "InvalidAuthentication", "message": "no"}, status=401)
        return web.json_response({"nick": "someone", "unionId": f"union-{user}", "openId": f"open-{user}"})

    async def auth(self, request: web.Request) -> web.Response:
        """DingTalk's sign-in page inside DingTalk: no question asked, back with an authCode."""
        await self._record(request)
        q = request.query
        if (
            q.get("client_id") != self.app_key
            or q.get("response_type") != "code"
            or q.get("scope") != "openid"
        ):
            return web.Response(status=400, text="bad sign-in request")
        back = q["redirect_uri"]
        query = urlencode({"authCode": self.issue_code(), "state": q.get("state", "")})
        raise web.HTTPFound(f"{back}{'&' if '?' in back else '?'}{query}")
