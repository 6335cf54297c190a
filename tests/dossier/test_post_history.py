"""Posts held over time: a row of the post history is written when a person is created or their
post or unit changes (the org import, an admin's edit), and the archive reads it; for the time
before the table (one "backfill" row per person, as the migration writes) the trail still tells."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlmodel import col

from backend.kernel.timeutil import local, utcnow
from backend.org.models import Person, PersonPost
from tests.org.test_import import HEADER, upload


async def history(db, employee_no: str) -> list[tuple[str | None, str | None, str | None, str]]:
    async with db.session() as s:
        person = (await s.execute(select(Person).where(col(Person.employee_no) == employee_no))).scalar_one()
        rows = (
            await s.execute(
                select(PersonPost).where(col(PersonPost.person_id) == person.id).order_by(col(PersonPost.id))
            )
        ).scalars()
        return [
            (str(r.post_id), r.since and r.since.isoformat(), r.until and r.until.isoformat(), r.source)
            for r in rows
        ]


async def posts_in_archive(
    client, sessions, person_id: int
) -> list[tuple[str | None, str | None, str | None]]:
    r = await client.get(f"/api/dossier/{person_id}", headers=await sessions.headers("committee"))
    assert r.status_code == 200, r.text
    return [(p["post_name"], p["since"], p["until"]) for p in r.json()["posts"]]


async def walk(client, sessions, db) -> int:
    """N001: imported as 客户经理 since 2023-05-06, re-imported as another post since 2026-03-01,
    then moved by the admin to a third post (today). Returns the person's id."""
    admin = await sessions.headers("admin")
    first = HEADER + "N001,甲乙,C01-S1,CM,2023-05-06,,employee\n"
    assert (await upload(client, admin, "people", "p.csv", first.encode())).status_code == 200
    moved = HEADER + "N001,甲乙,C01-S1,MI,2026-03-01,,employee\n"
    r = await upload(client, admin, "people", "p.csv", moved.encode())
    assert r.status_code == 200, r.text
    listed = (await client.get("/api/people", params={"q": "N001"}, headers=admin)).json()["items"][0]
    r = await client.patch(f"/api/people/{listed['id']}", json={"post_code": "AM"}, headers=admin)
    assert r.status_code == 200, r.text
    return int(listed["id"])


async def test_each_change_of_post_writes_the_history_and_the_archive_reads_it(client, sessions, db):
    person_id = await walk(client, sessions, db)
    today = local(utcnow()).date().isoformat()
    rows = await history(db, "N001")
    assert [(since, until, source) for _, since, until, source in rows] == [
        ("2023-05-06", "2026-03-01", "imported"),
        ("2026-03-01", today, "imported"),
        (today, None, "edited"),
    ]
    names = [p for p, _, _ in await posts_in_archive(client, sessions, person_id)]
    assert len(names) == 3 and names[-1] == "客户经理" and len(set(names)) == 3
    assert [(s, u) for _, s, u in await posts_in_archive(client, sessions, person_id)] == [
        (today, None),
        ("2026-03-01", today),
        ("2023-05-06", "2026-03-01"),
    ]
    # an edit that keeps the post and unit writes nothing
    r = await client.patch(
        f"/api/people/{person_id}", json={"phone": "13900001111"}, headers=await sessions.headers("admin")
    )
    assert r.status_code == 200 and len(await history(db, "N001")) == 3


async def test_before_the_table_the_trail_tells_the_earlier_posts(client, sessions, db):
    admin = await sessions.headers("admin")
    for csv in ("N001,甲乙,C01-S1,CM,2023-05-06,,employee\n", "N001,甲乙,C01-S1,MI,2026-03-01,,employee\n"):
        assert (await upload(client, admin, "people", "p.csv", (HEADER + csv).encode())).status_code == 200
    async with db.session() as s:  # as if the table were made now: one backfill row, the post held
        person = (await s.execute(select(Person).where(col(Person.employee_no) == "N001"))).scalar_one()
        await s.execute(delete(PersonPost).where(col(PersonPost.person_id) == person.id))
        s.add(PersonPost(person_id=person.id or 0, post_id=person.post_id, unit_id=person.unit_id,
                         since=date(2026, 3, 1), source="backfill"))  # fmt: skip
        await s.commit()
        person_id = person.id
    r = await client.patch(f"/api/people/{person_id}", json={"post_code": "AM"}, headers=admin)
    assert r.status_code == 200, r.text
    today = local(utcnow()).date().isoformat()
    got = await posts_in_archive(client, sessions, int(person_id or 0))
    assert [(s, u) for _, s, u in got] == [(today, None), ("2026-03-01", today), ("2023-05-06", "2026-03-01")]
    assert got[-1][0] == "客户经理"
