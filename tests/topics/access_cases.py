from tests.access.matrix import Case

READERS = {"admin": 200, "committee": 200, "inspector": 200, "head": 200}
READERS_404 = {"admin": 404, "committee": 404, "inspector": 404, "head": 404}
OFFLINE_TOPIC = {"code": "MX-1", "name": "Matrix topic", "specialty": "engineering", "offline": True}
THRESHOLDS = {"measure": "m", "high": 3}

CASES = [
    Case("GET", "/api/topics", lambda i: "/api/topics", READERS),
    Case("POST", "/api/topics", lambda i: "/api/topics", {"admin": 201}, body=lambda i: OFFLINE_TOPIC),
    Case("GET", "/api/topics/{topic_id:int}", lambda i: "/api/topics/999", READERS_404),
    Case(
        "PATCH",
        "/api/topics/{topic_id:int}",
        lambda i: "/api/topics/999",
        {"admin": 404},
        body=lambda i: {"stars": 4},
    ),
    Case(
        "PUT",
        "/api/topics/{topic_id:int}/rule",
        lambda i: "/api/topics/999/rule",
        {"admin": 404},
        body=lambda i: {"sql": "select 1", "thresholds": THRESHOLDS},
    ),
    Case(
        "POST",
        "/api/topics/{topic_id:int}/transition",
        lambda i: "/api/topics/999/transition",
        {"admin": 404},
        body=lambda i: {"to": "validating"},
    ),
    Case("GET", "/api/topics/{topic_id:int}/versions", lambda i: "/api/topics/999/versions", READERS_404),
    Case("GET", "/api/topics/{topic_id:int}/requests", lambda i: "/api/topics/999/requests", READERS_404),
    Case(
        "POST",
        "/api/topics/{topic_id:int}/requests",
        lambda i: "/api/topics/999/requests",
        READERS_404,
        body=lambda i: {"kind": "exit", "reason": "no hits"},
    ),
    Case(
        "POST",
        "/api/topic-requests/{request_id:int}/decision",
        lambda i: "/api/topic-requests/999/decision",
        {"admin": 404},
        body=lambda i: {"approve": True},
    ),
]
