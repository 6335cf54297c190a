from tests.access.matrix import Case, everyone

CASES = [
    Case("GET", "/api/notifications", lambda i: "/api/notifications", everyone(200)),
    Case(
        "POST",
        "/api/notifications/{notification_id:int}/read",
        lambda i: "/api/notifications/999999/read",
        everyone(404),
        note="nobody's notification",
    ),
]
