"""A local WeCom on 127.0.0.1 speaking the documented server API, and WeCom's side of callbacks.

Endpoints: ``/cgi-bin/gettoken``, ``/cgi-bin/message/send``, ``/cgi-bin/message/update_template_card``,
``/cgi-bin/user/getuserid`` (by mobile), ``/cgi-bin/auth/getuserinfo`` (OAuth code → user id) and
the OAuth page ``/connect/oauth2/authorize`` as WeCom's in-app browser sees it (silent for
``snsapi_base``: straight back to the app with a code for the member using the phone).

Tokens expire when the test says so (:meth:`FakeWeCom.expire_tokens`): a call with an expired one
gets errcode 42001, an unknown one 40014, as WeCom answers. Callbacks are made as WeCom makes them
(:meth:`FakeWeCom.callback`): the event XML encrypted with the app's EncodingAESKey, signed with
its token, with a timestamp and a nonce.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from backend.messenger.crypto import WeComCrypto
from tests.messenger.fake_base import FakeMessenger

CORP_ID = "wwprobitytest0001"
AGENT_ID = "1000002"
SECRET = "fake-wecom-app-secret-0123456789"
TOKEN = "CallbackToken0123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@dataclass
class FakeWeCom(FakeMessenger):
    corp_id: str = CORP_ID
    secret: str = SECRET

    def __post_init__(self) -> None:
        super().__post_init__()
        self.crypto = WeComCrypto(TOKEN, AES_KEY, self.corp_id)
        r = self.app.router
        r.add_get("/cgi-bin/gettoken", self.gettoken)
        r.add_post("/cgi-bin/message/send", self.send)
        r.add_post("/cgi-bin/message/update_template_card", self.update_card)
        r.add_post("/cgi-bin/user/getuserid", self.getuserid)
        r.add_get("/cgi-bin/auth/getuserinfo", self.getuserinfo)
        r.add_get("/connect/oauth2/authorize", self.authorize)

    @property
    def updates(self) -> list[dict[str, Any]]:
        return [c.body for c in self.of("/cgi-bin/message/update_template_card")]

    # --- the API ----------------------------------------------------------------------------
    async def gettoken(self, request: web.Request) -> web.Response:
        await self._record(request)
        if request.query.get("corpid") != self.corp_id or request.query.get("corpsecret") != self.secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        token = self.issue_token()
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (refused := self._token_error(request)) is not None:
            return refused
        if body.get("msgtype") != "template_card" or "template_card" not in body:
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if body["touser"] not in self.members:
            return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": body["touser"]})
        self.delivered.append(body)
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "msgid": f"m{next(self._seq)}",
                "response_code": f"rc{next(self._seq)}",
            }
        )

    async def update_card(self, request: web.Request) -> web.Response:
        await self._record(request)
        if (refused := self._token_error(request)) is not None:
            return refused
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    async def getuserid(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (refused := self._token_error(request)) is not None:
            return refused
        user = self.mobiles.get(str(body.get("mobile", "")))
        if user is None:
            return web.json_response({"errcode": 46004, "errmsg": "user no exist"})
        return web.json_response({"errcode": 0, "errmsg": "ok", "userid": user})

    async def getuserinfo(self, request: web.Request) -> web.Response:
        await self._record(request)
        if (refused := self._token_error(request)) is not None:
            return refused
        user = self.codes.pop(request.query.get("code", ""), None)
        if user is None:
            return web.json_response({"errcode": 40029, "errmsg": "invalid code"})
        if user not in self.members:  # not a member of the corp: an openid only
            return web.json_response({"errcode": 0, "errmsg": "ok", "openid": f"o-{user}"})
        return web.json_response({"errcode": 0, "errmsg": "ok", "userid": user, "user_ticket": "t"})

    async def authorize(self, request: web.Request) -> web.Response:
        """WeCom's browser: ``snsapi_base`` is silent — back to the app at once with a code."""
        await self._record(request)
        q = request.query
        if (
            q.get("appid") != self.corp_id
            or q.get("scope") != "snsapi_base"
            or q.get("response_type") != "code"
        ):
            return web.Response(status=400, text="bad OAuth request")
        code = self.issue_code()
        back = q["redirect_uri"]
        raise web.HTTPFound(
            f"{back}{'&' if '?' in back else '?'}{urlencode({'code': code, 'state': q.get('state', '')})}"
        )

    # --- WeCom's side of a callback -----------------------------------------------------------
    def press_xml(
        self, user_id: str, key: str, *, task_id: str = "task", response_code: str = "rc-press"
    ) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{user_id}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[template_card_event]]></Event>"
            f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
            "<CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode>"
            f"<AgentID>{AGENT_ID}</AgentID></xml>"
        )

    def callback(
        self,
        plain: str,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        signature: str | None = None,
        crypto: WeComCrypto | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The query and body WeCom posts for an event (signed and encrypted as WeCom does)."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(6)
        encrypted, signed = (crypto or self.crypto).seal(plain, stamp, nonce)
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
        )
        query = {"msg_signature": signature or signed, "timestamp": stamp, "nonce": nonce}
        return query, body.encode()

    def verification(
        self, echo: str, *, timestamp: int | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(6)
        encrypted, signed = self.crypto.seal(echo, stamp, nonce)
        return {"msg_signature": signed, "timestamp": stamp, "nonce": nonce, "echostr": encrypted}
