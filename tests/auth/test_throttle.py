"""Throttling of wrong passwords: per username (progressive wait), per client address (spraying),
counted atomically under concurrency, with argon2 off the event loop.

The app is called through httpx's ASGI transport on the test's own loop: Litestar's test client
hands each request to a portal thread and waits for it, so requests never overlap there."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from backend.audit.models import AuditRecord
from backend.auth.models import LoginThrottle
from backend.auth.passwords import Passwords
from backend.kernel.timeutil import utcnow

#: fewer than the connection pool holds: every attempt holds a session while it waits
PARALLEL = 12


async def login(client, username, password="demo", **kwargs):
    return await client.post("/api/auth/login", json={"username": username, "password": password}, **kwargs)


async def expire(db, key):
    """The wait of ``key`` runs out (as if its Retry-After had passed)."""
    async with db.session() as s:
        await s.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(blocked_until=utcnow() - timedelta(seconds=1))
        )
        await s.commit()


async def stored(db, key):
    async with db.session() as s:
        return await s.get(LoginThrottle, key)


@pytest.fixture
def settings(settings):
    """Every attempt of a race admitted at once: ``PARALLEL`` of them hold a session at the
    barrier, more than a small machine's default admits (backend/kernel/admission.py)."""
    return settings.model_copy(update={"max_active_requests": 2 * PARALLEL})


