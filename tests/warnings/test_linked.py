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


async def linked(client, sessions, user="inspector"):
    r = await client.get("/api/linked", headers=await sessions.headers(user))
    assert r.status_code == 200, r.text
    return r.json()


async def test_same_topic_true_three_times_raises_one_letter(client, sessions, seed, db):
    ids = [await seed.warning("E0005", level="low", topic_code="T05", topic_id=5) for _ in range(3)]
    await answer_true(client, sessions, ids[0])
    await answer_true(client, sessions, ids[1])
    assert await linked(client, sessions) == []
    await answer_true(client, sessions, ids[2])
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
    await answer_true(client, sessions, a)
    assert await linked(client, sessions) == []
    await answer_true(client, sessions, b)
    rules = {x["rule"] for x in await linked(client, sessions)}
    assert rules == {"double_red"}
    c = await seed.warning("E0005", level="low", topic_code="T03", topic_id=3)
    await answer_true(client, sessions, c)
    rules = [x["rule"] for x in await linked(client, sessions)]
    assert rules.count("concentrated") == 1


async def test_true_red_after_handled_true_warning(client, sessions, seed):
    first = await seed.warning("E0005", level="low", topic_code="T02", topic_id=2)
    await answer_true(client, sessions, first)
    head = await sessions.headers("head")
    assert (await client.post(f"/api/warnings/{first}/confirm", headers=head)).status_code == 200
    red = await seed.warning("E0005", level="high", topic_code="T02", topic_id=2)
    await answer_true(client, sessions, red)
    rules = {x["rule"] for x in await linked(client, sessions)}
    assert "relapse" in rules


async def test_not_true_replies_raise_nothing(client, sessions, seed):
    for _ in range(3):
        wid = await seed.warning("E0005", level="high", topic_code="T07", topic_id=7)
        body = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "normal"}
        await client.post(
            f"/api/warnings/{wid}/verifications", json=body, headers=await sessions.headers("manager")
        )
    assert await linked(client, sessions) == []
