from tests.access.matrix import Case

CASES = [
    Case("GET", "/api/audit", lambda i: "/api/audit", {"committee": 200, "inspector": 200}),
]
