"""SQLite through aiosqlite with one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite adapter makes a statement four trips to the connection's thread and back:
open a cursor, execute, fetch the rows, close the cursor. Each trip queues a call, wakes the
thread, wakes the event loop through its self-pipe and resumes the greenlet: tens of microseconds
of CPU each, more than a small indexed read itself. Measured on a session's small statement:
about 330 µs of CPU with four trips, 230 µs with one.

Here a statement is one call run on the connection's thread — cursor, execute, fetch, close — and
the cursor handed back to SQLAlchemy holds what it returned (rows, description, row count, last
row id). Everything else (transactions, the connection's thread, server-side cursors) is
aiosqlite's as before. Built by :func:`backend.kernel.db.make_engine` (``module=``); nothing is
registered at import.

It relies on aiosqlite's ``Connection._execute`` and on the adapter classes of SQLAlchemy 2.1; if
either is missing, :func:`one_hop_dbapi` returns None and the stock adapter is used.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: set by :func:`small_reads` around a request's work whose reads are all small (a few index pages)
_SMALL_READS: ContextVar[bool] = ContextVar("probity_small_reads", default=False)


@contextmanager
def small_reads() -> Iterator[None]:
    """Within this block (this task), a SELECT of the operational database runs on the event loop's
    thread, not as a trip to aiosqlite's thread: for work whose reads are all small indexed reads
    (a warning's detail, a page of notifications), where the trip and the resumption of the whole
    chain of awaiting coroutines cost more than the read. WAL readers never wait for a writer; a
    statement that writes still goes to the connection's thread (it may wait for another process's
    write lock). Never around a read that may scan: it would hold the loop for its duration."""
    token = _SMALL_READS.set(True)
    try:
        yield
    finally:
        _SMALL_READS.reset(token)


#: set by :func:`quick_writes` around a request's work (its writes are a few rows)
_QUICK_WRITES: ContextVar[bool] = ContextVar("probity_quick_writes", default=False)


@contextmanager
def quick_writes() -> Iterator[None]:
    """Within this block (this task), a transaction that holds the SQLite file's write turn
    (``backend/kernel/turns.py``) runs its statements, and its commit or rollback, on the event
    loop's thread: from its first write to its end it never yields to the loop, so it holds the
    turn for the CPU time of its work. Run as trips to aiosqlite's thread, every statement waited
    for the loop's other admitted requests to have their go before it resumed, and a transaction of
    a few statements held the turn for tens of milliseconds while every writer of every process
    queued behind it. A SQLite write never waits for another writer here: the turn is held, so the
    file's lock is free. For request work (a reply, a decision, marking read), never around bulk
    writes (a rule run's hits, a purge): they would hold the loop for their duration."""
    token = _QUICK_WRITES.set(True)
    try:
        yield
    finally:
        _QUICK_WRITES.reset(token)


def _is_read(operation: str) -> bool:
    """A plain SELECT (a ``WITH`` may hold a write: it goes to the thread)."""
    return operation.lstrip()[:6].upper() == "SELECT"


try:  # pragma: no branch - both present with the pinned versions
    import aiosqlite
    from sqlalchemy.dialects.sqlite.aiosqlite import (
        AsyncAdapt_aiosqlite_connection,
        AsyncAdapt_aiosqlite_cursor,
        AsyncAdapt_aiosqlite_dbapi,
    )
    from sqlalchemy.util import EMPTY_DICT
except ImportError:  # pragma: no cover
    AsyncAdapt_aiosqlite_dbapi = None  # type: ignore[assignment,misc]


def _run(raw: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> tuple[Any, ...]:
    """On the connection's thread: the whole statement, and what SQLAlchemy reads of its cursor."""
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        # after the fetch: a DML statement with RETURNING counts its rows as they are read
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


if AsyncAdapt_aiosqlite_dbapi is not None:

    class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
        """A finished statement: its rows in memory, nothing open on the connection's thread."""

        __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

        def __init__(self, adapt_connection: Any) -> None:  # no trip: no aiosqlite cursor
            self._adapt_connection = adapt_connection
            self._connection = adapt_connection._connection
            self._cursor = None  # type: ignore[assignment]
            self._soft_closed_memoized = EMPTY_DICT
            self._rows = collections.deque()
            self._description: Sequence[Any] | None = None
            self._rowcount = -1
            self._lastrowid: int | None = None
            self._arraysize = 1

        @property
        def description(self) -> Any:
            return self._description

        @property
        def rowcount(self) -> int:
            return self._rowcount

        @property
        def lastrowid(self) -> Any:
            return self._lastrowid

        @property
        def arraysize(self) -> int:
            return self._arraysize

        @arraysize.setter
        def arraysize(self, value: int) -> None:
            self._arraysize = value

        async def _async_soft_close(self) -> None:
            return None  # closed on the thread already

        def close(self) -> None:
            self._rows.clear()

        async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
            conn = self._connection
            adapt: Any = self._adapt_connection  # a OneHopConnection
            async with adapt._execute_mutex:
                if adapt._turn is not None or (not many and _SMALL_READS.get() and _is_read(operation)):
                    found = _run(conn._conn, operation, parameters, many)  # see quick_writes, small_reads
                else:
                    found = await conn._execute(_run, conn._conn, operation, parameters, many)
            self._description, rows, self._rowcount, self._lastrowid = found
            if rows is not None:
                self._rows = collections.deque(rows)

        async def _execute_async(self, operation: Any, parameters: Any) -> Any:
            await self._call(operation, parameters, False)
            return self

        async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
            await self._call(operation, seq_of_parameters, True)
            return self

    class OneHopConnection(AsyncAdapt_aiosqlite_connection):
        __slots__ = ("_turn",)
        _cursor_cls = OneHopCursor

        def __init__(self, dbapi: Any, connection: Any) -> None:
            super().__init__(dbapi, connection)
            self._turn: Any = None

        def hold_turn(self, turn: Any) -> bool:
            """Keep ``turn`` (just taken for this connection's transaction) and, within
            :func:`quick_writes`, run the rest of the transaction on the loop's thread and give the
            turn back once its commit or rollback is done. False: the caller gives it back."""
            if not _QUICK_WRITES.get():
                return False
            self._turn = turn
            return True

        def drop_turn(self) -> None:
            """The connection is invalidated or back in the pool: no turn stays with it."""
            turn, self._turn = self._turn, None
            if turn is not None:
                turn.release()

        def _end(self, how: str) -> None:
            turn, self._turn = self._turn, None
            try:
                raw = self._connection._connection
                if raw is not None:
                    getattr(raw, how)()  # on the loop's thread: the turn is held, nothing waits
            except Exception as error:
                self._handle_exception(error)
            finally:
                turn.release()  # after the commit: the next writer finds the file's lock free

        def commit(self) -> None:
            if self._turn is None:
                super().commit()
            else:
                self._end("commit")

        def rollback(self) -> None:
            if self._turn is not None:
                self._end("rollback")
                return
            raw = self._connection._connection
            if raw is not None and not raw.in_transaction:
                return  # nothing to undo (a session that only read, the pool's reset after a commit)
            super().rollback()

    class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
        def connect(self, *arg: Any, **kw: Any) -> Any:
            stock = super().connect(*arg, **kw)
            return OneHopConnection(self, stock._connection)


def one_hop_dbapi() -> Any:
    """The DBAPI module for ``create_async_engine(module=…)`` on SQLite, or None (stock adapter)."""
    if AsyncAdapt_aiosqlite_dbapi is None or not hasattr(aiosqlite.Connection, "_execute"):
        return None  # pragma: no cover
    return OneHopDbapi(aiosqlite, sqlite3)
