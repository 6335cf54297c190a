"""PostgreSQL: what changed, as the database tells it (LISTEN probity_changes), so that a server
can keep what it read (inbox pages, signed-in sessions) without asking again on every request.

Triggers (migration 0010) notify the channel at commit, whoever writes (the server, a worker, a
rule run from the CLI, psql), with ``<topic>:<key>`` or ``<topic>:*``: ``inbox:<person id>`` for a
person's warnings, ``auth:*`` for accounts and sessions. PostgreSQL sends one notification per
distinct payload per transaction and takes no row lock for them. What a server keeps is tagged with
the version :meth:`ChangeWatch.version` gave *before* it was read, and kept only if the version is
the same after; it is answered only while the version holds:

- ``(epoch, topic epoch, n)``: ``n`` counts notifications about the key, the topic epoch those
  about the whole topic, the epoch the watch's (re)connections. A read across a change is never
  kept under the version after it: the notification comes after the commit, and the statement's
  snapshot is taken after the version was read;
- writes by this process itself to a watched table end the topic (a new topic epoch) when their
  connection goes back to the pool: after the commit, before the request that made them answers.
  Someone who has just verified or signed out never gets the answer from before, however late the
  notification is read. Within :func:`acting_person` (a signed-in person's request) writes to a
  table keyed by person end only the person's key of its topic, and the keys the request's work names
  (:func:`also_changes`: the inbox of whoever's warning it moved); what else the transaction
  changed follows its notifications, as another process's writes do, and the other people's kept
  pages stay good meanwhile;
- None while the watch is not listening (starting, connection lost, reconnecting): nothing is then
  kept or answered from what was kept, and a reconnection starts a new epoch, since notifications
  sent meanwhile were missed.

SQLite needs none of this (its reads are inline and the inbox has its own counter triggers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

CHANNEL = "probity_changes"
_WRITTEN = "probity_tables_written"
#: seconds between attempts to listen again after the connection was lost
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)

Version = tuple[int, int, int]
V = TypeVar("V")
#: values kept per database and topic by ``kept_read`` (least recently used dropped beyond)
MAX_KEPT = 20_000


class _Own:
    """What a signed-in person's request changes by its writes: the topics keyed by person (their
    key is the person) and what the request's work added (:func:`also_changes`)."""

    __slots__ = ("keys", "person")

    def __init__(self, person: str) -> None:
        self.person = person
        self.keys: set[tuple[str, str]] = set()


#: within :func:`acting_person`: what this task's writes change
_OWN: ContextVar[_Own | None] = ContextVar("probity_own_changes", default=None)


@contextlib.contextmanager
def acting_person(person_id: object) -> Iterator[None]:
    """Within this block (a request of ``person_id``), this process's own writes to a table keyed
    by person (``start_change_watch``) end only the person's key of its topic and what
    :func:`also_changes` adds, not the whole topic; writes to other watched tables end their topic."""
    token = _OWN.set(_Own(str(person_id)))
    try:
        yield
    finally:
        _OWN.reset(token)


def also_changes(topic: str, key: object) -> None:
    """Within :func:`acting_person`: this task's writes change ``key`` of ``topic`` too (the inbox
    of the person whose warning a head decided on)."""
    own = _OWN.get()
    if own is not None:
        own.keys.add((topic, str(key)))


