"""SQLite writers of one process take turns: many transactions that each hold the write lock for a
while all commit, even when the queue is far longer than SQLite's busy timeout (which, alone,
answers "database is locked" past it)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from backend.audit.service import AuditTrail
from backend.kernel.access import Actor
from backend.kernel.db import Database
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