@pytest.fixture
async def client(app):
    """Requests that really run at once, from 127.0.0.1."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as racing:
        yield racing


@pytest.fixture
def barrier(monkeypatch):
    """Every attempt's password check waits until ``PARALLEL`` attempts have read the account and
    checked their password: all their failures are then counted at once."""
    original = Passwords.verify
    gate: dict[str, asyncio.Barrier] = {}

    async def verify(self, hashed, password):
        result = await original(self, hashed, password)
        gate.setdefault("b", asyncio.Barrier(PARALLEL))
        await gate["b"].wait()
        return result

    monkeypatch.setattr(Passwords, "verify", verify)


async def test_parallel_wrong_passwords_throttle_the_account_at_the_limit_exactly(client, db, barrier):
    answers = await asyncio.gather(*(login(client, "manager", f"wrong-{i}") for i in range(PARALLEL)))
    codes = sorted(a.status_code for a in answers)
    # login_max_failures = 5: five failures counted, every later one refused as throttled
    assert codes == [401] * 5 + [429] * (PARALLEL - 5)
    assert (await stored(db, "name:manager")).failures == 5
    right = await login(client, "manager", "demo")
    assert right.status_code == 429 and right.json()["code"] == "account_locked"


async def test_a_right_password_checked_before_the_limit_is_refused_if_the_limit_is_reached_meanwhile(
    client, monkeypatch
):
    original = Passwords.verify
    right_checked, wrong_done = asyncio.Event(), asyncio.Event()

    async def verify(self, hashed, password):
        result = await original(self, hashed, password)
        if password == "demo":  # the right guess has passed the throttle check and argon2 …
            right_checked.set()
            await wrong_done.wait()  # … and waits while wrong guesses reach the limit
        return result

    monkeypatch.setattr(Passwords, "verify", verify)
    right = asyncio.create_task(login(client, "manager", "demo"))
    await right_checked.wait()
    wrong = [(await login(client, "manager", f"wrong-{i}")).status_code for i in range(6)]
    assert wrong == [401] * 5 + [429]
    wrong_done.set()
    answer = await right
    assert answer.status_code == 429 and answer.json()["code"] == "account_locked"


async def test_forty_parallel_attempts_get_answers_not_server_errors(client):
    answers = await asyncio.gather(*(login(client, "head", f"wrong-{i}") for i in range(40)))
    codes = [a.status_code for a in answers]
    assert set(codes) <= {401, 429} and codes.count(401) >= 5  # no "database is locked" (500)


async def test_the_wait_grows_and_a_sign_in_resets_it(client, db):
    for _ in range(5):
        assert (await login(client, "manager", "wrong")).status_code == 401
    waits = []
    for _ in range(4):
        refused = await login(client, "manager", "wrong")
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        await expire(db, "name:manager")
        assert (await login(client, "manager", "wrong")).status_code == 401
    assert waits == [1, 2, 4, 8]
    await expire(db, "name:manager")
    assert (await login(client, "manager", "demo")).status_code == 200
    assert await stored(db, "name:manager") is None
    assert (await login(client, "manager", "wrong")).status_code == 401  # counting starts again


async def test_a_usernames_failures_are_forgotten_after_a_quiet_day(client, db):
    for _ in range(4):
        assert (await login(client, "manager", "wrong")).status_code == 401
    row = await stored(db, "name:manager")
    assert row is not None and row.failures == 4
    assert row.window_ends_at is not None and row.window_ends_at > utcnow() + timedelta(hours=23)
    async with db.session() as s:  # login_failure_memory_hours (24) pass without a wrong password
        await s.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == "name:manager")
            .values(window_ends_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    assert (await login(client, "manager", "wrong")).status_code == 401
    row = await stored(db, "name:manager")
    assert row is not None and row.failures == 1 and row.blocked_until is None
    assert (await login(client, "manager", "demo")).status_code == 200  # not made to wait


async def test_the_wait_stops_at_the_lock_minutes(client, db):
    async with db.session() as s:
        s.add(LoginThrottle(key="name:manager", failures=40, window_ends_at=utcnow() + timedelta(hours=1)))
        await s.commit()
    assert (await login(client, "manager", "wrong")).status_code == 401
    refused = await login(client, "manager", "demo")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == 15 * 60  # login_lock_minutes


async def test_unknown_usernames_are_throttled_like_known_ones(client):
    for name in ("manager", "nobody-here"):
        answers = [(await login(client, name, "wrong")).status_code for _ in range(6)]
        assert answers == [401] * 5 + [429], name


async def test_spraying_one_password_over_many_usernames_blocks_the_address(app, client, db):
    app.state.settings.login_address_max_failures = 4
    names = ["manager", "manager2", "head", "inspector"]
    for name in names:
        assert (await login(client, name, "Spring2026!")).status_code == 401
    refused = await login(client, "committee", "demo")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    assert int(refused.headers["retry-after"]) > 60 * 14  # till the 15-minute window ends
    # another address is not affected; a sign-in there does not unblock this one
    elsewhere = {"X-Forwarded-For": "203.0.113.9"}
    app.state.settings.trusted_proxies = "127.0.0.1/32"
    assert (await login(client, "committee", "demo", headers=elsewhere)).status_code == 200
    app.state.settings.trusted_proxies = ""
    assert (await login(client, "committee", "demo")).status_code == 429
    async with db.session() as s:
        records = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "auth.login_refused")
                )
            )
            .scalars()
            .all()
        )
    assert {"reason": "address throttled"} in [r.new_value for r in records]


async def test_login_is_json_only(client):
    form = await client.post("/api/auth/login", data={"username": "manager", "password": "demo"})
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"
    text = await client.post(
        "/api/auth/login",
        content='{"username": "manager", "password": "demo"}',
        headers={"Content-Type": "text/plain"},
    )
    assert text.status_code == 415
    assert (await login(client, "manager")).status_code == 200


async def test_password_checks_run_off_the_event_loop(client, monkeypatch):
    import threading

    seen = []
    original = Passwords._verify

    def verify(self, hashed, password):
        seen.append(threading.current_thread().name)
        return original(self, hashed, password)

    monkeypatch.setattr(Passwords, "_verify", verify)
    assert (await login(client, "manager", "wrong")).status_code == 401
    assert (await login(client, "nobody-here", "wrong")).status_code == 401
    assert len(seen) == 2 and all(name.startswith("probity-argon2") for name in seen)
