"""Request bodies are read as JSON in strict mode: a number is no boolean and no date, text is no
number; dates and times still come as ISO text. Too large numbers and ids are 400/404, not 500."""

from __future__ import annotations

import pytest


async def test_a_number_is_not_a_boolean(client, sessions):
    admin = await sessions.headers("admin")
    accounts = (await client.get("/api/accounts", headers=admin)).json()
    target = next(a for a in accounts if a["username"] == "manager2")
    for value in (0, 1, "false", "true"):
        r = await client.patch(f"/api/accounts/{target['id']}", json={"active": value}, headers=admin)
        assert r.status_code == 400, (value, r.text)
        assert r.json()["code"] == "invalid_request" and r.json()["errors"][0]["field"] == "active"
    after = next(
        a for a in (await client.get("/api/accounts", headers=admin)).json() if a["id"] == target["id"]
    )
    assert after["active"] is True


async def test_a_number_is_not_a_date_but_iso_text_is(client, sessions):
    admin = await sessions.headers("admin")
    for day in (0, 20270101, 1798761600):
        r = await client.post(
            "/api/calendar/overrides", json={"day": day, "kind": "holiday", "note": "x"}, headers=admin
        )
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "day", (day, r.text)
    ok = await client.post(
        "/api/calendar/overrides", json={"day": "2027-10-09", "kind": "holiday", "note": "x"}, headers=admin
    )
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    "path", ["/api/people/9223372036854775808", "/api/people/99999999999999999999999", "/api/people/-1"]
)
async def test_ids_out_of_range_are_not_server_errors(client, sessions, path):
    r = await client.get(path, headers=await sessions.headers("admin"))
    assert r.status_code in {400, 404} and r.json()["code"] in {
        "invalid_request",
        "not_found",
        "person_not_found",
    }


async def test_numbers_too_large_in_a_body_are_400(client, sessions):
    admin = await sessions.headers("admin")
    body = {"title": "t", "body": "b", "targets": {"person_ids": [2**63 + 5]}}
    r = await client.post("/api/broadcasts", json=body, headers=admin)
    assert r.status_code == 400, r.text
