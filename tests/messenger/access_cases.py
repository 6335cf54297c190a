from tests.access.matrix import Case, everyone

CASES = [
    Case("GET", "/api/messenger/me", lambda i: "/api/messenger/me", everyone(200)),
    Case("GET", "/api/messenger/apps", lambda i: "/api/messenger/apps", {"admin": 200}),
    Case(
        "PUT",
        "/api/messenger/units/{unit_id:int}/{provider:str}",
        lambda i: f"/api/messenger/units/{i.unit['C01']}/wecom",
        {"admin": 200},
        body=lambda i: {"corp_id": "ww-matrix", "agent_id": "1000002", "secret": "matrix-secret"},
    ),
    Case(
        "POST",
        "/api/messenger/apps/{app_id:int}/match-by-mobile",
        lambda i: "/api/messenger/apps/999999/match-by-mobile",
        {"admin": 404},
        note="no such app",
    ),
]
