"""Role guards of the statistics: heads, inspectors and the committee; a unit outside one's scope is
not found."""

from tests.access.matrix import Case

SUPERVISORS = {"committee": 200, "inspector": 200, "head": 200}

CASES = [
    Case("GET", "/api/stats", lambda i: "/api/stats?period=month", SUPERVISORS),
    Case(
        "GET",
        "/api/stats",
        lambda i: f"/api/stats?period=quarter&unit_id={i.unit['C02-S1']}",
        {"committee": 200, "inspector": 404, "head": 404},
        note="another county's station",
    ),
]
