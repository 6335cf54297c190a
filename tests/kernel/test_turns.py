"""SQLite writers of one process take turns: many transactions that each hold the write lock for a
while all commit, even when the queue is far longer than SQLite's busy timeout (which, alone,
answers "database is locked" past it)."""

from __future__ import annotations

import asyncio
import multiprocessing
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backend.audit.service import AuditTrail
from backend.kernel.access import Actor
from backend.kernel.db import Database
from backend.kernel.onehop import quick_writes
from backend.kernel.turns import is_write
from tests.conftest import PG_URL, TEST_SECRET

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's writers only (PostgreSQL locks rows)")

WRITERS = 30
HOLD_SECONDS = 0.03  # each writer keeps its transaction open this long: 0.9 s of queue in all


async def test_writers_queue_past_the_busy_timeout_and_none_fails(settings):
    short = settings.model_copy(update={"sqlite_busy_timeout_ms": 100})
    db = Database(short)
    trail = AuditTrail(TEST_SECRET)
    start = asyncio.Event()

    async def writer(n: int) -> str | None:
        await start.wait()
        try:
            async with db.session() as s:
                await trail.record(s, Actor.system(label="tests"), action="test.write", object_type="test")
                await s.flush()  # the write (a record is written with the next flush)
                await asyncio.sleep(HOLD_SECONDS)  # work inside the transaction, lock held
                await s.commit()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    tasks = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
    await asyncio.sleep(0)
    start.set()
    failures = [f for f in await asyncio.gather(*tasks) if f]
    async with db.session() as s:
        written = (
            await s.execute(text("SELECT count(*) FROM audit_record WHERE action = 'test.write'"))
        ).scalar_one()
        verified = await trail.verify(s)
    await db.dispose()
    assert failures == []
    assert written == WRITERS and verified.ok


async def test_a_writer_that_never_gets_its_turn_is_told_the_database_is_locked(settings):
    patient = settings.model_copy(update={"sqlite_write_wait_seconds": 0.2})
    db = Database(patient)
    trail = AuditTrail(TEST_SECRET)
    try:
        async with db.session() as holder:
            await trail.record(holder, Actor.system(label="tests"), action="test.write", object_type="test")
            await holder.flush()  # a record is written with the transaction's next flush
            with pytest.raises(Exception, match="database is locked"):
                async with db.session() as late:
                    await trail.record(
                        late, Actor.system(label="tests"), action="test.write", object_type="t"
                    )
                    await late.flush()
            await holder.commit()
        async with db.session() as after:  # the turn was given back with the commit
            await trail.record(after, Actor.system(label="tests"), action="test.write", object_type="test")
            await after.commit()
    finally:
        await db.dispose()


def test_what_counts_as_a_write():
    assert is_write("INSERT INTO x VALUES (1)") and is_write("  update x set a = 1")
    assert is_write("WITH hits AS (SELECT 1) INSERT INTO warning SELECT * FROM hits")
    assert not is_write("SELECT * FROM x") and not is_write("PRAGMA busy_timeout=5000")


async def test_an_invalidated_writer_gives_its_turn_back(settings):
    """A statement cancelled mid-way invalidates its connection: ending it raises nothing, and the
    next writer gets the turn."""
    patient = settings.model_copy(update={"sqlite_write_wait_seconds": 2})
    db = Database(patient)
    trail = AuditTrail(TEST_SECRET)
    try:
        conn = await db.engine.connect()
        await conn.begin()
        await conn.execute(text("UPDATE audit_chain SET seq = seq WHERE id = 1"))  # takes the turn
        await conn.invalidate()
        await conn.close()
        async with db.session() as after:
            await trail.record(after, Actor.system(label="t"), action="test.write", object_type="test")
            await after.commit()
    finally:
        await db.dispose()


# --- between processes ----------------------------------------------------------------------

OTHER_WRITERS = 4  # the other process always has writers queued: it would keep the turn if it could
OTHER_HOLD = 0.05
MINE = 60


async def _busy_process_writes(settings: Any, ready: Any, stop: Any) -> None:
    db = Database(settings)
    trail = AuditTrail(TEST_SECRET)

    async def writer() -> None:
        while not stop.is_set():
            async with db.session() as s:
                await trail.record(s, Actor.system(label="other"), action="test.other", object_type="t")
                await s.flush()
                await asyncio.sleep(OTHER_HOLD)  # the write lock held
                await s.commit()
            ready.set()

    await asyncio.gather(*(writer() for _ in range(OTHER_WRITERS)))
    await db.dispose()


def _busy_process(settings: Any, ready: Any, stop: Any) -> None:
    asyncio.run(_busy_process_writes(settings, ready, stop))


