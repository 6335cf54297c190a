"""Adds that race, each with its interleaving forced: both requests read before either writes (a
barrier after the read), or one commits between the other's read and its write.

* Two adds of one person to a category: one subject, both answered as adds one after the other
  would be (200, the later one's evaluators stand), never a 500 from ``uq_eval_subject_person``.
* An add by post and an add of one of its holders: everyone once; the post's answer and its trail
  records cover only those it added; nobody left for it is its 409 ``no_one_to_add``.
* Two adds of one post: each holder once, the one left with nobody to add answers 409.
* Two new categories with one code: one made, the other ``duplicate_category`` (409).
* Two edits of a library at once: two versions, one after the other.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.evaluation.demo import library
from backend.evaluation.models import EvalCategory, EvalLibrary, EvalSubject
from backend.evaluation.service import EvaluationService
from backend.evaluation.subjects import SubjectService
from tests.evaluation.conftest import Setup
from tests.evaluation.test_subjects_by_post import customer_managers

WAIT = 20  # seconds a forced step waits at most: a request that never gets there fails the test


@pytest.fixture
async def client(app):
    """Requests that really run at once, on the test's event loop (where the barriers are)."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as racing:
        yield racing


def read_then_wait(
    monkeypatch: pytest.MonkeyPatch, barrier: asyncio.Barrier, cls: Any, name: str
) -> list[Any]:
    """Each request's first call of ``cls.name`` (a read) waits, once read, until the barrier's
    other parties have read too. Returns what those first reads found."""
    original = getattr(cls, name)
    waited: set[int] = set()
    found: list[Any] = []

    async def read_and_wait(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await original(self, *args, **kwargs)
        if id(self) not in waited:
            waited.add(id(self))
            found.append(result)
            await asyncio.wait_for(barrier.wait(), WAIT)
        return result

    monkeypatch.setattr(cls, name, read_and_wait)
    return found


async def subject_rows(db: Any, category_id: int, person_id: int) -> list[EvalSubject]:
    async with db.session() as s:
        stmt = select(EvalSubject).where(
            col(EvalSubject.category_id) == category_id, col(EvalSubject.person_id) == person_id
        )
        return list((await s.execute(stmt)).scalars())


async def records(db: Any, action: str, object_id: int | None = None) -> list[AuditRecord]:
    async with db.session() as s:
        stmt = select(AuditRecord).where(col(AuditRecord.action) == action)
        if object_id is not None:
            stmt = stmt.where(col(AuditRecord.object_id) == str(object_id))
        return list((await s.execute(stmt.order_by(col(AuditRecord.id)))).scalars())


async def to_add(db: Any, client: Any, headers: dict[str, str], category_id: int) -> tuple[int, list[int]]:
    """The customer managers' post and those holding it whom the inspector (东湖县, C01) may add,
    not evaluated yet (at least two)."""
    post_id, holders = await customer_managers(db)
    r = await client.get(f"/api/evaluation/categories/{category_id}/subjects", headers=headers)
    evaluated = {s["person_id"] for s in r.json()}
    left = sorted(pid for pid, county in holders.items() if county == "C01" and pid not in evaluated)
    assert len(left) >= 2
    return post_id, left


async def test_two_adds_of_one_person_at_once_make_one_subject_as_one_after_the_other_would(
    client, sessions, db, setup: Setup, monkeypatch
):
    c = setup.category_id
    inspector = await sessions.headers("inspector")
    _, left = await to_add(db, client, inspector, c)
    person = left[0]
    found = read_then_wait(monkeypatch, asyncio.Barrier(2), SubjectService, "_subject_row")

    url = f"/api/evaluation/categories/{c}/subjects"
    a, b = await asyncio.gather(
        client.post(url, json={"person_id": person, "evaluator_ids": [setup.manager]}, headers=inspector),
        client.post(url, json={"person_id": person, "evaluator_ids": [setup.manager2]}, headers=inspector),
    )
    assert found == [None, None]  # both read the person as not evaluated
    assert (a.status_code, b.status_code) == (200, 200), (a.text, b.text)
    assert a.json()["id"] == b.json()["id"]
    rows = await subject_rows(db, c, person)
    assert len(rows) == 1 and rows[0].active
    # each add set the evaluators, as two adds one after the other do: the later one's stand
    done = await records(db, "evaluation.subject.set", rows[0].id)
    assert sorted(r.new_value["evaluator_ids"] for r in done if r.new_value) == [
        [setup.manager],
        [setup.manager2],
    ]
    assert done[-1].new_value and rows[0].evaluator_ids == done[-1].new_value["evaluator_ids"]


@pytest.mark.parametrize("others_left", [True, False], ids=["others-left", "nobody-else-left"])
async def test_a_holder_added_between_the_posts_read_and_its_write_is_left_to_that_add(
    client, sessions, db, setup: Setup, monkeypatch, others_left: bool
):
    c = setup.category_id
    inspector = await sessions.headers("inspector")
    post_id, left = await to_add(db, client, inspector, c)
    person, others = left[0], left[1:]
    url = f"/api/evaluation/categories/{c}/subjects"
    if not others_left:
        for pid in others:
            r = await client.post(url, json={"person_id": pid}, headers=inspector)
            assert r.status_code == 200, r.text
    by_post_read, single_done = asyncio.Event(), asyncio.Event()
    original = SubjectService._evaluated

    async def read_then_let_the_add_in(self: SubjectService, category_id: int) -> set[int]:
        evaluated = await original(self, category_id)
        assert person not in evaluated
        by_post_read.set()
        await asyncio.wait_for(single_done.wait(), WAIT)
        return evaluated

    monkeypatch.setattr(SubjectService, "_evaluated", read_then_let_the_add_in)
    by_post = asyncio.create_task(client.post(f"{url}/by-post", json={"post_id": post_id}, headers=inspector))
    await asyncio.wait_for(by_post_read.wait(), WAIT)
    r = await client.post(
        url, json={"person_id": person, "evaluator_ids": [setup.manager]}, headers=inspector
    )
    assert r.status_code == 200, r.text
    single_done.set()
    answer = await by_post

    if others_left:
        assert answer.status_code == 200, answer.text
        assert [s["person_id"] for s in answer.json()] == others
        for s in answer.json():
            assert len(await records(db, "evaluation.subject.set", s["id"])) == 1
    else:
        assert answer.status_code == 409 and answer.json()["code"] == "no_one_to_add"
    rows = await subject_rows(db, c, person)
    assert len(rows) == 1 and rows[0].evaluator_ids == [setup.manager]
    assert len(await records(db, "evaluation.subject.set", rows[0].id)) == 1  # the add's only


async def test_an_add_and_an_add_by_post_at_once_make_everyone_a_subject_once(
    client, sessions, db, setup: Setup, monkeypatch
):
    c = setup.category_id
    inspector = await sessions.headers("inspector")
    post_id, left = await to_add(db, client, inspector, c)
    person, others = left[0], left[1:]
    barrier = asyncio.Barrier(2)
    single_read = read_then_wait(monkeypatch, barrier, SubjectService, "_subject_row")
    post_read = read_then_wait(monkeypatch, barrier, SubjectService, "_evaluated")

    url = f"/api/evaluation/categories/{c}/subjects"
    one, by_post = await asyncio.gather(
        client.post(url, json={"person_id": person, "evaluator_ids": [setup.manager]}, headers=inspector),
        client.post(f"{url}/by-post", json={"post_id": post_id}, headers=inspector),
    )
    assert single_read == [None] and person not in post_read[0]  # both read the person as not evaluated
    assert (one.status_code, by_post.status_code) == (200, 200), (one.text, by_post.text)
    added = [s["person_id"] for s in by_post.json()]
    assert [pid for pid in added if pid != person] == others
    for pid in left:
        assert len(await subject_rows(db, c, pid)) == 1
    row = (await subject_rows(db, c, person))[0]
    # whichever wrote first, the add's evaluators stand (over the post's, or the post left them)
    assert row.evaluator_ids == [setup.manager]
    # recorded once by the add, and once more by the post only if the post added the person
    assert len(await records(db, "evaluation.subject.set", row.id)) == (2 if person in added else 1)
    for s in by_post.json():
        if s["person_id"] != person:
            assert len(await records(db, "evaluation.subject.set", s["id"])) == 1


async def test_two_adds_of_one_post_at_once_add_each_holder_once(
    client, sessions, db, setup: Setup, monkeypatch
):
    c = setup.category_id
    inspector = await sessions.headers("inspector")
    post_id, left = await to_add(db, client, inspector, c)
    found = read_then_wait(monkeypatch, asyncio.Barrier(2), SubjectService, "_evaluated")
    url = f"/api/evaluation/categories/{c}/subjects/by-post"
    a, b = await asyncio.gather(
        client.post(url, json={"post_id": post_id}, headers=inspector),
        client.post(url, json={"post_id": post_id}, headers=inspector),
    )
    assert all(not set(left) & evaluated for evaluated in found)  # both read everyone as left to add
    # both take the holders in one order: the first to write takes them all, nobody is left for the other
    assert sorted((a.status_code, b.status_code)) == [200, 409], (a.text, b.text)
    took, lost = (a, b) if a.status_code == 200 else (b, a)
    assert lost.json()["code"] == "no_one_to_add"
    assert [s["person_id"] for s in took.json()] == left
    for s in took.json():
        assert len(await subject_rows(db, c, s["person_id"])) == 1
        assert len(await records(db, "evaluation.subject.set", s["id"])) == 1


async def test_two_new_categories_with_one_code_at_once_make_one(
    client, sessions, db, setup: Setup, monkeypatch
):
    inspector = await sessions.headers("inspector")
    found = read_then_wait(monkeypatch, asyncio.Barrier(2), EvaluationService, "_code_taken")
    body = {"code": "cw", "library": library()}
    a, b = await asyncio.gather(
        client.post("/api/evaluation/categories", json={**body, "name": "财务"}, headers=inspector),
        client.post("/api/evaluation/categories", json={**body, "name": "财务管理"}, headers=inspector),
    )
    assert found == [False, False]  # both read the code as free
    assert sorted((a.status_code, b.status_code)) == [201, 409], (a.text, b.text)
    lost = a if a.status_code == 409 else b
    assert lost.json()["code"] == "duplicate_category"
    async with db.session() as s:
        made = list((await s.execute(select(EvalCategory).where(col(EvalCategory.code) == "cw"))).scalars())
        assert len(made) == 1
        versions = (
            await s.execute(select(EvalLibrary).where(col(EvalLibrary.category_id) == made[0].id))
        ).scalars()
        assert [v.version for v in versions] == [1]
    created = [
        r
        for r in await records(db, "evaluation.category.create")
        if r.new_value and r.new_value["code"] == "cw"
    ]
    assert len(created) == 1 and created[0].object_id == str(made[0].id)
    versioned = await records(db, "evaluation.library.version")
    assert sum(1 for r in versioned if r.new_value and r.new_value["category_id"] == made[0].id) == 1


async def test_two_edits_of_a_library_at_once_make_two_versions(
    client, sessions, db, setup: Setup, monkeypatch
):
    c = setup.category_id
    inspector = await sessions.headers("inspector")
    url = f"/api/evaluation/categories/{c}/library"
    content = (await client.get(url, headers=inspector)).json()["content"]
    found = read_then_wait(monkeypatch, asyncio.Barrier(2), EvaluationService, "_last_version")
    a, b = await asyncio.gather(
        client.post(url, json={**content, "alert_below": 50, "note": "a"}, headers=inspector),
        client.post(url, json={**content, "alert_below": 55, "note": "b"}, headers=inspector),
    )
    assert found == [1, 1]  # both read version 1 as the last
    assert (a.status_code, b.status_code) == (201, 201), (a.text, b.text)
    assert sorted((a.json()["version"], b.json()["version"])) == [2, 3]
    async with db.session() as s:
        stored = {
            v.version: v.note
            for v in (await s.execute(select(EvalLibrary).where(col(EvalLibrary.category_id) == c))).scalars()
        }
    assert set(stored) == {1, 2, 3} and {stored[2], stored[3]} == {"a", "b"}
    versioned = [r.new_value for r in await records(db, "evaluation.library.version") if r.new_value]
    assert sorted(v["version"] for v in versioned if v["category_id"] == c) == [1, 2, 3]
