"""Role guards and scopes of the evaluation routes (no category exists: in-role callers get 404)."""

from tests.access.matrix import Case, everyone
from tests.pwa.helpers import png

MISSING = 999999
PHOTO = png(8, 8)
MANAGERS = ("admin", "committee", "inspector")
FILERS = ("head", "inspector", "committee")


def only(roles: tuple[str, ...], status: int) -> dict[str, int]:
    return dict.fromkeys(roles, status)


LIBRARY = {
    "tags": [
        {"code": "refused_gift", "name": "主动拒收礼品礼金", "dimension": "behaviour", "coefficient": 5,
         "direction": "plus", "filers": ["head"]}
    ]
}  # fmt: skip
TALK = {
    "client_id": "access-matrix-talk", "interviewer_ids": [], "held_at": "2026-10-10T10:00", "place": "p",
    "q_true": "x", "q_cause": "x", "q_integrity": "x", "c_collaboration": "x", "c_control": "x",
    "c_education": "x", "suggestion": "x", "follow_up": "x",
}  # fmt: skip
E = "/api/evaluation"

CASES = [
    Case("GET", f"{E}/categories", lambda i: f"{E}/categories", everyone(200)),
    Case(
        "POST",
        f"{E}/categories",
        lambda i: f"{E}/categories",
        only(MANAGERS, 201),
        body=lambda i: {"code": "yk", "name": "业扩报装", "library": LIBRARY},
    ),
    Case(
        "GET",
        f"{E}/categories/{{category_id:int}}/library",
        lambda i: f"{E}/categories/{MISSING}/library",
        everyone(404),
    ),
    Case(
        "POST",
        f"{E}/categories/{{category_id:int}}/library",
        lambda i: f"{E}/categories/{MISSING}/library",
        only(MANAGERS, 404),
        body=lambda i: LIBRARY,
    ),
    Case(
        "GET",
        f"{E}/categories/{{category_id:int}}/subjects",
        lambda i: f"{E}/categories/{MISSING}/subjects",
        everyone(404),
    ),
    Case(
        "POST",
        f"{E}/categories/{{category_id:int}}/subjects",
        lambda i: f"{E}/categories/{MISSING}/subjects",
        only(MANAGERS, 404),
        body=lambda i: {"person_id": i.person["manager"]},
    ),
    Case(
        "POST",
        f"{E}/categories/{{category_id:int}}/subjects/by-post",
        lambda i: f"{E}/categories/{MISSING}/subjects/by-post",
        only(MANAGERS, 404),
        body=lambda i: {"post_id": 1},
    ),
    Case(
        "POST",
        f"{E}/tags",
        lambda i: f"{E}/tags",
        only(FILERS, 404),
        body=lambda i: {
            "client_id": "access-matrix-tag",
            "category_id": MISSING,
            "person_id": i.person["manager"],
            "tag_code": "refused_gift",
        },
        note="no such category",
    ),
    Case("GET", f"{E}/tags", lambda i: f"{E}/tags", everyone(200)),
    Case(
        "POST",
        f"{E}/photos",
        lambda i: f"{E}/photos",
        only(FILERS, 201),
        files={"file": ("p.png", PHOTO, "image/png")},
    ),
    Case("GET", f"{E}/tags/{{tag_id:int}}/photo", lambda i: f"{E}/tags/{MISSING}/photo", everyone(404)),
    Case("GET", f"{E}/tags/{{tag_id:int}}", lambda i: f"{E}/tags/{MISSING}", everyone(404)),
    Case(
        "POST",
        f"{E}/tags/{{tag_id:int}}/comments",
        lambda i: f"{E}/tags/{MISSING}/comments",
        everyone(404),
        body=lambda i: {"text": "已说明"},
    ),
    Case(
        "POST",
        f"{E}/categories/{{category_id:int}}/rounds",
        lambda i: f"{E}/categories/{MISSING}/rounds",
        only(MANAGERS, 404),
        body=lambda i: {"name": "2026年第三季度", "period_start": "2026-07-01", "period_end": "2026-09-30"},
    ),
    Case("GET", f"{E}/rounds", lambda i: f"{E}/rounds", everyone(200)),
    Case("GET", f"{E}/rounds/{{round_id:int}}", lambda i: f"{E}/rounds/{MISSING}", everyone(404)),
    Case(
        "GET",
        f"{E}/rounds/{{round_id:int}}/export",
        lambda i: f"{E}/rounds/{MISSING}/export",
        only(FILERS, 404),
    ),
    Case(
        "GET",
        f"{E}/people/{{person_id:int}}/trend",
        lambda i: f"{E}/people/{i.person['manager']}/trend",
        everyone(200),
        note="results outside one's scope are left out",
    ),
    Case("GET", f"{E}/talks", lambda i: f"{E}/talks", everyone(200)),
    Case(
        "POST",
        f"{E}/scores/{{score_id:int}}/interview",
        lambda i: f"{E}/scores/{MISSING}/interview",
        only(("head", "inspector"), 404),
        body=lambda i: TALK,
    ),
]
