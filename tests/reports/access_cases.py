"""Role guards of the reports: heads, inspectors and the committee, each within their units."""

from tests.access.matrix import Case

MISSING = 999999
SUPERVISORS = {"committee": 200, "inspector": 200, "head": 200}

CASES = [
    Case("GET", "/api/reports", lambda i: "/api/reports", SUPERVISORS),
    Case(
        "POST",
        "/api/reports",
        lambda i: "/api/reports",
        {"committee": 201, "inspector": 201, "head": 404},
        body=lambda i: {"unit_id": i.unit["C01"], "kind": "month"},
        note="the county",
    ),
    Case(
        "GET",
        "/api/reports/{report_id:int}/{fmt:str}",
        lambda i: f"/api/reports/{MISSING}/pdf",
        {"committee": 404, "inspector": 404, "head": 404},
    ),
    Case("GET", "/api/reports/findings", lambda i: "/api/reports/findings", SUPERVISORS),
    Case(
        "POST",
        "/api/reports/findings/{finding_id:int}/answer",
        lambda i: f"/api/reports/findings/{MISSING}/answer",
        {"inspector": 404, "head": 404},
        body=lambda i: {"text": "已整改"},
    ),
]
