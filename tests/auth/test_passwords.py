"""Password rules, throttled password changes, a forced change enforced by the API, idle sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from backend.audit.models import AuditRecord
from backend.auth.models import AuthSession
from backend.auth.passwords import check_new_password, common_passwords
from backend.kernel.errors import Invalid
from backend.kernel.timeutil import utcnow


async def login(client, username, password="demo"):
    return await client.post("/api/auth/login", json={"username": username, "password": password})


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def change(client, tokens, current, new):
    return await client.post(
        "/api/auth/password", json={"current_password": current, "new_password": new}, headers=bearer(tokens)
    )


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("12345678", "password_too_short"),
        ("Kurz-1", "password_too_short"),
        ("password", "password_too_short"),
        ("1234567890", "weak_password"),
        ("Password123", "weak_password"),
        ("QWERTYUIOP", "weak_password"),
        ("woaini1314", "weak_password"),
        ("aaaaaaaaaaaa", "weak_password"),
        ("managermanager", "password_has_username"),
        ("my-MANAGER-pass", "password_has_username"),
    ],
)
def test_rules_refuse(password, code):
    with pytest.raises(Invalid) as refused:
        check_new_password("manager", password, min_length=10)
    assert refused.value.code == code


def test_the_list_is_shipped_and_a_good_password_passes():
    assert len(common_passwords()) > 3000
    check_new_password("manager", "Lantern-river-42", min_length=10)


async def test_rules_apply_to_change_admin_reset_and_account_creation(client, sessions):
    tokens = (await login(client, "manager")).json()
    assert (await change(client, tokens, "demo", "password1234")).json()["code"] == "weak_password"
    admin = await sessions.headers("admin")
    accounts = (await client.get("/api/accounts", headers=admin)).json()
    manager2 = next(a["id"] for a in accounts if a["username"] == "manager2")
    reset = await client.post(
        f"/api/accounts/{manager2}/password", json={"new_password": "12345678"}, headers=admin
    )
    assert reset.status_code == 400 and reset.json()["code"] == "password_too_short"
    await client.post(
        "/api/people", json={"employee_no": "X80", "name": "新人", "unit_code": "P00"}, headers=admin
    )
    created = await client.post(
        "/api/accounts",
        json={"employee_no": "X80", "username": "xinren", "password": "xinren2026!"},
        headers=admin,
    )
    assert created.status_code == 400 and created.json()["code"] == "password_has_username"


async def test_wrong_current_passwords_are_throttled_and_end_the_session(client, db):
    tokens = (await login(client, "manager")).json()
    answers = [(await change(client, tokens, f"guess-{i}", "Lantern-river-42")) for i in range(5)]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    assert answers[-1].json()["code"] == "too_many_password_attempts"
    assert answers[-1].headers["retry-after"] == "1"
    ended = await client.get("/api/auth/me", headers=bearer(tokens))
    assert ended.status_code == 401 and ended.json()["code"] == "session_ended"
    # the same count as sign-in: the username now waits there too
    assert (await login(client, "manager")).status_code == 429
    async with db.session() as s:
        failed = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "auth.password_change_failed")
                )
            )
            .scalars()
            .all()
        )
    assert len(failed) == 5 and failed[-1].new_value["session_ended"] is True
    # (read last: the first rendering of the document takes longer than the 1 s wait)
    documented = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/auth/password", "/api/auth/totp/disable"):  # the API says it may answer so
        assert "429" in documented[path]["post"]["responses"], path


async def test_must_change_password_is_enforced_by_the_api(client, sessions):
    admin = await sessions.headers("admin")
    accounts = (await client.get("/api/accounts", headers=admin)).json()
    manager2 = next(a["id"] for a in accounts if a["username"] == "manager2")
    reset = await client.post(
        f"/api/accounts/{manager2}/password", json={"new_password": "Temporary-2026"}, headers=admin
    )
    assert reset.status_code == 200
    tokens = (await login(client, "manager2", "Temporary-2026")).json()
    assert tokens["must_change_password"] is True
    for path in ("/api/warnings", "/api/people", "/api/notifications"):
        refused = await client.get(path, headers=bearer(tokens))
        assert refused.status_code == 403 and refused.json()["code"] == "password_change_required", path
    assert (await client.get("/api/auth/me", headers=bearer(tokens))).status_code == 200
    assert (await change(client, tokens, "Temporary-2026", "Lantern-river-42")).status_code == 204
    assert (await client.get("/api/warnings", headers=bearer(tokens))).status_code == 200


async def test_a_session_unused_past_the_idle_limit_cannot_be_refreshed(client, db):
    tokens = (await login(client, "head")).json()
    fresh = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert fresh.status_code == 200
    tokens = fresh.json()
    async with db.session() as s:  # 31 minutes without a refresh (session_idle_minutes = 30)
        await s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
        await s.commit()
    idle = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert idle.status_code == 401 and idle.json()["code"] == "session_idle"


async def test_refreshing_keeps_a_session_alive_up_to_its_absolute_end(client, db):
    tokens = (await login(client, "head")).json()
    async with db.session() as s:  # used 29 minutes ago: still alive, and the refresh counts as use
        await s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
        await s.commit()
    again = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200
    async with db.session() as s:
        row = (await s.execute(select(AuthSession))).scalars().first()
        assert utcnow() - row.last_seen_at < timedelta(minutes=1)
        await s.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    late = await client.post("/api/auth/refresh", json={"refresh_token": again.json()["refresh_token"]})
    assert late.status_code == 401 and late.json()["code"] == "invalid_refresh_token"
