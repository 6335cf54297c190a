"""DingTalk's server APIs, spoken over HTTP directly (a private deployment, 专属钉钉, has its own hosts).

* ``oapi`` host (``api_base``): ``/gettoken`` (AppKey + AppSecret → the app's token, cached, fetched
  again once on 40014 / 42001), work notices ``/topapi/message/corpconversation/asyncsend_v2``
  (an ``action_card`` to one user id), ``/topapi/v2/user/getbymobile`` (a user id by mobile number)
  and ``/topapi/user/getbyunionid`` (SSO: the person behind a sign-in).
* login host (``oauth_base``): ``/oauth2/auth`` — the sign-in page; inside DingTalk's browser it
  comes straight back with an ``authCode`` (免登).
* newer API host (``open_api_base``): ``/v1.0/oauth2/userAccessToken`` (the code → a user token)
  and ``/v1.0/contact/users/me`` (the user token → their union id).

DingTalk delivers the same content to the same person once a day: a card sent again after a
crash is the same card (its buttons carry the delivery's own links), so DingTalk drops the repeat.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from backend.messenger.client import BaseClient, MessengerError

PUBLIC_API = "https://oapi.dingtalk.com"
PUBLIC_OPEN_API = "https://api.dingtalk.com"
PUBLIC_OAUTH = "https://login.dingtalk.com"


class DingTalkError(MessengerError):
    service = "DingTalk"


class DingTalkClient(BaseClient):
    error = DingTalkError

    @property
    def _key(self) -> str:
        return self.app.app_key or self.app.corp_id

    async def _fetch_token(self) -> tuple[str, float]:
        body = await self._get_json(
            "GET",
            self.app.api_base.rstrip("/") + "/gettoken",
            params={"appkey": self._key, "appsecret": self.app.secret},
        )
        if body.get("errcode", 0) != 0 or not body.get("access_token"):
            raise DingTalkError(body.get("errcode"), str(body.get("errmsg", ""))[:120])
        return str(body["access_token"]), float(body.get("expires_in", 7200))

    async def send_card(self, user_id: str, card: dict[str, Any]) -> dict[str, Any]:
        """A work notice (工作通知) with an action card to one person."""
        return await self.call(
            "POST",
            "/topapi/message/corpconversation/asyncsend_v2",
            json={
                "agent_id": int(self.app.agent_id) if self.app.agent_id.isdigit() else self.app.agent_id,
                "userid_list": user_id,
                "msg": {"msgtype": "action_card", "action_card": card},
            },
        )

    async def user_id_by_mobile(self, mobile: str) -> str | None:
        try:
            body = await self.call("POST", "/topapi/v2/user/getbymobile", json={"mobile": mobile})
        except DingTalkError as exc:
            if exc.errcode in (60121, 33012):
                return None
            raise
        user_id = (body.get("result") or {}).get("userid")
        return str(user_id) if user_id else None

    async def user_of_code(self, code: str) -> str | None:
        """免登: the sign-in's code → a user token → the union id → the corp's user id
        (``None``: not a member of the corp)."""
        open_api = (self.app.open_api_base or PUBLIC_OPEN_API).rstrip("/")
        granted = await self._get_json(
            "POST",
            open_api + "/v1.0/oauth2/userAccessToken",
            json={
                "clientId": self._key,
                "clientSecret": self.app.secret,
                "code": code,
                "grantType": "authorization_code",
            },
        )
        user_token = granted.get("accessToken")
        if not user_token:
            raise DingTalkError(-4, "the sign-in code was not accepted")
        me = await self._get_json(
            "GET",
            open_api + "/v1.0/contact/users/me",
            headers={"x-acs-dingtalk-access-token": str(user_token)},
        )
        union_id = me.get("unionId")
        if not union_id:
            return None
        try:
            found = await self.call("POST", "/topapi/user/getbyunionid", json={"unionid": str(union_id)})
        except DingTalkError as exc:
            if exc.errcode in (60121, 33012):
                return None
            raise
        user_id = (found.get("result") or {}).get("userid")
        return str(user_id) if user_id else None

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return (
            f"{self.app.oauth_base.rstrip('/')}/oauth2/auth?redirect_uri={quote(redirect_uri, safe='')}"
            f"&response_type=code&client_id={quote(self._key)}&scope=openid&state={state}&prompt=consent"
        )
