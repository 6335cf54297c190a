"""SQLite: the writing transactions of one process take turns, first come first served.

SQLite lets one transaction write at a time. A transaction that finds the file locked waits in
SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms between tries: under load the lock sits free
while waiters sleep, the waiters are served in no order, and past ``sqlite_busy_timeout_ms`` a
request fails with "database is locked" (500 simulated users did). Here a connection takes its
process's turn (an ``asyncio.Lock`` per database file and event loop) before its first write
statement and gives it back when its transaction ends, so writers of one process queue in order
and the next starts the moment the last one commits; SQLite's own lock then only arbitrates
between processes. A writer waits at most ``sqlite_write_wait_seconds`` for its turn.

Reads take no turn (WAL readers never block); a statement counts as a write by what it starts with.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "CREATE", "DROP", "ALTER")
#: the turn a connection holds, in its ``info``
_HELD = "probity_write_turn"
#: per database file, one lock per event loop (tests run many loops in one process)
_LOCKS: dict[str, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]] = {}


def _lock(file_key: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    per_loop = _LOCKS.setdefault(file_key, weakref.WeakKeyDictionary())
    lock = per_loop.get(loop)
    if lock is None:
        lock = per_loop[loop] = asyncio.Lock()
    return lock


async def take_turn(file_key: str, wait_seconds: float) -> asyncio.Lock:
    """This process's write turn on ``file_key`` for a writer outside the async engines (give it
    back with ``release()``); ``sqlite3.OperationalError`` when none came within ``wait_seconds``."""
    lock = _lock(file_key)
    if not lock.locked():
        await lock.acquire()  # free: taken at once, without a timer
        return lock
    try:
        await asyncio.wait_for(lock.acquire(), timeout=wait_seconds)
    except TimeoutError:
        raise sqlite3.OperationalError(
            f"database is locked (no turn to write within {wait_seconds:g} s)"
        ) from None
    return lock


def is_write(statement: str) -> bool:
    return statement.lstrip(" \n\t(").upper().startswith(_WRITES)


def take_turns(engine: AsyncEngine, file_key: str, wait_seconds: float) -> None:
    """Make ``engine``'s writing transactions take turns with every other engine on ``file_key`` in
    this process."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        info = conn.info
        if _HELD in info or not is_write(statement):
            return
        lock = _lock(file_key)
        try:
            await_only(asyncio.wait_for(lock.acquire(), timeout=wait_seconds))
        except TimeoutError:
            raise sqlite3.OperationalError(
                f"database is locked (no turn to write within {wait_seconds:g} s)"
            ) from None
        info[_HELD] = lock

    def _give_back(conn: Any) -> None:
        try:
            info = conn.info
        except Exception:  # an invalidated connection (a cancelled statement): see _released
            return
        _release(info)

    event.listen(sync_engine, "commit", _give_back)
    event.listen(sync_engine, "rollback", _give_back)

    def _released(_dbapi_conn: Any, record: Any, *_: Any) -> None:
        """A connection invalidated or back in the pool holds no turn (whatever ended it)."""
        _release(record.info)

    event.listen(sync_engine.pool, "invalidate", _released)
    event.listen(sync_engine.pool, "checkin", _released)


def _release(info: dict[str, Any]) -> None:
    lock = info.pop(_HELD, None)
    if lock is not None and lock.locked():
        lock.release()
