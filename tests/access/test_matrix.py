from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import select

import tests
from backend.app import create_app
from backend.auth.models import Account
from backend.org.models import Person, Post, Unit
from tests.access.matrix import ROLES, Case, Ids
from tests.conftest import make_settings

IGNORED_METHODS = {"HEAD", "OPTIONS"}
PUBLIC = {
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/login/totp"),
    ("POST", "/api/auth/login/totp/setup"),
    # the public intake form: no account (tests/intake)
    ("GET", "/api/public/reports/challenge"),
    ("POST", "/api/public/reports"),
    ("POST", "/api/public/reports/status"),
}


def all_cases() -> list[Case]:
    cases: list[Case] = []
    root = Path(tests.__path__[0])
    for info in pkgutil.iter_modules([str(root)]):
        if info.ispkg and (root / info.name / "access_cases.py").exists():
            cases.extend(importlib.import_module(f"tests.{info.name}.access_cases").CASES)
    return cases


def api_routes() -> set[tuple[str, str]]:
    app = create_app(make_settings(Path("/tmp"), "sqlite+aiosqlite:///:memory:"))
    found = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api"):
            for method in route.methods:
                if method not in IGNORED_METHODS:
                    found.add((method, route.path))
    return found


CASES = all_cases()


def test_every_api_route_has_a_matrix_entry():
    covered = {(c.method, c.route) for c in CASES}
    missing = sorted(api_routes() - covered - PUBLIC)
    assert not missing, (
        f"routes without an access-matrix case (add them to tests/<feature>/access_cases.py): {missing}"
    )


def test_matrix_names_only_real_routes():
    stale = sorted({(c.method, c.route) for c in CASES} - api_routes())
    assert not stale, f"matrix cases for routes that do not exist: {stale}"


@pytest.mark.parametrize(("method", "route"), sorted(api_routes() - PUBLIC))
async def test_every_api_route_refuses_anonymous_callers(client, method, route):
    path = route.replace("{", "").replace("}", "")
    for token in ("", "Bearer", "Bearer not-a-token"):
        headers = {"Authorization": token} if token else {}
        path = "/".join("1" if ":" in part else part for part in route.split("/"))
        response = await client.request(method, path.replace("{", "").replace("}", ""), headers=headers)
        assert response.status_code == 401, (method, route, token, response.text)
        assert response.json()["code"] in {"not_authenticated", "invalid_token"}


@pytest.fixture
async def ids(db) -> Ids:
    async with db.session() as s:
        accounts = (await s.execute(select(Account))).scalars().all()
        people = {p.id: p for p in (await s.execute(select(Person))).scalars()}
        units = {u.code: u.id for u in (await s.execute(select(Unit))).scalars()}
        posts = {p.code: p.id for p in (await s.execute(select(Post))).scalars()}
    by_user = {a.username: a for a in accounts}
    return Ids(
        person={u: a.person_id for u, a in by_user.items()},
        account={u: a.id for u, a in by_user.items()},
        unit=units,
        post=posts,
        extra={"people": people},
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_access(client, sessions, ids, case: Case, role: str):
    headers = await sessions.headers(role)
    kwargs = {}
    if case.body is not None:
        kwargs["json"] = case.body(ids)
    if case.files is not None:
        kwargs["files"] = case.files
    response = await client.request(case.method, case.path(ids), headers=headers, **kwargs)
    expected = case.status_for(role)
    assert response.status_code == expected, (
        f"{role} {case.name}: {response.status_code} {response.text[:300]}"
    )
    if expected >= 400:
        assert "code" in response.json()
