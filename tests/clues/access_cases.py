"""Problem clues: inspectors and the committee only (no clue exists: in-role callers get 404)."""

from tests.access.matrix import Case

MISSING = 999999
READERS = {"inspector": 200, "committee": 200}
NONE_YET = {"inspector": 404, "committee": 404}


def _step(route: str, body: dict[str, object] | None = None) -> Case:
    return Case(
        "POST",
        f"/api/clues/{{clue_id:int}}/{route}",
        lambda i: f"/api/clues/{MISSING}/{route}",
        NONE_YET,
        body=(lambda i: body) if body is not None else None,
        note="no such clue",
    )


CASES = [
    Case("GET", "/api/clues", lambda i: "/api/clues", READERS),
    Case(
        "POST",
        "/api/clues",
        lambda i: "/api/clues",
        {"inspector": 201},
        body=lambda i: {"source": "inspection", "unit_id": i.unit["C01-S1"], "summary": "现场检查发现问题"},
        note="inspectors register; the committee does not",
    ),
    Case("GET", "/api/clues/{clue_id:int}", lambda i: f"/api/clues/{MISSING}", NONE_YET, note="no such clue"),
    Case("GET", "/api/clues/{clue_id:int}/pdf", lambda i: f"/api/clues/{MISSING}/pdf", NONE_YET),
    Case("GET", "/api/clues/{clue_id:int}/receivers", lambda i: f"/api/clues/{MISSING}/receivers", NONE_YET),
    _step("triage", {"level": "first", "proposal": "p"}),
    _step("instruct", {"instruction": "i"}),
    _step("hand-over", {"receiver_person_id": 1}),
    _step("receive"),
    _step("conclude", {"outcome": "filed", "text": "t"}),
]
