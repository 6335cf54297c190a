"""Role guards of the warning routes. Scope (in / out of unit) is tested with seeded warnings
in test_inbox.py and test_lifecycle.py; here no warning exists, so in-role callers get 404."""

from tests.access.matrix import Case, everyone

MISSING = 999999
DECIDERS_404 = {"inspector": 404, "head": 404}
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64

CASES = [
    Case("GET", "/api/warnings", lambda i: "/api/warnings", everyone(200)),
    Case(
        "GET",
        "/api/warnings/on-time",
        lambda i: "/api/warnings/on-time",
        {"committee": 200, "inspector": 200, "head": 200},
    ),
    Case("GET", "/api/warnings/{warning_id:int}", lambda i: f"/api/warnings/{MISSING}", everyone(404)),
    Case(
        "POST",
        "/api/warnings/{warning_id:int}/verifications",
        lambda i: f"/api/warnings/{MISSING}/verifications",
        everyone(404),
        body=lambda i: {"client_id": "access-matrix-0001", "result": "not_true", "cause": "checked on site"},
    ),
    Case(
        "POST",
        "/api/warnings/manual",
        lambda i: "/api/warnings/manual",
        {"inspector": 400},
        files={"files": ("a.jpg", JPEG, "image/jpeg")},
        note="inspectors only; the form's fields missing",
    ),
    Case(
        "POST",
        "/api/warnings/{warning_id:int}/photos",
        lambda i: f"/api/warnings/{MISSING}/photos",
        everyone(404),
        files={"file": ("a.jpg", JPEG, "image/jpeg")},
    ),
    Case(
        "GET",
        "/api/warnings/{warning_id:int}/photos/{photo_id:int}",
        lambda i: f"/api/warnings/{MISSING}/photos/1",
        everyone(404),
    ),
    Case(
        "POST",
        "/api/warnings/{warning_id:int}/confirm",
        lambda i: f"/api/warnings/{MISSING}/confirm",
        DECIDERS_404,
    ),
    Case(
        "POST",
        "/api/warnings/{warning_id:int}/return",
        lambda i: f"/api/warnings/{MISSING}/return",
        DECIDERS_404,
        body=lambda i: {"reason": "photos missing"},
    ),
    Case(
        "POST",
        "/api/warnings/{warning_id:int}/close",
        lambda i: f"/api/warnings/{MISSING}/close",
        DECIDERS_404,
    ),
    Case(
        "POST",
        "/api/warnings/{warning_id:int}/urge",
        lambda i: f"/api/warnings/{MISSING}/urge",
        DECIDERS_404,
        body=lambda i: {"note": "请尽快处理"},
        note="who may chase or order supervision of a warning in scope: tests/warnings/test_urging.py",
    ),
    Case(
        "GET",
        "/api/warnings/supervision",
        lambda i: "/api/warnings/supervision",
        {"committee": 200, "inspector": 200, "head": 200},
    ),
    Case(
        "GET",
        "/api/warnings/kept",
        lambda i: "/api/warnings/kept?ids=1,2",
        everyone(200),
        note="one's own open warnings only (none here): tests/pwa/test_offline.py",
    ),
]

CASES += [
    Case(
        "GET",
        "/api/linked",
        lambda i: "/api/linked",
        {"committee": 200, "inspector": 200, "head": 200},
    ),
    Case(
        "GET",
        "/api/linked/{linked_id:int}",
        lambda i: f"/api/linked/{MISSING}",
        {"committee": 404, "inspector": 404, "head": 404},
    ),
    Case(
        "POST",
        "/api/linked/{linked_id:int}/report",
        lambda i: f"/api/linked/{MISSING}/report",
        {"head": 404},
        body=lambda i: {"report": "causes found", "measures": "process changed"},
    ),
]
