from __future__ import annotations

from tests.access.matrix import Case, everyone
from tests.messenger.fake_wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN

NOBODY = 999_999
APP = {"corp_id": CORP_ID, "agent_id": AGENT_ID, "secret": SECRET, "token": TOKEN, "aes_key": AES_KEY}

CASES = [
    Case("GET", "/api/messenger/me", lambda i: "/api/messenger/me", everyone(200), note="own bindings only"),
    Case("GET", "/api/messenger/apps", lambda i: "/api/messenger/apps", {"admin": 200}),
    Case(
        "PUT",
        "/api/messenger/units/{unit_id:int}/{provider:str}",
        lambda i: f"/api/messenger/units/{i.unit['C01']}/wecom",
        {"admin": 200},
        body=lambda i: APP,
    ),
    Case(
        "POST",
        "/api/messenger/apps/{app_id:int}/match-by-mobile",
        lambda i: f"/api/messenger/apps/{NOBODY}/match-by-mobile",
        {"admin": 404},
        note="no such app",
    ),
]
