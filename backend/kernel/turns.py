"""SQLite: writing transactions take turns, first come first served, within a process and between
processes.

SQLite lets one transaction write at a time. A transaction that finds the file locked waits in
SQLite's busy handler, which sleeps 1, 2, 5 … 100 ms between tries: under load the lock sits free
while waiters sleep, the waiters are served in no order, and past ``sqlite_busy_timeout_ms`` a
request fails with "database is locked" (500 simulated users did). Here a connection takes its
turn before its first write statement and gives it back when its transaction ends, so the next
writer starts the moment the last one commits:

* within a process, an ``asyncio.Lock`` per database file and event loop queues the writers in
  order;
* between processes (``probity serve --processes N``, a CLI command beside the server), the
  holder of that lock also holds an exclusive ``flock`` on ``<file>.turn``. A process that finds
  it taken waits for it on a thread, holding ``<file>.turn-queue`` while it waits, and whoever
  wants the turn takes ``<file>.turn-queue`` first: the process that just gave the turn back finds
  the queue taken and waits behind the one that was waiting, so two busy processes alternate
  instead of one keeping the turn for as long as it has writers. The kernel drops both locks of a
  process that dies.

A writer waits at most ``sqlite_write_wait_seconds`` for its turn in all. Reads take no turn (WAL
readers never block); a statement counts as a write by what it starts with.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "CREATE", "DROP", "ALTER")
#: the turn a connection holds, in its ``info``
_HELD = "probity_write_turn"
#: set when the driver's connection holds the turn and gives it back after its commit or rollback
#: (``backend/kernel/onehop.py`` ``quick_writes``)
_BY_DRIVER = "probity_turn_by_driver"
#: per database file, one lock per event loop (tests run many loops in one process)
_LOCKS: dict[str, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]] = {}
#: the threads that wait for another process's turn to end (one per file and loop at a time)
_WAITERS: list[ThreadPoolExecutor] = []
_OPEN = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
_MODE = 0o600


class Turn:
    """A writer's turn on a file: its event loop's lock and the file's lock between processes (an
    open descriptor holding ``<file>.turn``). ``release()`` gives both back; twice is harmless."""

    __slots__ = ("_fd", "_lock")

    def __init__(self, lock: asyncio.Lock, fd: int) -> None:
        self._lock: asyncio.Lock | None = lock
        self._fd: int | None = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor ends its flock
        lock, self._lock = self._lock, None
        if lock is not None and lock.locked():
            lock.release()


def _lock(file_key: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    per_loop = _LOCKS.setdefault(file_key, weakref.WeakKeyDictionary())
    lock = per_loop.get(loop)
    if lock is None:
        lock = per_loop[loop] = asyncio.Lock()
    return lock


def _locked(wait_seconds: float, between: str = "") -> sqlite3.OperationalError:
    return sqlite3.OperationalError(
        f"database is locked (no turn to write{between} within {wait_seconds:g} s)"
    )


async def take_turn(file_key: str, wait_seconds: float) -> Turn:
    """The write turn on ``file_key`` (give it back with ``release()``); ``sqlite3.OperationalError``
    "database is locked" when none came within ``wait_seconds``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    lock = _lock(file_key)
    if not lock.locked():
        await lock.acquire()  # free: taken at once, without a timer
    else:
        try:
            await asyncio.wait_for(lock.acquire(), timeout=wait_seconds)
        except TimeoutError:
            raise _locked(wait_seconds) from None
    try:
        fd = _try_take(file_key)
        if fd is None:
            fd = await _wait_take(file_key, wait_seconds - (loop.time() - started), wait_seconds)
    except BaseException:
        lock.release()
        raise
    return Turn(lock, fd)


def _try_take(file_key: str) -> int | None:
    """The turn between processes at once, or None when another process has it or waits for it."""
    queue = os.open(f"{file_key}.turn-queue", _OPEN, _MODE)
    try:
        try:
            fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        turn = os.open(f"{file_key}.turn", _OPEN, _MODE)
        try:
            fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(turn)
            return None
        return turn
    finally:
        os.close(queue)


def _take_waiting(file_key: str) -> int:
    """On a waiting thread: in the queue, then the turn (blocking); the queue's lock is given up
    once the turn is held."""
    queue = os.open(f"{file_key}.turn-queue", _OPEN, _MODE)
    try:
        fcntl.flock(queue, fcntl.LOCK_EX)
        turn = os.open(f"{file_key}.turn", _OPEN, _MODE)
        try:
            fcntl.flock(turn, fcntl.LOCK_EX)
        except BaseException:
            os.close(turn)
            raise
        return turn
    finally:
        os.close(queue)


def _close_late(done: asyncio.Future[int]) -> None:
    """A turn that came after its writer stopped waiting is given back at once."""
    if not done.cancelled() and done.exception() is None:
        os.close(done.result())


async def _wait_take(file_key: str, remaining: float, wait_seconds: float) -> int:
    if remaining <= 0:
        raise _locked(wait_seconds, " between processes")
    if not _WAITERS:
        _WAITERS.append(ThreadPoolExecutor(8, thread_name_prefix="sqlite-turn"))
    waiting = asyncio.get_running_loop().run_in_executor(_WAITERS[0], _take_waiting, file_key)
    try:
        return await asyncio.wait_for(asyncio.shield(waiting), timeout=remaining)
    except BaseException as exc:
        waiting.add_done_callback(_close_late)  # the thread keeps waiting; what it gets goes back
        if isinstance(exc, TimeoutError):
            raise _locked(wait_seconds, " between processes") from None
        raise


def is_write(statement: str) -> bool:
    return statement.lstrip(" \n\t(").upper().startswith(_WRITES)


def take_turns(engine: AsyncEngine, file_key: str, wait_seconds: float) -> None:
    """Make ``engine``'s writing transactions take turns with every other writer on ``file_key``
    (this process's engines and other processes)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _take(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        info = conn.info
        if _HELD in info or not is_write(statement):
            return
        turn = info[_HELD] = await_only(take_turn(file_key, wait_seconds))
        hold = getattr(conn.connection.dbapi_connection, "hold_turn", None)
        if hold is not None and hold(turn):
            info[_BY_DRIVER] = True

    def _give_back(conn: Any) -> None:
        try:
            info = conn.info
        except Exception:  # an invalidated connection (a cancelled statement): see _released
            return
        if info.pop(_BY_DRIVER, False):
            info.pop(_HELD, None)  # the driver's connection gives it back after its commit
            return
        _release(info)

    event.listen(sync_engine, "commit", _give_back)
    event.listen(sync_engine, "rollback", _give_back)

    def _released(dbapi_conn: Any, record: Any, *_: Any) -> None:
        """A connection invalidated or back in the pool holds no turn (whatever ended it)."""
        record.info.pop(_BY_DRIVER, None)
        _release(record.info)
        drop = getattr(dbapi_conn, "drop_turn", None)
        if drop is not None:
            drop()

    event.listen(sync_engine.pool, "invalidate", _released)
    event.listen(sync_engine.pool, "checkin", _released)


def _release(info: dict[str, Any]) -> None:
    turn = info.pop(_HELD, None)
    if turn is not None:
        turn.release()
