"""Role guards of the archive and the exports. Nothing is archived here, so in-role callers get
404 for a case; scope with real cases is tested in test_case_file.py and test_exports.py."""

from tests.access.matrix import Case, everyone

MISSING = 999999
SUPERVISORS = {"committee": 200, "inspector": 200, "head": 200}
#: a list anyone signed in may export (their own ladder cases, scoped); admin has no cases: empty
EXPORTED = dict.fromkeys(("admin", "committee", "inspector", "head", "manager", "manager2"), 201)

#: (route, path, expected) of the archive's reads: heads, inspectors and the committee
READS = [
    ("/api/archive/{kind:str}", "/api/archive/warning", SUPERVISORS, ""),
    ("/api/archive/{kind:str}", "/api/archive/opinion", dict.fromkeys(SUPERVISORS, 404), "no adapter"),
    ("/api/archive/{kind:str}", "/api/archive/clue", {**SUPERVISORS, "head": 403}, "inspectors, committee"),
    ("/api/archive/{kind:str}", "/api/archive/problem", SUPERVISORS, ""),
    ("/api/archive/{kind:str}/facets", "/api/archive/clue/facets", {**SUPERVISORS, "head": 403}, ""),
    ("/api/archive/{kind:str}/facets", "/api/archive/ladder/facets", SUPERVISORS, ""),
    (
        "/api/archive/{kind:str}/{case_id:int}/{fmt:str}",
        f"/api/archive/warning/{MISSING}/zip",
        dict.fromkeys(SUPERVISORS, 404),
        "",
    ),
]
#: what each list export answers: anyone their own ladder cases; the trail for its readers only
LISTS = {
    "ladder": EXPORTED,
    "trail": {"committee": 201, "inspector": 201},
    "opinions": {"committee": 201, "inspector": 201, "head": 201},
}

CASES = [
    *(Case("GET", route, lambda i, p=path: p, expect, note=note) for route, path, expect, note in READS),
    *(
        Case(
            "POST",
            "/api/exports",
            lambda i: "/api/exports",
            expect,
            body=lambda i, n=name: {"list": n},
            note=name,
        )
        for name, expect in LISTS.items()
    ),
    Case("GET", "/api/exports", lambda i: "/api/exports", everyone(200)),
    Case("GET", "/api/exports/{export_id:int}", lambda i: f"/api/exports/{MISSING}", everyone(404)),
    Case("GET", "/api/exports/{export_id:int}/file", lambda i: f"/api/exports/{MISSING}/file", everyone(404)),
]
