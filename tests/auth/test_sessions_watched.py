"""PostgreSQL with the change watch: a signed-in session is looked up once and kept while no
account or session changes; a sign-out or a disabled account still applies at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.auth import service as auth_service
from backend.org.service import ORG
from tests.watching import all_heard, behind_the_app, listening, watching


@pytest.fixture
async def settings(settings: Any) -> Any:
    return watching(settings)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The session lookups that reached the database."""
    seen: list[str] = []
    real = auth_service.read_stored

    async def counted(engine: Any, stmt: Any, params: Any = None) -> Any:
        if stmt is auth_service.SESSION_LOOKUP:
            seen.append(params["sid"])
        return await real(engine, stmt, params)

    monkeypatch.setattr(auth_service, "read_stored", counted)
    return seen


async def test_a_session_is_looked_up_once_while_nothing_changes(client, sessions, settings, app, lookups):
    h = await sessions.headers("manager")
    await all_heard(settings, await listening(app))  # the sign-in's own notification included
    for _ in range(3):
        assert (await client.get("/api/auth/me", headers=h)).status_code == 200
    assert len(lookups) == 1


async def test_a_sign_out_here_applies_at_once(client, sessions, app, lookups, monkeypatch):
    h = await sessions.headers("manager")
    watch = await listening(app)
    late: list[str] = []
    monkeypatch.setattr(watch, "_notified", late.append)  # notifications read late
    assert (await client.get("/api/auth/me", headers=h)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=h)).status_code == 204
    r = await client.get("/api/auth/me", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "session_ended"
    assert late


async def test_an_account_disabled_elsewhere_is_refused_once_told(client, sessions, settings, app, lookups):
    h = await sessions.headers("manager")
    watch = await listening(app)
    me = (await client.get("/api/auth/me", headers=h)).json()
    before = watch.version(auth_service.AUTH)
    await behind_the_app(settings, "UPDATE account SET active = false WHERE person_id = $1", me["person_id"])
    async with asyncio.timeout(10):
        await watch.until(lambda: watch.version(auth_service.AUTH) != before)
    r = await client.get("/api/auth/me", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "account_disabled"


async def test_nothing_is_kept_while_not_listening(client, sessions, settings, app, lookups, monkeypatch):
    h = await sessions.headers("manager")
    watch = await listening(app)

    async def refused() -> Any:
        raise OSError("connection refused")

    monkeypatch.setattr(watch, "_connect", refused)
    await behind_the_app(settings, "SELECT pg_terminate_backend($1)", watch.server_pid)
    async with asyncio.timeout(10):
        await watch.until(lambda: not watch.listening)
    for _ in range(2):
        assert (await client.get("/api/auth/me", headers=h)).status_code == 200
    assert len(lookups) == 2


async def test_a_persons_facts_are_read_once_while_the_organisation_is_unchanged(
    client, sessions, settings, app, monkeypatch
):
    h = await sessions.headers("manager")
    watch = await listening(app)
    reads: list[int] = []
    real = auth_service.person_facts

    async def counted(bind: Any, person_id: int, session: Any = None) -> Any:
        reads.append(person_id)
        return await real(bind, person_id, session)

    monkeypatch.setattr(auth_service, "person_facts", counted)
    for _ in range(3):
        assert (await client.get("/api/auth/me", headers=h)).status_code == 200
    assert len(reads) == 1
    # the person is made inactive by another connection: refused once the database has told
    before = watch.version(ORG)
    await behind_the_app(settings, "UPDATE person SET active = false WHERE id = $1", reads[0])
    async with asyncio.timeout(10):
        await watch.until(lambda: watch.version(ORG) != before)
    r = await client.get("/api/auth/me", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "account_disabled"
