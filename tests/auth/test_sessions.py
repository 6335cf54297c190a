from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import select, update

from backend.audit.models import AuditRecord
from backend.auth.models import Account, LoginThrottle
from backend.auth.service import ALGORITHM, Keys
from backend.kernel.timeutil import utcnow


async def login(client, username, password="demo"):
    return await client.post("/api/auth/login", json={"username": username, "password": password})


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_session(client):
    first = (await login(client, "manager")).json()
    second = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/auth/me", headers=bearer(rotated))).status_code == 200
    replay = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_refresh_token"
    # the thief's copy and the owner's tokens of that session are both dead now
    me = await client.get("/api/auth/me", headers=bearer(rotated))
    assert me.status_code == 401 and me.json()["code"] == "session_ended"


async def test_logout_ends_the_access_token_at_once(client):
    tokens = (await login(client, "head")).json()
    assert (await client.post("/api/auth/logout", headers=bearer(tokens))).status_code == 204
    after = await client.get("/api/auth/me", headers=bearer(tokens))
    assert after.status_code == 401 and after.json()["code"] == "session_ended"
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


async def test_disabling_an_account_stops_its_tokens_at_once(client, sessions):
    manager = (await login(client, "manager")).json()
    admin = await sessions.headers("admin")
    me = (await client.get("/api/auth/me", headers=bearer(manager))).json()
    accounts = (await client.get("/api/accounts", headers=admin)).json()
    account_id = next(a["id"] for a in accounts if a["username"] == "manager")
    assert me["account_id"] == account_id
    response = await client.patch(f"/api/accounts/{account_id}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False
    refused = await client.get("/api/auth/me", headers=bearer(manager))
    assert refused.status_code == 401
    again = await login(client, "manager")
    assert again.status_code == 401 and again.json()["code"] == "account_disabled"
    await client.patch(f"/api/accounts/{account_id}", json={"active": True}, headers=admin)
    assert (await login(client, "manager")).status_code == 200


async def test_five_failures_throttle_the_account_and_are_in_the_trail(client, db):
    for _ in range(5):
        assert (await login(client, "manager", "wrong")).status_code == 401
    locked = await login(client, "manager", "demo")
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
    assert locked.headers["retry-after"] == "1" and locked.json()["retry_after"] == 1
    async with db.session() as s:
        account = (await s.execute(select(Account).where(Account.username == "manager"))).scalar_one()
        failures = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(
                        AuditRecord.action == "auth.login_failed", AuditRecord.object_id == str(account.id)
                    )
                )
            )
            .scalars()
            .all()
        )
        refusals = (
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
        assert [f.new_value["failures"] for f in failures] == [1, 2, 3, 4, 5]
        assert "blocked_until" in failures[-1].new_value
        assert refusals and refusals[-1].new_value == {"reason": "throttled"}
        # the wait runs out
        await s.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == "name:manager")
            .values(blocked_until=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    assert (await login(client, "manager", "demo")).status_code == 200


async def test_password_change(client):
    tokens = (await login(client, "manager")).json()
    other_device = (await login(client, "manager")).json()
    wrong = await client.post(
        "/api/auth/password",
        json={"current_password": "nope", "new_password": "Another-pass-1"},
        headers=bearer(tokens),
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    short = await client.post(
        "/api/auth/password",
        json={"current_password": "demo", "new_password": "short"},
        headers=bearer(tokens),
    )
    assert short.status_code == 400 and short.json()["code"] == "password_too_short"
    assert short.json()["field"] == "new_password"
    weak = await client.post(
        "/api/auth/password",
        json={"current_password": "demo", "new_password": "aaaaaaaaaa"},
        headers=bearer(tokens),
    )
    assert weak.status_code == 400 and weak.json()["code"] == "weak_password"
    ok = await client.post(
        "/api/auth/password",
        json={"current_password": "demo", "new_password": "Another-pass-1"},
        headers=bearer(tokens),
    )
    assert ok.status_code == 204
    assert (await login(client, "manager", "demo")).status_code == 401
    assert (await login(client, "manager", "Another-pass-1")).status_code == 200
    assert (await client.get("/api/auth/me", headers=bearer(tokens))).status_code == 200
    assert (await client.get("/api/auth/me", headers=bearer(other_device))).status_code == 401


async def test_admin_reset_forces_a_change(client, sessions):
    admin = await sessions.headers("admin")
    accounts = (await client.get("/api/accounts", headers=admin)).json()
    account_id = next(a["id"] for a in accounts if a["username"] == "manager2")
    reset = await client.post(
        f"/api/accounts/{account_id}/password", json={"new_password": "Temporary-2026"}, headers=admin
    )
    assert reset.status_code == 200
    body = (await login(client, "manager2", "Temporary-2026")).json()
    assert body["must_change_password"] is True


async def test_expired_forged_and_wrong_type_tokens(client, settings):
    tokens = (await login(client, "manager")).json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    key = Keys.from_settings(settings).token_key
    expired = jwt.encode({**claims, "exp": utcnow() - timedelta(minutes=1)}, key, algorithm=ALGORITHM)
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and response.json()["code"] == "token_expired"
    forged = jwt.encode(
        {**claims, "sub": "1"}, "not-the-key-but-long-enough-for-hmac-sha256", algorithm=ALGORITHM
    )
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    other_sub = jwt.encode({**claims, "sub": "1"}, key, algorithm=ALGORITHM)
    response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {other_sub}"})
    assert response.status_code == 401 and response.json()["code"] == "session_ended"
    response = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert response.status_code == 401
