from __future__ import annotations

import uuid

from sqlalchemy import select

from backend.events.models import Event


async def answer_true(client, sessions, wid, user="manager"):
    body = {"client_id": str(uuid.uuid4()), "result": "true", "cause": "c", "measures": "m"}
    r = await client.post(
        f"/api/warnings/{wid}/verifications", json=body, headers=await sessions.headers(user)
    )
    assert r.status_code == 201, r.text


async def true_finding(client, sessions, wid, user="manager", by="head"):
    """The person answers "true" and the head confirms it: a finding that counts."""
    await answer_true(client, sessions, wid, user)
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers(by))
    assert r.status_code == 200, r.text


async def linked(client, sessions, user="inspector"):
    r = await client.get("/api/linked", headers=await sessions.headers(user))
    assert r.status_code == 200, r.text
    return r.json()


async def test_same_topic_true_three_times_raises_one_letter(client, sessions, seed, db):
    ids = [await seed.warning("E0005", level="low", topic_code="T05", topic_id=5) for _ in range(3)]
    await true_finding(client, sessions, ids[0])
    await true_finding(client, sessions, ids[1])
    assert await linked(client, sessions) == []
    await true_finding(client, sessions, ids[2])
    letters = await linked(client, sessions)
    assert [(x["rule"], sorted(x["warning_ids"])) for x in letters] == [("repeat", sorted(ids))]
    letter = letters[0]
    assert letter["state"] == "raised" and letter["report_due_at"]
    head = await sessions.headers("head")
    r = await client.post(
        f"/api/linked/{letter['id']}/report", json={"report": "r", "measures": "m"}, headers=head
    )
    assert r.status_code == 200 and r.json()["state"] == "answered"
    again = await client.post(
        f"/api/linked/{letter['id']}/report", json={"report": "r", "measures": "m"}, headers=head
    )
    assert again.status_code == 409
    assert await linked(client, sessions, "head2") == []
    r = await client.get(f"/api/linked/{letter['id']}", headers=await sessions.headers("head2"))
    assert r.status_code == 404
    async with db.session() as s:
        ev = (await s.execute(select(Event).where(Event.kind == "linked.raised"))).scalars().all()
        assert len(ev) == 1
    detail = (await client.get(f"/api/warnings/{ids[0]}", headers=head)).json()
    assert "linked" in [s["kind"] for s in detail["timeline"]]


async def test_two_true_reds_and_concentration(client, sessions, seed):
    a = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    b = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    await true_finding(client, sessions, a)
    assert await linked(client, sessions) == []
    await true_finding(client, sessions, b)
    rules = {p["rule"] for x in await linked(client, sessions) for p in x["patterns"]}
    assert rules == {"double_red", "relapse"}
    c = await seed.warning("E0005", level="low", topic_code="T03", topic_id=3)
    await true_finding(client, sessions, c)
    # b (red after a, handled) was a relapse too, named by the same letter; c a concentration
    letters = await linked(client, sessions)
    assert [sorted(p["rule"] for p in x["patterns"]) for x in letters] == [
        ["concentrated"],
        ["double_red", "relapse"],
    ]


async def test_true_red_after_handled_true_warning(client, sessions, seed):
    first = await seed.warning("E0005", level="low", topic_code="T02", topic_id=2)
    await true_finding(client, sessions, first)
    red = await seed.warning("E0005", level="high", topic_code="T02", topic_id=2)
    await true_finding(client, sessions, red)
    rules = {p["rule"] for x in await linked(client, sessions) for p in x["patterns"]}
    assert "relapse" in rules


async def test_not_true_replies_raise_nothing(client, sessions, seed):
    for _ in range(3):
        wid = await seed.warning("E0005", level="high", topic_code="T07", topic_id=7)
        body = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "normal"}
        await client.post(
            f"/api/warnings/{wid}/verifications", json=body, headers=await sessions.headers("manager")
        )
    assert await linked(client, sessions) == []


async def test_a_rule_run_that_turns_a_true_warning_red_raises_a_letter(
    client, sessions, db, settings, tmp_path
):
    """Evaluated after each run too: a later run raises a true orange warning to red, and the
    second true red of the topic raises a letter without anyone replying again."""
    from backend.data.store import BusinessStore
    from backend.warnings.models import Warning
    from tests.engine.helpers import load_rows, month_rows, run, zero_usage_topic

    try:
        first = [*month_rows("A001", "E0005", 3), *month_rows("A004", "E0005", 2)]
        await zero_usage_topic(db, settings, tmp_path, rows=first)
        await run(db, settings)
        async with db.session() as s:
            found = {w.object_key: w for w in (await s.execute(select(Warning))).scalars()}
        assert (found["A001"].level, found["A004"].level) == ("high", "medium")
        for key in ("A001", "A004"):
            await true_finding(client, sessions, found[key].id)
        assert await linked(client, sessions) == []
        # the next month's data: A004 had a third day without use
        await load_rows(db, settings, tmp_path, [*first[:4], *month_rows("A004", "E0005", 3)], "r2.csv")
        (record,) = await run(db, settings)
        assert record.warnings_updated == 2
        letters = await linked(client, sessions)
        assert [(x["rule"], sorted(x["warning_ids"])) for x in letters] == [
            ("double_red", sorted([found["A001"].id, found["A004"].id]))
        ]
        assert letters[0]["level"] == "high"
        # a third run changes nothing: one letter per pattern
        await run(db, settings)
        assert len(await linked(client, sessions)) == 1
        async with db.session() as s:
            ev = (await s.execute(select(Event).where(Event.kind == "linked.raised"))).scalars().all()
        assert len(ev) == 1
    finally:
        BusinessStore.close_all()
