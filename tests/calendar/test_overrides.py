from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from backend.audit.models import AuditRecord


async def test_admin_adds_and_removes_overrides(client, sessions, db):
    admin = await sessions.headers("admin")
    r = await client.post(
        "/api/calendar/overrides",
        json={"day": "2027-01-01", "kind": "holiday", "note": "元旦"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["override"]["day"] == "2027-01-01"
    dup = await client.post(
        "/api/calendar/overrides", json={"day": "2027-01-01", "kind": "workday"}, headers=admin
    )
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_override"
    days = (
        await client.get(
            "/api/calendar/days", params={"from": "2026-12-31", "to": "2027-01-02"}, headers=admin
        )
    ).json()
    assert [(d["day"], d["working"], d["provisional"], d["source"]) for d in days] == [
        ("2026-12-31", True, False, "statutory"),
        ("2027-01-01", False, False, "override"),
        ("2027-01-02", False, False, "year"),
    ]
    listed = (await client.get("/api/calendar/overrides", params={"year": 2027}, headers=admin)).json()
    assert [o["day"] for o in listed] == ["2027-01-01"]
    r = await client.delete("/api/calendar/overrides/2027-01-01", headers=admin)
    assert r.status_code == 200
    assert (await client.get("/api/calendar/overrides", headers=admin)).json() == []
    async with db.session() as s:
        actions = [a for (a,) in (await s.execute(select(AuditRecord.action))).all()]
    assert "calendar.override_add" in actions and "calendar.override_remove" in actions


async def test_override_bad_input(client, sessions):
    admin = await sessions.headers("admin")
    for body in (
        {"day": "2027-02-30", "kind": "holiday"},
        {"day": "01/02/2027", "kind": "holiday"},
        {"day": "2027-02-01", "kind": "vacation"},
        {"day": "2027-02-01"},
        {"day": "2027-02-01", "kind": "holiday", "extra": 1},
    ):
        r = await client.post("/api/calendar/overrides", json=body, headers=admin)
        assert r.status_code == 400, body
        assert r.json()["code"] == "invalid_request"
    r = await client.delete("/api/calendar/overrides/2027-13-01", headers=admin)
    assert r.status_code == 400 and r.json()["code"] == "invalid_date"
    r = await client.get(
        "/api/calendar/days", params={"from": "2027-01-05", "to": "2027-01-01"}, headers=admin
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_range"
    r = await client.get(
        "/api/calendar/deadline", params={"raised_at": "yesterday", "level": "high"}, headers=admin
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_datetime"
    r = await client.post(
        "/api/calendar/overrides",
        json={"day": "2027-02-01", "kind": "holiday"},
        headers=await sessions.headers("inspector"),
    )
    assert r.status_code == 403


async def test_deadline_endpoint_far_future(client, sessions):
    h = await sessions.headers("manager")
    r = await client.get(
        "/api/calendar/deadline", params={"raised_at": "9999-12-30T00:00:00+00:00", "level": "low"}, headers=h
    )
    assert r.status_code == 200
    assert r.json()["due_on"] == "9999-12-31" and r.json()["provisional"] is True


def test_cli_add_list_remove(settings):
    env = {
        **os.environ,
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(settings.data_dir),
        "PROBITY_SECRET_KEY": settings.secret_key.get_secret_value(),
    }

    def probity(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "backend.cli", "calendar", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert "2027-01-11 (provisional)" in probity("deadline", "2026-12-28", "high").stdout
    added = probity("add", "2027-02-06", "workday", "--note", "春节调休")
    assert added.returncode == 0, added.stderr
    assert "added 2027-02-06 workday" in added.stdout
    assert "2027-02-06\tworkday\t春节调休" in probity("list", "--year", "2027").stdout
    assert probity("add", "2027-02-06", "holiday").returncode != 0
    bad = probity("add", "2027-02-31", "holiday")
    assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stderr
    # 2027 now has overrides: the rest of its days are plain weekdays, no longer a guess
    assert probity("deadline", "2026-12-28", "high").stdout.strip() == "2027-01-11"
    assert probity("remove", "2027-02-06").returncode == 0
    assert probity("list").stdout.strip() == ""
