"""Supervision opinions: heads, inspectors and the committee (no opinion exists: 404 in role)."""

from tests.access.matrix import Case

MISSING = 999999
IN_ROLE = {"committee": 404, "inspector": 404, "head": 404}


def _step(route: str, body: dict[str, object] | None = None) -> Case:
    return Case(
        "POST",
        f"/api/opinions/{{opinion_id:int}}/{route}",
        lambda i: f"/api/opinions/{MISSING}/{route}",
        IN_ROLE,
        body=(lambda i: body) if body is not None else None,
        note="no such opinion",
    )


CASES = [
    Case(
        "GET", "/api/opinions", lambda i: "/api/opinions", {"committee": 200, "inspector": 200, "head": 200}
    ),
    Case(
        "POST",
        "/api/opinions",
        lambda i: "/api/opinions",
        {"inspector": 201},
        body=lambda i: {"unit_id": i.unit["C01-S1"], "problem": "p", "advice": "a"},
        note="inspectors draft",
    ),
    Case("GET", "/api/opinions/{opinion_id:int}", lambda i: f"/api/opinions/{MISSING}", IN_ROLE),
    Case("GET", "/api/opinions/{opinion_id:int}/pdf", lambda i: f"/api/opinions/{MISSING}/pdf", IN_ROLE),
    _step("submit", {"text": "t"}),
    _step("approve", {"text": "t"}),
    _step("return", {"text": "t"}),
    _step("send"),
    _step("answer", {"text": "t"}),
    _step("follow", {"text": "t"}),
]
