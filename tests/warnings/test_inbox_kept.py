"""The employee inbox keeps rendered pages (SQLite) only while they are right, and every list
answered is a read in the trail."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.audit.service import AuditTrail
from backend.kernel.timeutil import utcnow
from backend.warnings import inbox_json
from backend.warnings.inbox_json import _Kept, page_cache
from tests.conftest import TEST_SECRET

TRIGGERS = {"inbox_version_after_insert", "inbox_version_after_update", "inbox_version_after_delete"}


def sqlite_file(settings: Any) -> str:
    if not settings.is_sqlite:
        pytest.skip("kept inbox pages and their triggers are SQLite's (PostgreSQL answers each page afresh)")
    return str(settings.database_url.split("///", 1)[1])


def behind_the_app(settings: Any, sql: str, *params: Any) -> None:
    """A write by another process (a CLI rule run, the sqlite3 shell): the app is not told."""
    with sqlite3.connect(sqlite_file(settings)) as conn:
        conn.execute(sql, params)


async def inbox(client: Any, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = await client.get("/api/warnings", params=params, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_inbox_version_triggers_exist_at_head(settings):
    with sqlite3.connect(sqlite_file(settings)) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert names >= TRIGGERS


async def test_a_kept_page_is_answered_while_the_version_holds(client, sessions, seed, settings, app):
    sqlite_file(settings)
    await seed.warning("E0005")
    h = await sessions.headers("manager")
    first = await inbox(client, h)
    cache = page_cache(app.state.db.engine, settings.inbox_cache_pages)
    assert cache is not None and len(cache) == 1
    # what is kept is what is answered: swap the kept body (same version) and it comes back
    key, kept = next(iter(cache._pages.items()))
    cache.put(key, _Kept(kept.version, kept.fresh_until, b'{"kept": true}', kept.ids, {}))
    assert await inbox(client, h) == {"kept": True}
    # any change to the person's warnings (here by another process) and the page is made again
    behind_the_app(
        settings,
        "UPDATE warning SET hit_count = hit_count + 1 WHERE person_id = ?",
        first["items"][0]["person_id"],
    )
    again = await inbox(client, h)
    assert again["items"][0]["hit_count"] == first["items"][0]["hit_count"] + 1


async def test_changes_from_any_writer_show_at_once(client, sessions, seed, settings):
    sqlite_file(settings)
    one = await seed.warning("E0005", level="high")
    two = await seed.warning("E0005", level="low")
    h = await sessions.headers("manager")
    page = await inbox(client, h)
    person = page["items"][0]["person_id"]
    assert {i["id"] for i in page["items"]} == {one, two}
    # a new warning from another process (as a rule run from the CLI writes it)
    behind_the_app(
        settings,
        "INSERT INTO warning (topic_id, topic_code, rule_version_id, level, trial, person_id, unit_id, "
        "object_key, period_key, evidence, state, raised_at, last_hit_at, hit_count, deadline_provisional, "
        "submissions, chase_stage) SELECT topic_id, topic_code, rule_version_id, 'medium', 0, person_id, "
        "unit_id, 'CUST-OTHER', period_key, evidence, state, raised_at, last_hit_at, 1, 0, 0, 0 "
        "FROM warning WHERE id = ?",
        one,
    )
    page = await inbox(client, h)
    assert page["counts"] == {"high": 1, "medium": 1, "low": 1} and len(page["items"]) == 3
    # a verification through the API
    body = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "正常"}
    assert (await client.post(f"/api/warnings/{two}/verifications", json=body, headers=h)).status_code == 201
    page = await inbox(client, h)
    assert {i["id"]: i["state"] for i in page["items"]}[two] == "submitted"
    # given to someone else: gone from this inbox, in theirs
    other = await sessions.headers("manager2")
    assert (await inbox(client, other))["total"] == 0
    me2 = (await client.get("/api/auth/me", headers=other)).json()
    behind_the_app(settings, "UPDATE warning SET person_id = ? WHERE id = ?", me2["person_id"], one)
    assert one not in {i["id"] for i in (await inbox(client, h))["items"]}
    assert [i["id"] for i in (await inbox(client, other))["items"]] == [one]
    # deleted
    behind_the_app(settings, "DELETE FROM warning WHERE person_id = ? AND object_key = 'CUST-OTHER'", person)
    assert (await inbox(client, h))["counts"] == {"high": 0, "medium": 0, "low": 1}


async def test_an_item_turns_overdue_on_a_kept_page_when_its_deadline_passes(
    client, sessions, seed, settings, monkeypatch
):
    sqlite_file(settings)
    wid = await seed.warning("E0005")
    due = utcnow() + timedelta(hours=1)
    behind_the_app(
        settings,
        "UPDATE warning SET due_at = ? WHERE id = ?",
        due.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
        wid,
    )
    h = await sessions.headers("manager")
    assert (await inbox(client, h))["items"][0]["overdue"] is False
    assert (await inbox(client, h))["items"][0]["overdue"] is False  # kept, still right
    monkeypatch.setattr(inbox_json, "utcnow", lambda: due + timedelta(seconds=1))
    assert (await inbox(client, h))["items"][0]["overdue"] is True


async def test_pages_are_kept_per_filter_and_bounded(client, sessions, seed, settings, app):
    sqlite_file(settings)
    for level in ("high", "medium", "low"):
        await seed.warning("E0005", level=level)
    h = await sessions.headers("manager")
    for params in ({}, {"level": "high"}, {"limit": 1}, {"limit": 1, "offset": 1}):
        await inbox(client, h, **params)
    assert [i["level"] for i in (await inbox(client, h, level="low"))["items"]] == ["low"]
    assert len((await inbox(client, h, limit=1, offset=2))["items"]) == 1
    cache = page_cache(app.state.db.engine, settings.inbox_cache_pages)
    assert cache is not None and len(cache) == 6
    small = page_cache(app.state.db.engine, 2)
    assert small is not None
    for offset in range(3):
        await inbox_json.own_inbox_json(
            app.state.db.engine,
            await principal_of(client, h),
            inbox_json.InboxFilters(),
            offset=offset,
            keep=2,
        )
    assert len(small) == 2


async def principal_of(client: Any, headers: dict[str, str]) -> Any:
    from backend.kernel.access import Principal, Role

    me = (await client.get("/api/auth/me", headers=headers)).json()
    return Principal(0, "", me["person_id"], me["unit_id"], frozenset({Role.employee}), frozenset())


async def reads_in_trail(db: Any) -> list[AuditRecord]:
    async with db.session() as s:
        rows = (
            await s.execute(
                select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "warning.list")
            )
        ).scalars()
        return list(rows)


async def written_reads(db: Any, reads: int) -> list[AuditRecord]:
    """The trail's list reads once they count ``reads`` reads: the app's task writes them every
    read_trail_seconds (1 s), within a few seconds."""

    records: list[AuditRecord] = []
    for _ in range(100):
        records = await reads_in_trail(db)
        if sum(int((r.new_value or {}).get("times", 1)) for r in records) >= reads:
            break
        await asyncio.sleep(0.05)
    return records


def reads_of(records: list[AuditRecord]) -> list[tuple[int | None, list[int], str, int]]:
    """(reader, ids, view, how many times) per record; a record may count repeated reads."""
    out = []
    for r in records:
        new = r.new_value or {}
        out.append((r.actor_person_id, new["ids"], new["view"], int(new.get("times", 1))))
    return out


async def test_every_list_answered_is_a_read_in_the_trail(client, sessions, seed, app, db):
    wid = await seed.warning("E0005")
    h = await sessions.headers("manager")
    await inbox(client, h)
    await inbox(client, h)  # the kept page too
    head = await sessions.headers("head")
    await inbox(client, head, view="unit")
    await inbox(client, await sessions.headers("manager2"))  # nothing shown, nothing read
    records = await written_reads(db, 3)  # by the app's own task (on the app's loop)
    manager = (await client.get("/api/auth/me", headers=h)).json()["person_id"]
    head_id = (await client.get("/api/auth/me", headers=head)).json()["person_id"]
    reads = reads_of(records)
    assert sum(n for who, ids, view, n in reads if (who, ids, view) == (manager, [wid], "mine")) == 2
    assert [(who, ids, view, n) for who, ids, view, n in reads if view == "unit"] == [
        (head_id, [wid], "unit", 1)
    ]
    assert {r.power for r in records} == {"case.read"} and all(r.request_id for r in records)
    async with db.session() as s:
        assert (await AuditTrail(TEST_SECRET).verify(s)).ok


async def test_repeated_identical_reads_make_one_record_with_every_request(db):
    from backend.audit.reads import ReadJournal
    from backend.kernel.access import Actor, Channel

    journal = ReadJournal(db, AuditTrail(TEST_SECRET), every_seconds=60)
    for rid in ("r1", "r2", "r3"):
        journal.note(
            Actor(5, 6, 7, None, Channel.pwa, rid, "someone"), "warning.list", "warning", [1, 2], view="mine"
        )
    journal.note(
        Actor(5, 6, 7, None, Channel.pwa, "r4", "someone"), "warning.list", "warning", [3], view="mine"
    )
    journal.note(
        Actor(5, 6, 7, None, Channel.bot, "r5", "someone"), "warning.list", "warning", [1, 2], view="mine"
    )
    assert journal.pending == 3 and await journal.flush() == 3
    records = await reads_in_trail(db)
    first = records[0]
    assert (first.request_id, first.channel, (first.new_value or {})["ids"]) == ("r1", "pwa", [1, 2])
    assert (first.new_value or {})["times"] == 3 and (first.new_value or {})["request_ids"] == [
        "r1",
        "r2",
        "r3",
    ]
    assert (first.new_value or {})["last_at"] >= first.at.isoformat()[:19]
    assert [(r.request_id, (r.new_value or {}).get("times")) for r in records[1:]] == [
        ("r4", None),
        ("r5", None),
    ]


async def test_reads_are_written_within_the_interval_without_a_flush(client, sessions, seed, app, db):

    await seed.warning("E0005")
    await inbox(client, await sessions.headers("manager"))
    assert len(await written_reads(db, 1)) == 1 and app.state.reads.pending == 0


async def test_a_failed_write_of_reads_keeps_them(db, monkeypatch):
    from backend.audit.reads import ReadJournal
    from backend.kernel.access import Actor, Channel

    journal = ReadJournal(db, AuditTrail(TEST_SECRET), every_seconds=60)
    journal.note(
        Actor(None, None, None, None, Channel.api, "r1", "someone"), "warning.list", "warning", [7, 8]
    )
    real = journal.trail.record_many

    async def refused(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("database refused")

    monkeypatch.setattr(journal.trail, "record_many", refused)
    with pytest.raises(RuntimeError):
        await journal.flush()
    assert journal.pending == 1 and await reads_in_trail(db) == []
    monkeypatch.setattr(journal.trail, "record_many", real)
    journal.note(Actor(None, None, None, None, Channel.api, "r2", "someone"), "warning.list", "warning", [9])
    await journal.stop()  # stopping writes what is left, in order
    assert [(r.request_id, (r.new_value or {})["ids"]) for r in await reads_in_trail(db)] == [
        ("r1", [7, 8]),
        ("r2", [9]),
    ]
