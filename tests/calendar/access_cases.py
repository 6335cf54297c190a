from tests.access.matrix import ROLES, Case, everyone

NOT_ADMIN = {r: 403 for r in ROLES if r != "admin"}

CASES = [
    Case("GET", "/api/calendar/overrides", lambda i: "/api/calendar/overrides?year=2027", everyone(200)),
    Case(
        "POST",
        "/api/calendar/overrides",
        lambda i: "/api/calendar/overrides",
        {"admin": 201},
        body=lambda i: {"day": "2027-01-01", "kind": "holiday", "note": "New Year"},
    ),
    Case(
        "DELETE",
        "/api/calendar/overrides/{day:str}",
        lambda i: "/api/calendar/overrides/2027-01-01",
        {"admin": 404},
        note="no override on that day",
    ),
    Case(
        "GET",
        "/api/calendar/days",
        lambda i: "/api/calendar/days?from=2026-12-28&to=2027-01-05",
        everyone(200),
    ),
    Case(
        "GET",
        "/api/calendar/deadline",
        lambda i: "/api/calendar/deadline?raised_at=2026-12-28T10:00:00%2B08:00&level=high",
        everyone(200),
    ),
]
