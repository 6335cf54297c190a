"""WeCom's server API, spoken over HTTP directly (a private deployment has its own host).

The access token is fetched with the app's secret (``/cgi-bin/gettoken``), cached per app until a
little before it expires, and fetched again once when WeCom answers that it expired or is invalid
(errcode 40014 / 42001); it is never logged, and no error text carries a URL (where it travels).

Calls used: ``message/send`` (template cards, with WeCom's duplicate check so a card sent again
after a crash is dropped by WeCom), ``message/update_template_card`` (after a press),
``user/getuserid`` (a user id by mobile number) and ``auth/getuserinfo`` (SSO: OAuth code → user).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from backend.messenger.client import (
    TOKEN_ERRORS,
    UNKNOWN_USER,
    AppKeys,
    BaseClient,
    MessengerError,
    TokenCache,
)

__all__ = ["TOKEN_ERRORS", "UNKNOWN_USER", "AppKeys", "TokenCache", "WeComClient", "WeComError"]

PUBLIC_API = "https://qyapi.weixin.qq.com"
PUBLIC_OAUTH = "https://open.weixin.qq.com"
#: WeCom drops a card with the same content (task id included) within this many seconds
DUPLICATE_CHECK_SECONDS = 4 * 3600


class WeComError(MessengerError):
    service = "WeCom"


class WeComClient(BaseClient):
    error = WeComError

    async def _fetch_token(self) -> tuple[str, float]:
        body = await self._get_json(
            "GET",
            self.app.api_base.rstrip("/") + "/cgi-bin/gettoken",
            params={"corpid": self.app.corp_id, "corpsecret": self.app.secret},
        )
        if body.get("errcode", 0) != 0 or not body.get("access_token"):
            raise WeComError(body.get("errcode"), str(body.get("errmsg", ""))[:120])
        return str(body["access_token"]), float(body.get("expires_in", 7200))

    # --- the calls Probity makes ----------------------------------------------------------
    async def send_card(self, user_id: str, card: dict[str, Any]) -> dict[str, Any]:
        """A template card to one person; WeCom's duplicate check drops a repeat of the same card."""
        body = await self.call(
            "POST",
            "/cgi-bin/message/send",
            json={
                "touser": user_id,
                "msgtype": "template_card",
                "agentid": int(self.app.agent_id) if self.app.agent_id.isdigit() else self.app.agent_id,
                "template_card": card,
                "enable_id_trans": 0,
                "enable_duplicate_check": 1,
                "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
            },
        )
        if body.get("invaliduser"):
            raise WeComError(81013, "the user id is not in the corp")
        return body

    async def update_card(self, user_id: str, response_code: str, card: dict[str, Any]) -> None:
        await self.call(
            "POST",
            "/cgi-bin/message/update_template_card",
            json={
                "userids": [user_id],
                "agentid": int(self.app.agent_id) if self.app.agent_id.isdigit() else self.app.agent_id,
                "response_code": response_code,
                "template_card": card,
            },
        )

    async def user_id_by_mobile(self, mobile: str) -> str | None:
        try:
            body = await self.call("POST", "/cgi-bin/user/getuserid", json={"mobile": mobile})
        except WeComError as exc:
            if exc.errcode in UNKNOWN_USER:
                return None
            raise
        user_id = body.get("userid")
        return str(user_id) if user_id else None

    async def user_of_code(self, code: str) -> str | None:
        """SSO: the member an OAuth code stands for (``None``: not a member of the corp)."""
        body = await self.call("GET", "/cgi-bin/auth/getuserinfo", params={"code": code})
        user_id = body.get("userid") or body.get("UserId")
        return str(user_id) if user_id else None

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """The OAuth page WeCom's browser opens (``snsapi_base``: silent, user id only)."""
        return (
            f"{self.app.oauth_base.rstrip('/')}/connect/oauth2/authorize?appid={quote(self.app.corp_id)}"
            f"&redirect_uri={quote(redirect_uri, safe='')}&response_type=code&scope=snsapi_base"
            f"&state={state}&agentid={quote(self.app.agent_id)}#wechat_redirect"
        )
