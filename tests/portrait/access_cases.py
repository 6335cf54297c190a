"""Role guards of the risk portrait and its weights."""

from tests.access.matrix import Case

CASES = [
    Case(
        "GET",
        "/api/portrait",
        lambda i: "/api/portrait?by=unit",
        {"committee": 200, "inspector": 200, "head": 200},
    ),
    Case(
        "GET",
        "/api/portrait/weights",
        lambda i: "/api/portrait/weights",
        {"admin": 200, "committee": 200, "inspector": 200},
    ),
    Case(
        "PUT",
        "/api/portrait/weights",
        lambda i: "/api/portrait/weights",
        {"admin": 200},
        body=lambda i: {"weights": {"overdue": 2}},
    ),
]