async def test_a_busy_process_does_not_keep_the_others_from_writing(settings):
    """Another process writes without a pause, each transaction holding the lock 50 ms, while
    this one (with SQLite's busy timeout at 20 ms) makes 60 writes in a row: each commits after
    at most one of the other's transactions (the one under way). Without turns between processes
    they fail with "database is locked"; without the queue several waited behind two or more
    (3 runs of 3 failed)."""
    short = settings.model_copy(update={"sqlite_busy_timeout_ms": 20, "sqlite_write_wait_seconds": 3})
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Event(), spawn.Event()
    other = spawn.Process(target=_busy_process, args=(short, ready, stop))
    other.start()
    db = Database(short)
    trail = AuditTrail(TEST_SECRET)
    passed: list[int] = []  # per write of mine: the other's transactions committed meanwhile
    failures: list[str] = []
    try:
        assert await asyncio.to_thread(ready.wait, 60), "the other process never wrote"
        for _ in range(MINE):
            began = await _count(db, "test.other")
            try:
                async with db.session() as s:
                    await trail.record(s, Actor.system(label="tests"), action="test.write", object_type="t")
                    await s.commit()
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            passed.append(await _count(db, "test.other") - began)
        stop.set()
        await asyncio.to_thread(other.join, 30)
        async with db.session() as s:
            mine = (
                await s.execute(text("SELECT count(*) FROM audit_record WHERE action = 'test.write'"))
            ).scalar_one()
            theirs = (
                await s.execute(text("SELECT count(*) FROM audit_record WHERE action = 'test.other'"))
            ).scalar_one()
    finally:
        stop.set()
        other.join(30)
        if other.is_alive():
            other.kill()
        await db.dispose()
    assert failures == []
    assert mine == MINE and theirs > 0
    assert other.exitcode == 0
    # they alternate: a write waits for the other's transaction under way, not two or more (a busy
    # machine may leave a gap between this one's commit and its count: one such is let pass)
    assert sum(n >= 2 for n in passed) <= 1, passed


# --- a request's transaction holds the turn for its work only --------------------------------


async def test_a_quick_writer_holding_the_turn_runs_to_its_commit_without_yielding(settings):
    """Within ``quick_writes`` (every request), once a transaction holds the write turn, its
    statements and its commit run on the loop's thread: no other task of the process runs in
    between, so the turn is held for the transaction's own work, not for every other request's go
    (as trips to aiosqlite's thread, the other task ran at each statement)."""
    db = Database(settings)
    trail = AuditTrail(TEST_SECRET)
    ticks = 0
    stop = asyncio.Event()

    async def other_request() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_request())
    try:
        with quick_writes():
            async with db.session() as s:
                await s.execute(text("SELECT count(*) FROM audit_record"))  # before the turn: may yield
                await asyncio.sleep(0.01)
                seen_before = -1
                for n in range(5):
                    await trail.record(s, Actor.system(label="tests"), action="test.write", object_type="t")
                    await s.flush()
                    if n == 0:
                        seen_before = ticks  # the first write took the turn
                    await s.execute(text("SELECT count(*) FROM audit_record"))
                await s.commit()
                seen_after = ticks
        written = await _one_more_write(db, trail)  # the turn was given back with the commit
    finally:
        stop.set()
        await other
        await db.dispose()
    assert ticks > 0 and seen_after == seen_before
    assert written == 6


async def test_a_quick_writer_that_fails_gives_the_turn_back(settings):
    patient = settings.model_copy(update={"sqlite_write_wait_seconds": 1})
    db = Database(patient)
    trail = AuditTrail(TEST_SECRET)
    try:
        with quick_writes():
            with pytest.raises(IntegrityError):
                async with db.session() as s:
                    await trail.record(s, Actor.system(label="tests"), action="test.write", object_type="t")
                    await s.flush()
                    await s.execute(text("INSERT INTO audit_chain (id, seq, last_hash) VALUES (1, 0, 'x')"))
                    await s.execute(text("INSERT INTO audit_chain (id, seq, last_hash) VALUES (1, 0, 'x')"))
            written = await _one_more_write(db, trail)  # rolled back on the loop's thread; turn free
    finally:
        await db.dispose()
    assert written == 1


async def _one_more_write(db: Database, trail: AuditTrail) -> int:
    """Another writer's transaction (it needs the turn), then how many test writes there are."""
    async with db.session() as after:
        await trail.record(after, Actor.system(label="tests"), action="test.write", object_type="t")
        await after.commit()
        return int(
            (
                await after.execute(text("SELECT count(*) FROM audit_record WHERE action = 'test.write'"))
            ).scalar_one()
        )


async def _count(db: Database, action: str) -> int:
    async with db.session() as s:
        return int(
            (
                await s.execute(text("SELECT count(*) FROM audit_record WHERE action = :a"), {"a": action})
            ).scalar_one()
        )
