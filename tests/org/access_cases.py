from tests.access.matrix import Case, everyone

PEOPLE_CSV = (
    b"employee_no,name,unit_code,post_code,started_in_post,phone,roles\n"
    b"X9001,Test Person,C01-S1,CM,2024-01-02,,employee\n"
)

CASES = [
    Case("GET", "/api/units", lambda i: "/api/units", everyone(200)),
    Case(
        "POST",
        "/api/units",
        lambda i: "/api/units",
        {"admin": 201},
        body=lambda i: {"code": "C01-S9", "name": "New station", "kind": "station", "parent_code": "C01"},
    ),
    Case(
        "PATCH",
        "/api/units/{unit_id:int}",
        lambda i: f"/api/units/{i.unit['C01-S2']}",
        {"admin": 200},
        body=lambda i: {"name": "Renamed station"},
    ),
    Case("GET", "/api/posts", lambda i: "/api/posts", everyone(200)),
    Case(
        "POST",
        "/api/posts",
        lambda i: "/api/posts",
        {"admin": 201},
        body=lambda i: {"code": "NEW", "name": "New post", "risk_value": 55},
    ),
    Case(
        "PATCH",
        "/api/posts/{post_id:int}",
        lambda i: f"/api/posts/{i.post['CM']}",
        {"admin": 200},
        body=lambda i: {"risk_value": 72.5},
    ),
    Case("GET", "/api/people", lambda i: "/api/people", everyone(200)),
    Case(
        "GET",
        "/api/people/{person_id:int}",
        lambda i: f"/api/people/{i.person['manager']}",
        {"admin": 200, "committee": 200, "inspector": 200, "head": 200, "manager": 200},
        default=404,
        note="manager in C01-S1",
    ),
    Case(
        "GET",
        "/api/people/{person_id:int}",
        lambda i: f"/api/people/{i.person['manager2']}",
        {"admin": 200, "committee": 200, "manager2": 200},
        default=404,
        note="manager2 in C02-S1, other county",
    ),
    Case(
        "GET",
        "/api/people/{person_id:int}",
        lambda i: f"/api/people/{i.person['E0110']}",
        {"admin": 200, "committee": 200, "inspector": 200},
        default=404,
        note="employee of C01-S2: inspector yes, head of C01-S1 no",
    ),
    Case(
        "GET",
        "/api/people/{person_id:int}/overseers",
        lambda i: f"/api/people/{i.person['manager']}/overseers",
        {"admin": 200, "committee": 200, "inspector": 200, "head": 200, "manager": 200},
        default=404,
        note="manager in C01-S1: scoped like the person",
    ),
    Case(
        "GET",
        "/api/people/{person_id:int}/overseers",
        lambda i: f"/api/people/{i.person['manager2']}/overseers",
        {"admin": 200, "committee": 200, "manager2": 200},
        default=404,
        note="manager2 in C02-S1, other county",
    ),
    Case(
        "POST",
        "/api/people",
        lambda i: "/api/people",
        {"admin": 201},
        body=lambda i: {"employee_no": "X9002", "name": "Another", "unit_code": "C01-S1", "post_code": "CM"},
    ),
    Case(
        "PATCH",
        "/api/people/{person_id:int}",
        lambda i: f"/api/people/{i.person['E0110']}",
        {"admin": 200},
        body=lambda i: {"phone": "13900009999"},
    ),
    Case(
        "POST",
        "/api/org/import/{kind:str}",
        lambda i: "/api/org/import/people",
        {"admin": 200},
        files={"data": ("people.csv", PEOPLE_CSV, "text/csv")},
    ),
    Case("GET", "/api/role-grants", lambda i: "/api/role-grants", {"admin": 200}),
    Case(
        "POST",
        "/api/role-grants/{grant_id:int}/approve",
        lambda i: "/api/role-grants/999999/approve",
        {"admin": 404},
        note="no such grant",
    ),
    Case(
        "POST",
        "/api/role-grants/{grant_id:int}/reject",
        lambda i: "/api/role-grants/999999/reject",
        {"admin": 404},
        note="no such grant",
    ),
]
