"""Separation of duties: nobody changes their own roles; committee and inspector need a second
administrator's approval, and every request and decision is in the trail."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord


async def bearer(client, username, password="demo"):
    r = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def second_admin(client, admin):
    """Another administrator, signed in (after the password change a new account needs)."""
    person = await client.post(
        "/api/people",
        json={"employee_no": "X90", "name": "第二管理员", "unit_code": "P00", "roles": ["admin"]},
        headers=admin,
    )
    assert person.status_code == 201, person.text
    account = await client.post(
        "/api/accounts",
        json={"employee_no": "X90", "username": "admin2", "password": "Startwort-2026"},
        headers=admin,
    )
    assert account.status_code == 201, account.text
    headers = await bearer(client, "admin2", "Startwort-2026")
    changed = await client.post(
        "/api/auth/password",
        json={"current_password": "Startwort-2026", "new_password": "Zweiter-Schluessel-77"},
        headers=headers,
    )
    assert changed.status_code == 204
    return person.json()["id"], headers


async def test_an_admin_cannot_change_their_own_roles(client):
    admin = await bearer(client, "admin")
    me = (await client.get("/api/auth/me", headers=admin)).json()
    grab = await client.patch(
        f"/api/people/{me['person_id']}", json={"roles": ["admin", "expert", "committee"]}, headers=admin
    )
    assert grab.status_code == 403 and grab.json()["code"] == "own_roles"
    drop = await client.patch(f"/api/people/{me['person_id']}", json={"roles": ["admin"]}, headers=admin)
    assert drop.status_code == 403
    again = (await client.get("/api/auth/me", headers=await bearer(client, "admin"))).json()
    assert again["roles"] == ["admin", "expert"]
    # other fields of one's own record stay editable
    phone = await client.patch(f"/api/people/{me['person_id']}", json={"phone": "13900000000"}, headers=admin)
    assert phone.status_code == 200


async def test_committee_is_in_force_only_once_another_admin_approves(client, db):
    admin = await bearer(client, "admin")
    asked = await client.post(
        "/api/people",
        json={"employee_no": "X91", "name": "新委员", "unit_code": "P00", "roles": ["employee", "committee"]},
        headers=admin,
    )
    assert asked.status_code == 201
    person = asked.json()
    assert person["roles"] == ["employee"] and person["pending_roles"] == ["committee"]
    grants = (await client.get("/api/role-grants", headers=admin)).json()
    grant = next(g for g in grants if g["person_id"] == person["id"])
    assert grant["role"] == "committee" and grant["status"] == "pending"

    own = await client.post(f"/api/role-grants/{grant['id']}/approve", headers=admin)
    assert own.status_code == 403 and own.json()["code"] == "grant_needs_another_admin"
    assert (await client.get(f"/api/people/{person['id']}", headers=admin)).json()["roles"] == ["employee"]

    _, admin2 = await second_admin(client, admin)
    approved = await client.post(f"/api/role-grants/{grant['id']}/approve", headers=admin2)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await client.get(f"/api/people/{person['id']}", headers=admin)).json()["roles"] == [
        "committee",
        "employee",
    ]
    twice = await client.post(f"/api/role-grants/{grant['id']}/reject", headers=admin2)
    assert twice.status_code == 409 and twice.json()["code"] == "grant_not_pending"
    assert await client.get("/api/role-grants", headers=admin) is not None
    async with db.session() as s:
        actions = (
            (
                await s.execute(
                    select(AuditRecord.action)
                    .where(AuditRecord.object_type == "person", AuditRecord.object_id == str(person["id"]))
                    .order_by(col(AuditRecord.id))
                )
            )
            .scalars()
            .all()
        )
    assert actions == ["person.create", "role.grant_requested", "person.update", "role.grant_approved"]


async def test_an_edit_asking_inspector_waits_and_the_grantee_cannot_approve_it(client):
    admin = await bearer(client, "admin")
    admin2_person, admin2 = await second_admin(client, admin)
    asked = await client.patch(
        f"/api/people/{admin2_person}", json={"roles": ["admin", "inspector"]}, headers=admin
    )
    assert asked.status_code == 200
    assert asked.json()["roles"] == ["admin"] and asked.json()["pending_roles"] == ["inspector"]
    grant = next(
        g for g in (await client.get("/api/role-grants", headers=admin2)).json() if g["role"] == "inspector"
    )
    refused = await client.post(f"/api/role-grants/{grant['id']}/approve", headers=admin2)
    assert refused.status_code == 403 and refused.json()["code"] == "grant_needs_another_admin"
    rejected = await client.post(f"/api/role-grants/{grant['id']}/reject", headers=admin)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await client.get("/api/role-grants", headers=admin)).json() == []
    # taking a role away needs no approval
    removed = await client.patch(f"/api/people/{admin2_person}", json={"roles": ["employee"]}, headers=admin)
    assert removed.status_code == 200 and removed.json()["roles"] == ["employee"]