class ChangeWatch:
    """One LISTEN connection per server process and database."""

    def __init__(
        self, engine: AsyncEngine, tables: Mapping[str, str], by_person: frozenset[str] = frozenset()
    ) -> None:
        self.engine = engine
        #: watched table → its topic (this process's own writes to it end the topic)
        self.tables = dict(tables)
        #: watched tables whose rows are a person's (a person's own writes to them end their key of
        #: the table's topic: ``acting_person``); a write to another table ends its whole topic
        self.by_person = by_person
        self.epoch = 0
        self.listening = False
        #: the backend process of the LISTEN connection (PostgreSQL's pid), while connected
        self.server_pid: int | None = None
        self._topics: dict[str, int] = {}
        self._counts: dict[str, dict[str, int]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lost: asyncio.Event | None = None
        #: set while listening (tests and start-up checks wait on it)
        self.ready = asyncio.Event()
        self._changed = asyncio.Event()

    def version(self, topic: str, key: object = "*") -> Version | None:
        """What is read now about ``key`` of ``topic`` is kept under this; None: keep nothing."""
        if not self.listening:
            return None
        return (self.epoch, self._topics.get(topic, 0), self._counts.get(topic, {}).get(str(key), 0))

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
        topic, _, key = payload.partition(":")
        if not topic or not key:
            log.warning("change watch: ignored a notification %r", payload[:40])
        elif key == "*":
            self.topic_changed(topic)
        else:
            self.key_changed(topic, key)

    def topic_changed(self, topic: str) -> None:
        """Everything kept about ``topic`` ends (a TRUNCATE, a write by this process)."""
        self._topics[topic] = self._topics.get(topic, 0) + 1
        self._counts.pop(topic, None)

    def key_changed(self, topic: str, key: str) -> None:
        """What is kept about ``key`` of ``topic`` ends (a notification, a write by this process)."""
        keys = self._counts.setdefault(topic, {})
        keys[key] = keys.get(key, 0) + 1

    def _watch_own_writes(self) -> None:
        sync = self.engine.sync_engine
        names = "|".join(re.escape(t) for t in sorted(self.tables))
        writes = re.compile(rf'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?({names})"?[\s(]', re.IGNORECASE)

        @event.listens_for(sync, "after_cursor_execute")
        def _wrote(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            found = writes.match(statement)
            if found:
                # table → whose request wrote it (None: a write outside acting_person)
                written = conn.info.setdefault(_WRITTEN, {})
                table, own = found.group(1).lower(), _OWN.get()
                written[table] = own if own is not None and written.get(table, own) is own else None

        @event.listens_for(sync.pool, "checkin")
        def _returned(_dbapi_conn: Any, record: Any) -> None:
            written = record.info.pop(_WRITTEN, None) if record is not None else None
            for table, own in (written or {}).items():
                topic = self.tables[table]
                keys = set()
                if own is not None and table in self.by_person:
                    keys = {key for about, key in own.keys if about == topic} | {own.person}
                if not keys:
                    self.topic_changed(topic)
                for key in keys:
                    self.key_changed(topic, key)
            if written:
                self._tell()

    def _terminated(self, _conn: Any) -> None:
        self._drop()
        if self._lost is not None:
            self._lost.set()

    def _drop(self) -> None:
        self.listening = False
        self.ready.clear()
        self.epoch += 1
        self._topics.clear()
        self._counts.clear()
        self._tell()

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
                self.listening = True
                self.ready.set()
                self._tell()
                failures = 0
                await self._lost.wait()
                log.warning("change watch: the LISTEN connection was lost; nothing is kept meanwhile")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("change watch: cannot listen (%s); nothing is kept meanwhile", type(exc).__name__)
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
            self._task = asyncio.create_task(self._run(), name="change-watch")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._drop()


_WATCHES: weakref.WeakKeyDictionary[AsyncEngine, ChangeWatch] = weakref.WeakKeyDictionary()


def change_watch(engine: AsyncEngine) -> ChangeWatch | None:
    """The watch of this database, if one was started (PostgreSQL)."""
    return _WATCHES.get(engine)


_KEPT: weakref.WeakKeyDictionary[AsyncEngine, dict[str, OrderedDict[Hashable, tuple[Version, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def watching(engine: AsyncEngine) -> bool:
    """Whether a watch of this database listens now (what it tells can replace time limits)."""
    watch = _WATCHES.get(engine)
    return watch is not None and watch.listening


async def kept_read(engine: AsyncEngine, topic: str, key: Hashable, read: Callable[[], Awaitable[V]]) -> V:
    """``read()``, kept per ``key`` while the watch tells no change of ``topic`` as a whole (on
    PostgreSQL with the watch listening); read every time otherwise."""
    watch = _WATCHES.get(engine)
    version = watch.version(topic) if watch is not None else None
    if watch is None or version is None:
        return await read()
    kept = _KEPT.setdefault(engine, {}).setdefault(topic, OrderedDict())
    hit = kept.get(key)
    if hit is not None and hit[0] == version:
        kept.move_to_end(key)
        value: V = hit[1]
        return value
    value = await read()
    if watch.version(topic) == version:  # nothing told while it was read
        kept[key] = (version, value)
        kept.move_to_end(key)
        while len(kept) > MAX_KEPT:
            kept.popitem(last=False)
    return value


def start_change_watch(
    engine: AsyncEngine, tables: Mapping[str, str], by_person: frozenset[str] = frozenset()
) -> ChangeWatch | None:
    """Start watching ``tables`` (table → topic; ``by_person``: the tables whose rows are a
    person's, their topic keyed by person id) on PostgreSQL; SQLite needs no watch."""
    if engine.dialect.name != "postgresql":
        return None
    watch = _WATCHES.get(engine)
    if watch is None:
        watch = _WATCHES[engine] = ChangeWatch(engine, tables, by_person)
        watch._watch_own_writes()
    watch.start()
    return watch
