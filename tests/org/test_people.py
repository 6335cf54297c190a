from __future__ import annotations

from sqlalchemy import func, select

from backend.audit.models import AuditRecord


async def people(client, headers, **params):
    response = await client.get("/api/people", params={"limit": 500, **params}, headers=headers)
    assert response.status_code == 200
    return response.json()


async def test_people_lists_are_scoped_by_role(client, sessions):
    everyone = await people(client, await sessions.headers("committee"))
    assert everyone["total"] == 60
    assert (await people(client, await sessions.headers("admin")))["total"] == 60

    mine = await people(client, await sessions.headers("manager"))
    assert [p["employee_no"] for p in mine["items"]] == ["E0005"]

    station = await people(client, await sessions.headers("head"))
    assert {p["unit_code"] for p in station["items"]} == {"C01-S1"}
    assert {"E0004", "E0005"} <= {p["employee_no"] for p in station["items"]}

    county = await people(client, await sessions.headers("inspector"))
    codes = {p["unit_code"] for p in county["items"]}
    assert codes and all(c == "C01" or c.startswith("C01-") for c in codes)
    assert "C01-S2" in codes and "E0006" not in {p["employee_no"] for p in county["items"]}


async def test_people_filters(client, sessions):
    headers = await sessions.headers("committee")
    units = {u["code"]: u["id"] for u in (await client.get("/api/units", headers=headers)).json()}
    c02 = await people(client, headers, unit_id=units["C02"])
    assert c02["total"] > 0 and all(p["unit_code"].startswith("C02") for p in c02["items"])
    heads = await people(client, headers, role="head")
    assert "E0004" in {p["employee_no"] for p in heads["items"]}
    assert all("head" in p["roles"] for p in heads["items"])
    page = await people(client, headers, limit=5, offset=5)
    assert len(page["items"]) == 5 and page["total"] == 60
    bad = await client.get("/api/people", params={"limit": 0}, headers=headers)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_request"
    bad_role = await client.get("/api/people", params={"role": "king"}, headers=headers)
    assert bad_role.status_code == 400


async def test_admin_creates_and_edits_people_with_clear_errors(client, sessions, db):
    admin = await sessions.headers("admin")
    created = await client.post(
        "/api/people",
        json={
            "employee_no": "X1",
            "name": "新员工",
            "unit_code": "C01-S2",
            "post_code": "CM",
            "roles": ["employee"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["unit_code"] == "C01-S2" and person["post_risk_value"] == 70
    dup = await client.post(
        "/api/people", json={"employee_no": "X1", "name": "重复", "unit_code": "C01-S2"}, headers=admin
    )
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_employee_no"
    unknown = await client.post(
        "/api/people", json={"employee_no": "X2", "name": "无单位", "unit_code": "NOPE"}, headers=admin
    )
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_unit"
    assert unknown.json()["field"] == "unit_code"
    bad_role = await client.post(
        "/api/people",
        json={"employee_no": "X3", "name": "x", "unit_code": "C01", "roles": ["boss"]},
        headers=admin,
    )
    assert bad_role.status_code == 400 and bad_role.json()["errors"][0]["field"] == "roles"
    extra = await client.post(
        "/api/people", json={"employee_no": "X4", "name": "x", "unit_code": "C01", "salary": 1}, headers=admin
    )
    assert extra.status_code == 400

    moved = await client.patch(f"/api/people/{person['id']}", json={"unit_code": "C02-S1"}, headers=admin)
    assert moved.status_code == 200 and moved.json()["unit_code"] == "C02-S1"
    async with db.session() as s:
        rec = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(AuditRecord.action == "person.update", AuditRecord.object_id == str(person["id"]))
            )
        ).scalar_one()
    assert rec.old_value["unit_id"] == person["unit_id"] and rec.new_value["unit_id"] != person["unit_id"]
    assert rec.actor_label == "admin" and rec.actor_post == "系统管理员"
    missing = await client.patch("/api/people/999999", json={"phone": "1"}, headers=admin)
    assert missing.status_code == 404


async def test_deactivated_person_cannot_use_the_api(client, sessions):
    manager = await sessions.headers("manager")
    admin = await sessions.headers("admin")
    me = (await client.get("/api/auth/me", headers=manager)).json()
    assert (
        await client.patch(f"/api/people/{me['person_id']}", json={"active": False}, headers=admin)
    ).status_code == 200
    assert (await client.get("/api/auth/me", headers=manager)).status_code == 401


async def test_moving_a_unit_moves_its_subtree_and_refuses_cycles(client, sessions):
    admin = await sessions.headers("admin")
    units = {u["code"]: u for u in (await client.get("/api/units", headers=admin)).json()}
    cycle = await client.patch(
        f"/api/units/{units['C01']['id']}", json={"parent_code": "C01-S1"}, headers=admin
    )
    assert cycle.status_code == 400 and cycle.json()["code"] == "unit_cycle"
    moved = await client.patch(
        f"/api/units/{units['C01-S2']['id']}", json={"parent_code": "C02"}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["parent_id"] == units["C02"]["id"]
    # inspector2 (C02) now sees the people of the moved station, inspector (C01) no longer does
    c02 = await people(client, await sessions.headers("inspector2"))
    c01 = await people(client, await sessions.headers("inspector"))
    assert "C01-S2" in {p["unit_code"] for p in c02["items"]}
    assert "C01-S2" not in {p["unit_code"] for p in c01["items"]}


async def test_posts_carry_a_risk_value(client, sessions):
    admin = await sessions.headers("admin")
    posts = {p["code"]: p for p in (await client.get("/api/posts", headers=admin)).json()}
    bad = await client.patch(f"/api/posts/{posts['CM']['id']}", json={"risk_value": 101}, headers=admin)
    assert bad.status_code == 400
    ok = await client.patch(f"/api/posts/{posts['CM']['id']}", json={"risk_value": 88}, headers=admin)
    assert ok.json()["risk_value"] == 88
    dup = await client.post("/api/posts", json={"code": "CM", "name": "x"}, headers=admin)
    assert dup.status_code == 409


async def test_nothing_changes_without_a_trail_record(client, sessions, db):
    admin = await sessions.headers("admin")
    async with db.session() as s:
        before = (await s.execute(select(func.count()).select_from(AuditRecord))).scalar_one()
    await client.post(
        "/api/units", json={"code": "T1", "name": "t", "kind": "station", "parent_code": "C01"}, headers=admin
    )
    await client.post("/api/posts", json={"code": "T1", "name": "t"}, headers=admin)
    async with db.session() as s:
        rows = (await s.execute(select(AuditRecord).order_by(AuditRecord.id).offset(before))).scalars().all()
    assert [r.action for r in rows] == ["unit.create", "post.create"]
    assert all(r.channel == "api" and r.request_id for r in rows)
