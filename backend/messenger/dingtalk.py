"""DingTalk's server APIs, spoken over HTTP directly (a private deployment, 专属钉钉, has its own hosts).

* ``oapi`` host (``api_base``): ``/gettoken`` (AppKey + AppSecret → the app's token, cached, fetched
  again once on 40014 / 42001), work notices ``/topapi/message/corpconversation/asyncsend_v2``
  (an ``action_card`` to one user id), ``/topapi/v2/user/getbymobile`` (a user id by mobile number)
  and ``/topapi/user/getbyunionid`` (SSO: the person behind a sign-in).
* login host (``oauth_base``): ``/oauth2/auth`` — the sign-in page; inside DingTalk's browser it
  comes straight back with an ``authCode`` (免登).
* newer API host (``open_api_base``): ``/v1.0/oauth2/userAccessToken`` (the code → a user token)
  and ``/v1.0/contact/users/me`` (the user token → their union id); with a card template, the
  interactive card calls ``/v1.0/card/instances/createAndDeliver`` (a card to one person's chat with
  the app's robot) and ``PUT /v1.0/card/instances`` (the card's values changed after a press), and
  Stream mode's ``/v1.0/gateway/connections/open`` (:mod:`backend.messenger.stream`). These take the
  same app token in the ``x-acs-dingtalk-access-token`` header and answer an expired one with 401.

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
#: Stream mode's topic for interactive card presses
CARD_TOPIC = "/v1.0/card/instances/callback"


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

    @property
    def _open_api(self) -> str:
        return (self.app.open_api_base or PUBLIC_OPEN_API).rstrip("/")

    async def open_call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A call to the newer API with the app's token in its header; a new token and one more
        try when it answers 401 (expired)."""
        for attempt in (1, 2):
            token = await self.token()
            try:
                return await self._get_json(
                    method,
                    self._open_api + path,
                    json=body,
                    headers={"x-acs-dingtalk-access-token": token},
                )
            except DingTalkError as exc:
                if exc.status == 401 and attempt == 1:
                    self.tokens.drop(self.app.cache_key, token)
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def deliver_card(self, user_id: str, track_id: str, params: dict[str, str]) -> None:
        """An interactive card from the app's robot to one person's chat; its presses come back
        through Stream mode. ``track_id`` (the delivery's dedup key) makes a repeat the same card."""
        body = await self.open_call(
            "POST",
            "/v1.0/card/instances/createAndDeliver",
            {
                "cardTemplateId": self.app.card_template_id,
                "outTrackId": track_id,
                "callbackType": "STREAM",
                "cardData": {"cardParamMap": params},
                "openSpaceId": f"dtv1.card//IM_ROBOT.{user_id}",
                "imRobotOpenSpaceModel": {"supportForward": False},
                "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT", "robotCode": self._key},
                "userIdType": 1,
            },
        )
        results = (body.get("result") or {}).get("deliverResults") or []
        if results and not all(r.get("success", True) for r in results):
            raise DingTalkError(33012, "the user id is not in the corp")

    async def update_card(self, track_id: str, user_id: str, params: dict[str, str]) -> None:
        """The card's values as ``user_id`` sees them (what their press did); the others stay, and
        nobody else's view changes (a card's private data, per user)."""
        await self.open_call(
            "PUT",
            "/v1.0/card/instances",
            {
                "outTrackId": track_id,
                "privateData": {user_id: {"cardParamMap": params}},
                "cardUpdateOptions": {"updatePrivateDataByKey": True},
                "userIdType": 1,
            },
        )

    async def open_stream(self) -> tuple[str, str]:
        """Stream mode: a WebSocket endpoint and its one-time ticket for the card presses' topic."""
        body = await self._get_json(
            "POST",
            self._open_api + "/v1.0/gateway/connections/open",
            json={
                "clientId": self._key,
                "clientSecret": self.app.secret,
                "subscriptions": [{"type": "CALLBACK", "topic": CARD_TOPIC}],
                "ua": "probity",
            },
        )
        endpoint, ticket = body.get("endpoint"), body.get("ticket")
        if not endpoint or not ticket:
            raise DingTalkError(-2, "no stream endpoint was given")
        return str(endpoint), str(ticket)

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
        open_api = self._open_api
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
