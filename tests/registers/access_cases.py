"""Role guards of the risk registers: supervisors, experts and admins read; experts and admins edit."""

from tests.access.matrix import Case

MISSING = 999999
READERS = {"committee": 200, "inspector": 200, "head": 200, "admin": 200}

CASES = [
    Case("GET", "/api/registers/four-lists", lambda i: "/api/registers/four-lists", READERS),
    Case("GET", "/api/registers/four-lists/xlsx", lambda i: "/api/registers/four-lists/xlsx", READERS),
    Case("GET", "/api/registers/risks", lambda i: "/api/registers/risks", READERS),
    Case("GET", "/api/registers/risks/xlsx", lambda i: "/api/registers/risks/xlsx", READERS),
    Case(
        "POST",
        "/api/registers/risks",
        lambda i: "/api/registers/risks",
        {"admin": 201},
        body=lambda i: {
            "code": "AM-1",
            "specialty": "general",
            "business_item": "事项",
            "risk_point": "风险",
        },
    ),
    Case(
        "PATCH",
        "/api/registers/risks/{risk_id:int}",
        lambda i: f"/api/registers/risks/{MISSING}",
        {"admin": 404},
        body=lambda i: {"owner": "部门"},
    ),
    Case(
        "GET",
        "/api/registers/risks/{risk_id:int}/versions",
        lambda i: f"/api/registers/risks/{MISSING}/versions",
        {**READERS, "admin": 404, "committee": 404, "inspector": 404, "head": 404},
    ),
]
