from __future__ import annotations

from tests.access.matrix import Case, everyone

CASES = [
    Case(
        "POST",
        "/api/telegram/link",
        lambda i: "/api/telegram/link",
        everyone(409),
        note="Telegram is not offered here",
    ),
    Case("GET", "/api/telegram/me", lambda i: "/api/telegram/me", everyone(200)),
    Case("DELETE", "/api/telegram/me", lambda i: "/api/telegram/me", everyone(404), note="nothing bound"),
]
