from tests.access.matrix import Case

READERS = {"inspector": 200, "committee": 200}
NONE_YET = {"inspector": 404, "committee": 404}

CASES = [
    Case("GET", "/api/intake", lambda i: "/api/intake", READERS),
    Case(
        "GET", "/api/intake/{report_id:int}", lambda i: "/api/intake/999999", NONE_YET, note="no such report"
    ),
    Case(
        "GET",
        "/api/intake/{report_id:int}/files/{file_id:int}",
        lambda i: "/api/intake/999999/files/1",
        NONE_YET,
        note="no such report",
    ),
    Case(
        "POST",
        "/api/intake/{report_id:int}/triage",
        lambda i: "/api/intake/999999/triage",
        NONE_YET,
        body=lambda i: {"state": "reviewing"},
        note="no such report",
    ),
]
