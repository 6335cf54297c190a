from tests.access.matrix import Case

RUNNERS = {"admin": 200, "inspector": 200}

CASES = [
    Case("POST", "/api/rules/run", lambda i: "/api/rules/run", RUNNERS, body=lambda i: {"topics": []}),
    Case("GET", "/api/rules/runs", lambda i: "/api/rules/runs", RUNNERS),
    Case(
        "GET",
        "/api/rules/runs/{run_id:int}",
        lambda i: "/api/rules/runs/999",
        {"admin": 404, "inspector": 404},
    ),
    Case(
        "GET", "/api/rules/validation/{topic_id:int}", lambda i: "/api/rules/validation/999", {"admin": 404}
    ),
    Case(
        "GET",
        "/api/rules/validation/{topic_id:int}/hits",
        lambda i: "/api/rules/validation/999/hits",
        {"admin": 404},
    ),
    Case(
        "POST",
        "/api/rules/validation/{topic_id:int}/hits/{warning_id:int}/verdict",
        lambda i: "/api/rules/validation/999/hits/999/verdict",
        {"admin": 404},
        body=lambda i: {"result": "true", "note": "checked"},
    ),
    Case("GET", "/api/rules/precision", lambda i: "/api/rules/precision", {"admin": 200, "committee": 200}),
    Case("POST", "/api/rules/retirements", lambda i: "/api/rules/retirements", {"admin": 200}),
]
