"""The letter rules (9.2.3.1, issue 19): one letter per department and moment naming every pattern
that holds; only findings a head or inspector confirmed as true count; a warning counted in a
letter for one pattern is not counted again for that pattern."""

from __future__ import annotations

import uuid

from tests.warnings.test_linked import answer_true, linked


async def confirm(client, sessions, wid, user="head"):
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers(user))
    assert r.status_code == 200, r.text


async def true_and_confirmed(client, sessions, wid, user="head"):
    await answer_true(client, sessions, wid)
    await confirm(client, sessions, wid, user)


def patterns(letter):
    return {p["rule"]: sorted(p["warning_ids"]) for p in letter["patterns"]}


async def test_replies_not_confirmed_raise_no_letter(client, sessions, seed):
    """An employee's own "true" is not a confirmed finding: three unconfirmed replies raise nothing;
    once the head confirms the third, one letter names the three."""
    ids = [await seed.warning("E0005", level="low", topic_code="T05", topic_id=5) for _ in range(3)]
    for wid in ids:
        await answer_true(client, sessions, wid)
    assert await linked(client, sessions) == []
    for wid in ids:
        await confirm(client, sessions, wid)
    letters = await linked(client, sessions)
    assert [(x["rule"], sorted(x["warning_ids"])) for x in letters] == [("repeat", sorted(ids))]


async def test_an_inspector_confirmation_counts_too(client, sessions, seed):
    a = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    b = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    await true_and_confirmed(client, sessions, a, "inspector")
    await true_and_confirmed(client, sessions, b, "inspector")
    (letter,) = await linked(client, sessions)
    # red twice, and b a true alarm after a true warning a handled: two patterns, one letter
    assert patterns(letter) == {"double_red": sorted([a, b]), "relapse": sorted([a, b])}


async def test_one_letter_names_every_pattern_of_one_moment(client, sessions, seed):
    """Two true reds of one topic confirmed one after the other: red twice AND a true alarm after a
    handled true warning — one letter naming both patterns, not two letters in the same second.
    A third: the topic is true three times; the reds already counted are not counted again."""
    ids = [await seed.warning("E0005", level="high", topic_code="T02", topic_id=2) for _ in range(3)]
    for wid in ids[:2]:
        await true_and_confirmed(client, sessions, wid)
    first = await linked(client, sessions)
    assert [patterns(x) for x in first] == [{"double_red": sorted(ids[:2]), "relapse": sorted(ids[:2])}]
    await true_and_confirmed(client, sessions, ids[2])
    letters = await linked(client, sessions)
    assert len(letters) == 2
    newest = letters[0]
    # the third red is red once more on its own and its earlier ones are counted for a relapse:
    # only the repeat, naming all three
    assert patterns(newest) == {"repeat": sorted(ids)}
    # every letter's warnings are the union of its patterns'
    assert sorted(newest["warning_ids"]) == sorted(ids)


async def test_patterns_holding_at_once_share_one_letter(client, sessions, seed):
    """Concentration on a person and a double red become true by one confirmation: one letter."""
    a = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    b = await seed.warning("E0005", level="low", topic_code="T03", topic_id=3)
    c = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    await true_and_confirmed(client, sessions, a)
    assert await linked(client, sessions) == []
    # b answered but not confirmed: counts for nothing yet
    await answer_true(client, sessions, b)
    assert await linked(client, sessions) == []
    await answer_true(client, sessions, c)
    await confirm(client, sessions, b)
    (letter,) = await linked(client, sessions)
    assert patterns(letter) == {"concentrated": sorted([a, b])}
    await confirm(client, sessions, c)
    letters = await linked(client, sessions)
    assert len(letters) == 2
    # c makes T01 red twice, and is a true alarm after a (handled): one letter, two patterns; c adds
    # no topic for the person, whose a and b are counted for concentration already
    assert patterns(letters[0]) == {"double_red": sorted([a, c]), "relapse": sorted([a, c])}


