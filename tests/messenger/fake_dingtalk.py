"""A local DingTalk on 127.0.0.1: the ``oapi`` calls (token, work notice, user by mobile, user by
union id), the newer API's sign-in calls (user token, who am I) and the sign-in page as DingTalk's
own browser sees it (免登: straight back to the app with an ``authCode``), all on one host; and the
interactive card calls with Stream mode: the gateway hands out a WebSocket endpoint and ticket, and
:meth:`FakeDingTalk.press` sends a card press down that connection as DingTalk does (a ``CALLBACK``
frame), waiting for its acknowledgement."""

from __future__ import annotations

import asyncio
import json
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
        r.add_post("/v1.0/card/instances/createAndDeliver", self.deliver)
        r.add_put("/v1.0/card/instances", self.update)
        r.add_post("/v1.0/gateway/connections/open", self.open_connection)
        r.add_get("/stream", self.stream)
        #: interactive cards by outTrackId: who it went to, and its values (changed by updates)
        self.interactive: dict[str, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self.tickets: set[str] = set()
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.pings_answered = 0
        self.loop: asyncio.AbstractEventLoop | None = None

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

    # --- interactive cards and Stream mode --------------------------------------------------
    async def start(self) -> Any:
        self.loop = asyncio.get_running_loop()
        return await super().start()

    def _header_token(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("x-acs-dingtalk-access-token", "")
        if self.always_expired:
            self.expire_tokens()
        if token in self.valid:
            return None
        return web.json_response({"code": "InvalidAuthentication", "message": "token expired"}, status=401)

    async def deliver(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (refused := self._header_token(request)) is not None:
            return refused
        space = str(body.get("openSpaceId", ""))
        user = space.removeprefix("dtv1.card//IM_ROBOT.")
        if not space.startswith("dtv1.card//IM_ROBOT.") or body.get("callbackType") != "STREAM":
            return web.json_response({"code": "param.error", "message": "bad space"}, status=400)
        ok = user in self.members
        if ok:
            self.interactive[str(body["outTrackId"])] = {
                "user": user,
                "template": body.get("cardTemplateId"),
                "params": dict(body["cardData"]["cardParamMap"]),
            }
        result = {"spaceType": "IM_ROBOT", "spaceId": user, "success": ok}
        return web.json_response({"success": True, "result": {"deliverResults": [result]}})

    async def update(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (refused := self._header_token(request)) is not None:
            return refused
        card = self.interactive.get(str(body.get("outTrackId")))
        if card is None:
            return web.json_response({"code": "card.notFound", "message": "no card"}, status=400)
        for user, data in (body.get("privateData") or {}).items():
            card.setdefault("private", {}).setdefault(user, {}).update(data["cardParamMap"])
        if "cardData" in body:
            card["params"].update(body["cardData"]["cardParamMap"])
        self.updates.append(body)
        return web.json_response({"success": True, "result": True})

    async def open_connection(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if body.get("clientId") != self.app_key or body.get("clientSecret") != self.secret:
            return web.json_response({"code": "InvalidClient", "message": "bad client"}, status=401)
        ticket = secrets.token_hex(16)
        self.tickets.add(ticket)
        return web.json_response({"endpoint": f"ws://127.0.0.1:{self.port}/stream", "ticket": ticket})

    async def stream(self, request: web.Request) -> web.WebSocketResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            raise web.HTTPUnauthorized()
        self.tickets.discard(ticket)  # one connection per ticket
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            reply = json.loads(msg.data)
            message_id = reply["headers"]["messageId"]
            if message_id.startswith("ping-"):
                self.pings_answered += reply["data"] == json.dumps({"opaque": message_id})
            self.acks[message_id] = reply
        return ws

    async def _send(self, frame: dict[str, Any]) -> None:
        live = [ws for ws in self.sockets if not ws.closed]
        assert live, "no Stream connection is open"
        await live[-1].send_str(json.dumps(frame))

    def send_frame(self, frame: dict[str, Any]) -> None:
        """Send ``frame`` down the open connection (from the test's thread)."""
        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(self._send(frame), self.loop).result(timeout=10)

    def press_frame(
        self, user_id: str, track: str, key: str, *, message_id: str, corp: str = CORP_ID
    ) -> dict[str, Any]:
        content = {"cardPrivateData": {"actionIds": ["press"], "params": {"key": key}}}
        data = {
            "type": "actionCallback",
            "outTrackId": track,
            "corpId": corp,
            "userId": user_id,
            "content": json.dumps(content),
        }
        return {
            "specVersion": "1.0",
            "type": "CALLBACK",
            "headers": {
                "appId": "app",
                "connectionId": "c1",
                "contentType": "application/json",
                "messageId": message_id,
                "time": "1700000000000",
                "topic": "/v1.0/card/instances/callback",
            },
            "data": json.dumps(data),
        }

    def ping(self, message_id: str) -> None:
        self.send_frame(
            {
                "specVersion": "1.0",
                "type": "SYSTEM",
                "headers": {"contentType": "application/json", "messageId": message_id, "topic": "ping"},
                "data": json.dumps({"opaque": message_id}),
            }
        )
