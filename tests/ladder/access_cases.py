"""Role guards of the ladder routes (no case exists: in-role callers get 404 for a case)."""

from tests.access.matrix import Case, everyone

MISSING = 999999
INSPECTOR_404 = {"inspector": 404}

CASES = [
    Case("GET", "/api/ladder", lambda i: "/api/ladder", everyone(200)),
    Case(
        "POST",
        "/api/ladder",
        lambda i: "/api/ladder",
        {"inspector": 201},
        body=lambda i: {"person_id": i.person["manager"], "subject": "s", "problem": "p"},
    ),
    Case("GET", "/api/ladder/{case_id:int}", lambda i: f"/api/ladder/{MISSING}", everyone(404)),
    Case(
        "POST",
        "/api/ladder/{case_id:int}/answer",
        lambda i: f"/api/ladder/{MISSING}/answer",
        everyone(404),
        body=lambda i: {"client_id": "access-matrix-ladder", "text": "explained"},
    ),
    Case(
        "POST",
        "/api/ladder/{case_id:int}/appeal",
        lambda i: f"/api/ladder/{MISSING}/appeal",
        everyone(404),
        body=lambda i: {"text": "not so"},
    ),
    Case(
        "POST",
        "/api/ladder/{case_id:int}/escalate",
        lambda i: f"/api/ladder/{MISSING}/escalate",
        INSPECTOR_404,
        body=lambda i: {"reason": "no answer"},
    ),
    Case(
        "POST",
        "/api/ladder/{case_id:int}/extend",
        lambda i: f"/api/ladder/{MISSING}/extend",
        INSPECTOR_404,
        body=lambda i: {"until": "2026-12-31", "reason": "r"},
    ),
    Case(
        "POST",
        "/api/ladder/{case_id:int}/visit",
        lambda i: f"/api/ladder/{MISSING}/visit",
        INSPECTOR_404,
        body=lambda i: {"note": "n", "lifted": True},
    ),
    Case(
        "POST",
        "/api/ladder/{case_id:int}/appeals/{appeal_id:int}/answer",
        lambda i: f"/api/ladder/{MISSING}/appeals/1/answer",
        INSPECTOR_404,
        body=lambda i: {"answer": "a", "outcome": "rejected"},
    ),
]
