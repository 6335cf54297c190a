"""Evaluating a whole post at once: everyone holding it whom the caller may add (an inspector: the
units they inspect), each with the heads and inspectors over them as evaluators; people already
evaluated keep their evaluators; nothing left to add is a clear 409; heads may not add people."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.org.models import Person, Post, Unit
from tests.evaluation.conftest import Setup


async def customer_managers(db) -> tuple[int, dict[int, str]]:
    """The post's id and its active holders: person id → their county's code (C01, C02)."""
    async with db.session() as s:
        post = (await s.execute(select(Post).where(col(Post.code) == "CM"))).scalar_one()
        rows = await s.execute(
            select(Person.id, Unit.code)
            .join(Unit, col(Unit.id) == col(Person.unit_id))
            .where(col(Person.post_id) == post.id, col(Person.active).is_(True))
        )
        return int(post.id or 0), {int(pid): code[:3] for pid, code in rows}


async def subjects(client, c: int, headers) -> dict[int, dict]:
    r = await client.get(f"/api/evaluation/categories/{c}/subjects", headers=headers)
    return {s["person_id"]: s for s in r.json()}


async def test_an_inspector_adds_every_customer_manager_they_inspect_with_their_evaluators(
    client, sessions, db, setup: Setup
):
    post_id, holders = await customer_managers(db)
    c = setup.category_id
    inspector = await sessions.headers("inspector")
    me = (await client.get("/api/auth/me", headers=inspector)).json()["person_id"]
    head = (await client.get("/api/auth/me", headers=await sessions.headers("head"))).json()["person_id"]
    before = await subjects(client, c, inspector)

    url = f"/api/evaluation/categories/{c}/subjects/by-post"
    r = await client.post(url, json={"post_id": post_id}, headers=inspector)
    assert r.status_code == 200, r.text
    added = {s["person_id"]: s for s in r.json()}
    # every customer manager of 东湖县 (C01) not yet evaluated, nobody of 西岭县 (C02)
    assert set(added) == {pid for pid, county in holders.items() if county == "C01" and pid not in before}
    assert len(added) >= 2 and all(s["post_name"] == "客户经理" for s in added.values())
    # each with the inspector, and with the station's head where the station is the head's
    assert all(me in s["evaluator_ids"] for s in added.values())
    assert any(head in s["evaluator_ids"] for s in added.values())
    # those already evaluated kept their evaluators
    after = await subjects(client, c, inspector)
    assert all(after[pid]["evaluator_ids"] == s["evaluator_ids"] for pid, s in before.items())

    # again: nobody is left to add, said plainly; an unknown post is a 404
    r = await client.post(url, json={"post_id": post_id}, headers=inspector)
    assert r.status_code == 409 and r.json()["code"] == "no_one_to_add"
    r = await client.post(url, json={"post_id": 99999}, headers=inspector)
    assert r.status_code == 404 and r.json()["code"] == "post_not_found"

    # the other county's inspector adds theirs; a head may not add people at all
    inspector2 = await sessions.headers("inspector2")
    before2 = await subjects(client, c, inspector2)
    r = await client.post(url, json={"post_id": post_id}, headers=inspector2)
    assert r.status_code == 200, r.text
    expected = {pid for pid, county in holders.items() if county == "C02" and pid not in before2}
    assert expected and {s["person_id"] for s in r.json()} == expected
    r = await client.post(url, json={"post_id": post_id}, headers=await sessions.headers("head"))
    assert r.status_code == 403
