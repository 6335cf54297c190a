"""Role guards of interview and check-sheet routes. Nothing exists here, so in-role callers get 404
for single objects; scope (in and out of the unit) is tested with real records in test_*.py."""

from tests.access.matrix import Case, everyone
from tests.interviews.conftest import png

MISSING = 999999
RECORDERS_404 = {"inspector": 404, "head": 404}
SIGNATURE = png()


def record(i):
    return {
        "client_id": "access-matrix-interview-1",
        "person_id": i.person["manager"],
        "warning_ids": [MISSING],
        "interviewer_ids": [i.person["head"], i.person["inspector"]],
        "held_at": "2026-11-20T10:00",
        "place": "room",
        **dict.fromkeys(
            ("q_true", "q_cause", "q_integrity", "c_collaboration", "c_control", "c_education"), "text"
        ),
        "suggestion": "text",
        "follow_up": "text",
        "signatures": [],
    }


SHEET = {
    "risk_description": "d",
    "check_result": "r",
    "possible_risk": "p",
    "control_requirements": "c",
    "head_opinion": "o",
}

CASES = [
    Case("GET", "/api/interviews", lambda i: "/api/interviews", everyone(200)),
    Case("POST", "/api/interviews", lambda i: "/api/interviews", RECORDERS_404, body=record),
    Case(
        "POST",
        "/api/interviews/signatures",
        lambda i: "/api/interviews/signatures",
        {"inspector": 201, "head": 201},
        files={"file": ("s.png", SIGNATURE, "image/png")},
    ),
    Case(
        "GET",
        "/api/interviews/ratio",
        lambda i: "/api/interviews/ratio?period=2026-11",
        {"committee": 200, "inspector": 200, "head": 200},
    ),
    Case("GET", "/api/interviews/{interview_id:int}", lambda i: f"/api/interviews/{MISSING}", everyone(404)),
    Case(
        "GET",
        "/api/interviews/{interview_id:int}/pdf",
        lambda i: f"/api/interviews/{MISSING}/pdf",
        everyone(404),
    ),
    Case(
        "GET",
        "/api/interviews/{interview_id:int}/signatures/{signature_id:int}",
        lambda i: f"/api/interviews/{MISSING}/signatures/1",
        everyone(404),
    ),
    Case("GET", "/api/check-sheets", lambda i: "/api/check-sheets", everyone(200)),
    Case(
        "POST",
        "/api/check-sheets",
        lambda i: f"/api/check-sheets?warning_id={MISSING}",
        RECORDERS_404,
        body=lambda i: SHEET,
    ),
    Case("GET", "/api/check-sheets/{sheet_id:int}", lambda i: f"/api/check-sheets/{MISSING}", everyone(404)),
    Case(
        "POST",
        "/api/check-sheets/{sheet_id:int}/unit-opinion",
        lambda i: f"/api/check-sheets/{MISSING}/unit-opinion",
        RECORDERS_404,
        body=lambda i: {"opinion": "agreed"},
    ),
    Case(
        "GET",
        "/api/check-sheets/{sheet_id:int}/pdf",
        lambda i: f"/api/check-sheets/{MISSING}/pdf",
        everyone(404),
    ),
]
