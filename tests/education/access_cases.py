"""Role guards of education hours: everyone reads their own and marks their lessons; admins import."""

from tests.access.matrix import Case, everyone

CASES = [
    Case("GET", "/api/education/mine", lambda i: "/api/education/mine", everyone(200)),
    Case(
        "POST",
        "/api/education/import",
        lambda i: "/api/education/import",
        {"admin": 400},
        note="no file sent",
    ),
    Case(
        "POST",
        "/api/education/lessons/{broadcast_id:int}",
        lambda i: "/api/education/lessons/999999",
        everyone(404),
        note="no such lesson",
    ),
]