async def test_a_warning_counted_for_a_pattern_is_not_counted_again(client, sessions, seed):
    """Concentration on one person: a first letter names a (T01) and b (T03). Then c (T05) is true:
    alone it is one topic, no new letter (today a letter naming a, b, c again). Then d (T06): a
    second concentration letter naming c and d only."""
    a = await seed.warning("E0005", level="low", topic_code="T01", topic_id=1)
    b = await seed.warning("E0005", level="low", topic_code="T03", topic_id=3)
    c = await seed.warning("E0005", level="low", topic_code="T05", topic_id=5)
    d = await seed.warning("E0005", level="low", topic_code="T06", topic_id=6)
    for wid in (a, b):
        await true_and_confirmed(client, sessions, wid)
    (first,) = await linked(client, sessions)
    assert patterns(first) == {"concentrated": sorted([a, b])}
    await true_and_confirmed(client, sessions, c)
    assert len(await linked(client, sessions)) == 1
    await true_and_confirmed(client, sessions, d)
    letters = await linked(client, sessions)
    assert len(letters) == 2
    assert patterns(letters[0]) == {"concentrated": sorted([c, d])}
    named = [w for x in letters for w in x["warning_ids"]]
    assert len(named) == len(set(named)), "a warning named by two concentration letters"


async def test_not_true_confirmed_raises_nothing(client, sessions, seed):
    for _ in range(3):
        wid = await seed.warning("E0005", level="high", topic_code="T07", topic_id=7)
        body = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "normal"}
        r = await client.post(
            f"/api/warnings/{wid}/verifications", json=body, headers=await sessions.headers("manager")
        )
        assert r.status_code == 201
        await confirm(client, sessions, wid)
    assert await linked(client, sessions) == []


async def waiting_on_a_lock(db, tries=400):
    """Until a transaction of the test database waits for a lock another holds (PostgreSQL)."""
    import asyncio

    from sqlalchemy import text

    for _ in range(tries):
        async with db.session() as s:
            waiting = (await s.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).scalar_one()
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the second confirmation never waited for the first")


async def test_two_confirmations_at_once_raise_one_letter(client, sessions, seed, db, settings):
    """Two heads' confirmations in one department at the same moment (PostgreSQL): the second waits
    for the first (the department's row is locked while its warnings are counted) and does
    not count the first letter's warnings again; were they not queued, ``linked_member``'s unique
    key would refuse the second letter instead of letting it reuse them."""
    import asyncio

    import pytest

    from backend.kernel.access import Principal, Role
    from backend.warnings.schemas import DecisionCreate
    from backend.warnings.service import WarningService
    from tests.warnings.conftest import TRAIL

    if settings.is_sqlite:
        pytest.skip("SQLite: a process's writing transactions take turns (backend/kernel/turns.py)")
    ids = [await seed.warning("E0005", level="low", topic_code="T05", topic_id=5) for _ in range(4)]
    for wid in ids[:2]:
        await true_and_confirmed(client, sessions, wid)
    for wid in ids[2:]:
        await answer_true(client, sessions, wid)
    head, unit = await seed.person("E0004")
    boss = Principal(0, "", head, unit, frozenset({Role.head}), frozenset({unit}))
    async with db.session() as first, db.session() as second:
        one = WarningService(first, TRAIL, settings)
        two = WarningService(second, TRAIL, settings)
        # the first confirmation's transaction is open (its letter not committed) when the second runs
        original = first.commit
        reached, gate = asyncio.Event(), asyncio.Event()

        async def held_commit():
            reached.set()
            await gate.wait()
            await original()

        first.commit = held_commit  # type: ignore[method-assign]
        a = asyncio.create_task(one.decide(boss, ids[2], DecisionCreate(), confirm=True))
        await reached.wait()
        b = asyncio.create_task(two.decide(boss, ids[3], DecisionCreate(), confirm=True))
        await waiting_on_a_lock(db)  # the second now waits for the first
        gate.set()
        await asyncio.gather(a, b)
    letters = await linked(client, sessions)
    assert [patterns(x) for x in letters] == [{"repeat": sorted(ids[:3])}]
