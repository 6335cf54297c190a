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
    # … but for whose warning it is, which the unit view names (one's own inbox need not)
    whose = {i.pop("person_name") for i in theirs["items"]}
    assert len(whose) == 1 and None not in whose and "manager" not in whose
    assert {i.pop("person_name") for i in mine["items"]} == {None}
    assert mine["items"] == theirs["items"] and mine["counts"] == theirs["counts"]


async def test_nobody_has_an_empty_inbox_with_counts(client, sessions):
    body = (await client.get("/api/warnings", headers=await sessions.headers("manager2"))).json()
    assert body == {
        "items": [],
        "total": 0,
        "counts": {"high": 0, "medium": 0, "low": 0},
        "limit": 20,
        "offset": 0,
        "todo": 0,
        "done": 0,
    }


async def test_the_sqlite_fast_path_answers_what_the_general_path_answers(client, sessions, seed, db):
    """The phone's inbox (raw sqlite3 rows straight to JSON) and own_inbox_values (Core rows) agree,
    field for field: local times, due day, overdue, open, finding, evidence as stored."""
    import json
    import uuid
    from datetime import datetime

    from backend.kernel.timeutil import SHANGHAI
    from backend.warnings.inbox import InboxFilters, own_inbox_values
    from backend.warnings.inbox_json import inbox_json, own_inbox_json
    from backend.warnings.models import Level

    await seed.warning("E0005", level="high", raised_at=datetime(2025, 3, 3, 9, tzinfo=SHANGHAI))  # overdue
    await seed.warning(
        "E0005", level="low", raised_at=datetime(2026, 12, 28, 10, tzinfo=SHANGHAI)
    )  # provisional
    answered = await seed.warning("E0005", level="medium", evidence={"备注": "夜间零电量", "n": [1, 2.5]})
    await seed.warning("E0005", level="high", evidence={})
    await seed.warning("E0005", deliver=False)  # raised, no deadline yet
    h = await sessions.headers("manager")
    body = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "正常"}
    assert (
        await client.post(f"/api/warnings/{answered}/verifications", json=body, headers=h)
    ).status_code == 201
    me = (await client.get("/api/auth/me", headers=h)).json()
    from backend.kernel.access import Principal, Role

    principal = Principal(0, "", me["person_id"], me["unit_id"], frozenset({Role.employee}), frozenset())
    for filters, limit, offset in (
        (InboxFilters(), 20, 0),
        (InboxFilters(), 2, 1),
        (InboxFilters(level=Level.high), 20, 0),
        (InboxFilters(level=Level.medium), 20, 5),
    ):
        fast = json.loads(
            (await own_inbox_json(db.engine, principal, filters, limit=limit, offset=offset)).body
        )
        general = json.loads(
            inbox_json(await own_inbox_values(db.engine, principal, filters, limit=limit, offset=offset))
        )
        assert fast == general, (filters, limit, offset)
    page = json.loads((await own_inbox_json(db.engine, principal, InboxFilters())).body)
    assert len(page["items"]) == 5 and page["counts"] == {"high": 3, "medium": 1, "low": 1}
    by_level = {(i["level"], i["state"]): i for i in page["items"]}
    assert by_level[("medium", "submitted")]["evidence"] == {"备注": "夜间零电量", "n": [1, 2.5]}
    assert (
        by_level[("medium", "submitted")]["open"] is False
        and by_level[("medium", "submitted")]["finding"] == "not_true"
    )
    assert by_level[("low", "delivered")]["deadline_provisional"] is True
    assert by_level[("high", "raised")]["due_at"] is None and by_level[("high", "raised")]["overdue"] is False
    assert any(i["overdue"] for i in page["items"])
    assert all(i["raised_at"].endswith("+08:00") for i in page["items"])
    # and the route answers the same
    assert (await client.get("/api/warnings", headers=h)).json() == page
