"""The problem list: every signed-in person may ask (each sees their scope); no problem exists, so a
problem's routes answer 404 to everyone."""

from tests.access.matrix import Case, everyone

MISSING = 999999


def _step(route: str, body: dict[str, object]) -> Case:
    return Case(
        "POST",
        f"/api/problems/{{problem_id:int}}/{route}",
        lambda i: f"/api/problems/{MISSING}/{route}",
        everyone(404),
        body=lambda i: body,
        note="no such problem",
    )


CASES = [
    Case("GET", "/api/problems", lambda i: "/api/problems", everyone(200)),
    Case("GET", "/api/problems/effect", lambda i: "/api/problems/effect", everyone(200)),
    Case(
        "POST",
        "/api/problems",
        lambda i: "/api/problems",
        {"inspector": 201, "head": 201},
        body=lambda i: {
            "unit_id": i.unit["C01-S1"],
            "origin": "self_report",
            "title": "t",
            "description": "d",
        },
        note="inspectors register; a head reports their own unit's",
    ),
    Case("GET", "/api/problems/{problem_id:int}", lambda i: f"/api/problems/{MISSING}", everyone(404)),
    _step("classify", {"category": "process"}),
    _step("assign", {"assignee_person_id": 1}),
    _step("plan", {"measures": "m", "due_on": "2030-01-01"}),
    _step("done", {"text": "t"}),
    _step("check", {"passed": True, "note": "n"}),
    _step("close", {"money_recovered": 0, "problems_avoided": 0}),
    _step("recheck", {"note": "n"}),
]
