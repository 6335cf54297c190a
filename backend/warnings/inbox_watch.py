"""PostgreSQL: which people's warnings changed, as the database tells it (LISTEN probity_inbox).

Migration 0010 makes every write to ``warning`` notify the channel with the person id(s) at commit
(``*`` for a TRUNCATE), whoever writes. A server keeps rendered inbox pages per person
(``inbox_json.PageCache``) under the version this watch gives:

- ``(epoch, n)``: ``n`` counts the notifications about the person, ``epoch`` the watch's
  (re)connections; a kept page is answered only while both are what they were *before* the page
  was read, so a page read across a change is never kept under the version after it (the
  notification comes after the commit, the statement's snapshot after the version was read);
- writes to ``warning`` made by this process itself drop every kept page (a new epoch) when their
  connection goes back to the pool, after the commit and before the request that made them
  answers: a person who has just verified never sees the page from before, however late the
  notification is read;
- None while the watch is not listening (starting, connection lost, reconnecting): pages are
  then neither kept nor answered, and a reconnection starts a new epoch, since notifications
  sent meanwhile were missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.kernel.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "probity_inbox"
#: a statement that writes the warning table (not warning_event and the like)
_WRITES = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?warning"?[\s(]', re.IGNORECASE)
_WRITTEN = "probity_inbox_written"
#: seconds between attempts to listen again after the connection was lost
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


class InboxWatch:
    """One LISTEN connection per server process and database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.epoch = 0
        self.listening = False
        self._counts: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._lost: asyncio.Event | None = None
        #: set while listening (tests and start-up checks wait on it)
        self.ready = asyncio.Event()
        self._changed = asyncio.Event()
        #: the backend process of the LISTEN connection (PostgreSQL's pid), while connected
        self.server_pid: int | None = None

    def version(self, person_id: int) -> tuple[int, int] | None:
        """What a page of this person's is kept under now; None: keep nothing."""
        if not self.listening:
            return None
        return (self.epoch, self._counts.get(person_id, 0))

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Until ``predicate()`` holds, checked after each notification or change of state."""
        while not predicate():
            await self._changed.wait()

    def _tell(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._notified(payload)

    def _notified(self, payload: str) -> None:
        self._tell()
        if payload == "*":
            self.epoch += 1
            self._counts.clear()
            return
        try:
            person = int(payload)
        except ValueError:
            log.warning("inbox watch: ignored a notification %r", payload[:40])
            return
        self._counts[person] = self._counts.get(person, 0) + 1

    def local_write(self) -> None:
        """This process wrote warnings (committed or not): keep nothing made before."""
        self.epoch += 1
        self._counts.clear()

    def _watch_own_writes(self) -> None:
        sync = self.engine.sync_engine

        @event.listens_for(sync, "after_cursor_execute")
        def _wrote(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if _WRITES.match(statement):
                conn.info[_WRITTEN] = True

        @event.listens_for(sync.pool, "checkin")
        def _returned(_dbapi_conn: Any, record: Any) -> None:
            if record is not None and record.info.pop(_WRITTEN, False):
                self.local_write()

    def _terminated(self, _conn: Any) -> None:
        self._drop()
        if self._lost is not None:
            self._lost.set()

    def _drop(self) -> None:
        self.listening = False
        self.ready.clear()
        self._tell()
        self.epoch += 1
        self._counts.clear()

    async def _connect(self) -> Any:
        import asyncpg

        url = self.engine.url.set(drivername="postgresql")
        return await asyncpg.connect(url.render_as_string(hide_password=False))

    async def _run(self) -> None:
        failures = 0
        while True:
            conn = None
            try:
                conn = await self._connect()
                self.server_pid = conn.get_server_pid()
                self._lost = asyncio.Event()
                conn.add_termination_listener(self._terminated)
                await conn.add_listener(CHANNEL, self._heard)
                self.epoch += 1  # whatever was kept before this point may have missed a change
                self._counts.clear()
                self.listening = True
                self.ready.set()
                self._tell()
                failures = 0
                await self._lost.wait()
                log.warning("inbox watch: the LISTEN connection was lost; pages are not kept meanwhile")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "inbox watch: cannot listen (%s); pages are not kept meanwhile", type(exc).__name__
                )
            finally:
                self.server_pid = None
                self._drop()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="inbox-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._drop()


_WATCHES: weakref.WeakKeyDictionary[AsyncEngine, InboxWatch] = weakref.WeakKeyDictionary()


def inbox_watch(engine: AsyncEngine) -> InboxWatch | None:
    """The running watch of this database, if any."""
    return _WATCHES.get(engine)


def start_inbox_watch(engine: AsyncEngine, settings: Settings) -> InboxWatch | None:
    """Start watching (PostgreSQL, when pages are kept at all); SQLite needs no watch."""
    if engine.dialect.name != "postgresql" or settings.inbox_cache_pages <= 0:
        return None
    watch = _WATCHES.get(engine)
    if watch is None:
        watch = _WATCHES[engine] = InboxWatch(engine)
        watch._watch_own_writes()
    watch.start()
    return watch
