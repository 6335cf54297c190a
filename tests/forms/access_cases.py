"""Role guards of the forms' routes. Nothing exists here, so in-role callers get 404 for single
objects; scope and sign-off order are tested with real forms in test_*.py."""

from tests.access.matrix import Case, everyone

MISSING = 999999
STAFF = ("admin", "committee", "inspector", "head")


def staff(status: int) -> dict[str, int]:
    return dict.fromkeys(STAFF, status)


THRESHOLDS = {"measure": "zero_days", "direction": "above", "high": 3, "medium": 2, "low": 1}

CASES = [
    Case("GET", "/api/forms/b3/pdf", lambda i: "/api/forms/b3/pdf", staff(200)),
    Case("GET", "/api/forms/b3/xlsx", lambda i: "/api/forms/b3/xlsx", staff(200)),
    Case("GET", "/api/forms", lambda i: "/api/forms?pending=true", staff(200)),
    Case("GET", "/api/forms/{form_id:int}", lambda i: f"/api/forms/{MISSING}", staff(404)),
    Case(
        "POST",
        "/api/forms/{form_id:int}/steps/{position:int}",
        lambda i: f"/api/forms/{MISSING}/steps/0",
        staff(404),
        body=lambda i: {"approve": True, "opinion": "同意"},
    ),
    Case("GET", "/api/forms/{form_id:int}/pdf", lambda i: f"/api/forms/{MISSING}/pdf", staff(404)),
    Case("GET", "/api/forms/{form_id:int}/xlsx", lambda i: f"/api/forms/{MISSING}/xlsx", staff(404)),
    Case(
        "POST",
        "/api/forms/b13",
        lambda i: "/api/forms/b13",
        staff(404),
        body=lambda i: {"linked_id": MISSING, "possible_risk": "p", "requirements": "r"},
    ),
    Case(
        "POST",
        "/api/forms/b14",
        lambda i: "/api/forms/b14",
        staff(404),
        body=lambda i: {"linked_id": MISSING, "confirmation": "c", "cause": "c", "measures": "m"},
    ),
    Case(
        "POST",
        "/api/forms/b11",
        lambda i: "/api/forms/b11",
        {**staff(403), "head": 404},
        body=lambda i: {"topic_id": MISSING, "thresholds": THRESHOLDS, "reason": "r"},
    ),
    Case(
        "POST",
        "/api/forms/b7",
        lambda i: "/api/forms/b7",
        {**staff(403), "head": 404},
        body=lambda i: {"topic_id": MISSING, "reason": "r"},
    ),
    Case(
        "POST",
        "/api/forms/b8",
        lambda i: "/api/forms/b8",
        {**staff(403), "admin": 404},
        body=lambda i: {"topic_id": MISSING, "unit_id": MISSING, "reason": "r", "exit_on": "2027-01-01"},
    ),
    Case(
        "POST",
        "/api/forms/b5",
        lambda i: "/api/forms/b5",
        staff(201),
        body=lambda i: {"topic": "t", "goal": "g"},
    ),
    Case(
        "POST",
        "/api/forms/b6",
        lambda i: "/api/forms/b6",
        staff(403),
        body=lambda i: {
            "unit_id": MISSING,
            "items": [{"risk_point": "r", "tier": "t", "description": "d"}],
        },
    ),
    Case(
        "POST",
        "/api/forms/b9",
        lambda i: "/api/forms/b9",
        {**staff(403), "head": 400},
        body=lambda i: {"employee_no": "E9999", "username": "nobody", "permission": "p", "reason": "r"},
    ),
    Case(
        "GET",
        "/api/forms/ladder/{case_id:int}/{doc:str}/pdf",
        lambda i: f"/api/forms/ladder/{MISSING}/notice/pdf",
        everyone(404),
    ),
]
