from tests.access.matrix import Case, everyone

ADMIN_ONLY_404 = {"admin": 404}
TABLE = {
    "name": "matrix_table",
    "title": "Matrix table",
    "columns": [{"name": "a", "type": "VARCHAR", "required": True}],
    "owner_unit_code": "C01-YX",
}
CSV = ("t.csv", b"a\n1\n", "text/csv")

CASES = [
    Case("GET", "/api/data/tables", lambda i: "/api/data/tables", {"admin": 200}),
    Case("POST", "/api/data/tables", lambda i: "/api/data/tables", {"admin": 201}, body=lambda i: TABLE),
    Case("GET", "/api/data/tables/{name:str}", lambda i: "/api/data/tables/nope", ADMIN_ONLY_404),
    Case(
        "POST",
        "/api/data/tables/{name:str}/import",
        lambda i: "/api/data/tables/nope/import",
        ADMIN_ONLY_404,
        files={"data": CSV},
    ),
    Case(
        "PUT", "/api/data/tables/{name:str}/upload", lambda i: "/api/data/tables/nope/upload", ADMIN_ONLY_404
    ),
    Case(
        "POST",
        "/api/data/tables/{name:str}/rows",
        lambda i: "/api/data/tables/nope/rows",
        ADMIN_ONLY_404,
        body=lambda i: {"rows": [{"a": "1"}]},
    ),
    Case(
        "PATCH",
        "/api/data/tables/{name:str}/labels",
        lambda i: "/api/data/tables/nope/labels",
        ADMIN_ONLY_404,
        body=lambda i: {"columns": {"a": {"label": "甲", "label_en": "A", "unit": "number"}}},
    ),
    Case("GET", "/api/data/imports", lambda i: "/api/data/imports", {"admin": 200}),
    Case("GET", "/api/data/imports/{import_id:int}", lambda i: "/api/data/imports/999", ADMIN_ONLY_404),
    Case("GET", "/api/data/issues", lambda i: "/api/data/issues", everyone(200)),
]
