"""SQLite statements make one trip to aiosqlite's thread (backend/kernel/onehop.py), and behave as
the stock adapter's: rows, counts, RETURNING, many rows at once, errors, transactions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backend.kernel.db import Database
from tests.conftest import make_settings


@pytest.fixture
async def sqlite_db(tmp_path: Path):
    database = Database(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/hop.db"))
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counted: Counter[str] = Counter()
    stock = aiosqlite.Connection._execute

    async def counting(self, fn, *args, **kwargs):
        counted["trips"] += 1
        return await stock(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counted


async def test_a_statement_is_one_trip_to_the_connections_thread(sqlite_db: Database, trips: Counter[str]):
    async with sqlite_db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the transaction's own start is not counted below
        trips.clear()
        rows = (await conn.execute(text("SELECT :a + 1 AS b, 'x' AS c"), {"a": 1})).all()
        assert trips["trips"] == 1  # the stock adapter: cursor, execute, fetch, close = 4
        assert [tuple(r) for r in rows] == [(2, "x")]
        await conn.rollback()


async def test_counts_returning_many_rows_errors_and_transactions_as_before(sqlite_db: Database):
    async with sqlite_db.engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}])
        assert inserted.rowcount == 2
        one = await conn.execute(text("INSERT INTO t (name) VALUES ('c')"))
        assert one.lastrowid == 3
        back = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1 RETURNING id, name"))
        assert sorted(tuple(r) for r in back) == [(2, "b!"), (3, "c!")]
        changed = await conn.execute(text("DELETE FROM t WHERE id = 99"))
        assert changed.rowcount == 0
    async with sqlite_db.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        await conn.rollback()
        await conn.execute(text("INSERT INTO t (name) VALUES ('d')"))
        await conn.rollback()  # not kept
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["a", "b!", "c!"]


async def test_small_reads_run_on_the_loops_thread_and_writes_do_not(
    sqlite_db: Database, trips: Counter[str]
):
    from backend.kernel.onehop import small_reads

    async with sqlite_db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        trips.clear()
        with small_reads():
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
            assert trips["trips"] == 0  # read where the request runs: no trip
            await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
            assert trips["trips"] == 1  # a write may wait for another process's lock: on the thread
            assert (await conn.execute(text("SELECT name FROM t"))).scalars().all() == ["x"]
        assert trips["trips"] == 1
        await conn.execute(text("SELECT 1"))  # outside the block: a trip again
        assert trips["trips"] == 2
        await conn.rollback()
