"""The employee inbox in one statement: counts and pages agree with the general path."""

from __future__ import annotations


async def test_counts_survive_empty_pages_and_absent_levels(client, sessions, seed):
    for level in ("high", "low", "low"):
        await seed.warning("E0005", level=level)
    h = await sessions.headers("manager")
    cases = [
        ({"offset": 10}, 3, 0),
        ({"level": "medium"}, 0, 0),
        ({"level": "low", "offset": 1}, 2, 1),
        ({"level": "low", "offset": 5}, 2, 0),
        ({"limit": 1}, 3, 1),
    ]
    for params, total, n in cases:
        body = (await client.get("/api/warnings", params=params, headers=h)).json()
        assert body["counts"] == {"high": 1, "medium": 0, "low": 2}, params
        assert (body["total"], len(body["items"])) == (total, n), params
    # the same answers as the general path (a head's unit view filtered to the person)
    mine = (await client.get("/api/warnings", headers=h)).json()
    person_id = mine["items"][0]["person_id"]
    theirs = (
        await client.get(
            "/api/warnings",
            params={"view": "unit", "person_id": person_id},
            headers=await sessions.headers("head"),
        )
    ).json()
    assert mine["items"] == theirs["items"] and mine["counts"] == theirs["counts"]


async def test_nobody_has_an_empty_inbox_with_counts(client, sessions):
    body = (await client.get("/api/warnings", headers=await sessions.headers("manager2"))).json()
    assert body == {
        "items": [],
        "total": 0,
        "counts": {"high": 0, "medium": 0, "low": 0},
        "limit": 20,
        "offset": 0,
    }
