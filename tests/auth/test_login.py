from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.audit.models import AuditRecord

DEMO = ["admin", "committee", "inspector", "head", "manager", "manager2"]


@pytest.mark.parametrize("username", DEMO)
async def test_every_demo_account_signs_in(client, username):
    response = await client.post("/api/auth/login", json={"username": username, "password": "demo"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == username


async def test_wrong_password_is_401_with_code(client):
    response = await client.post("/api/auth/login", json={"username": "manager", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_unknown_user_is_401_and_recorded(client, db):
    response = await client.post("/api/auth/login", json={"username": "ghost", "password": "demo"})
    assert response.status_code == 401
    async with db.session() as s:
        rec = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "auth.login_failed")
                )
            )
            .scalars()
            .all()
        )
    assert rec and rec[-1].new_value["username"] == "ghost"
