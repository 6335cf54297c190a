"""Operational database: engines, sessions, the UTC datetime type, migrations.

Nothing here connects at import time; :class:`Database` is built from settings.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, DateTime, Engine, Executable, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

from backend.kernel.onehop import one_hop_dbapi
from backend.kernel.settings import Settings
from backend.kernel.timeutil import as_utc
from backend.kernel.turns import take_turn, take_turns

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
T = TypeVar("T")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC (naive on SQLite), always returns an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def bind_processor(self, dialect: Dialect) -> Any:
        """The usual conversion, remembering the last value: a bulk write binds one ``now`` to
        every row (a fan-out's routes, deliveries and attempts), converted once instead of per row
        and column. Datetimes are immutable and the one remembered is held, so ``is`` is exact."""
        process = super().bind_processor(dialect)
        if process is None:
            return None
        last: list[tuple[Any, Any]] = [(None, None)]

        def remembered(value: Any) -> Any:
            seen = last[0]
            if value is seen[0] and value is not None:
                return seen[1]
            result = process(value)
            last[0] = (value, result)
            return result

        return remembered


JSONType = JSON().with_variant(JSON(none_as_null=True), "sqlite")


def _sqlite_file(url: str) -> Path | None:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path.startswith(":memory:"):
        return None
    return Path(path.split("?", 1)[0])


def make_engine(settings: Settings) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    queued = {"pool_timeout": settings.database_pool_timeout_seconds}  # a pool that can run out
    if settings.is_sqlite:
        file = _sqlite_file(settings.database_url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: small reads may run on the loop's thread (onehop.small_reads),
        # never at the same time as a call on aiosqlite's thread (each statement is awaited)
        kwargs["connect_args"] = {
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
            "check_same_thread": False,
        }
        dbapi = one_hop_dbapi() if settings.database_url.startswith("sqlite+aiosqlite") else None
        if dbapi is not None:
            kwargs["module"] = dbapi  # a statement is one trip to aiosqlite's thread (onehop.py)
        if file is not None:
            # writers wait for their turn (backend/kernel/turns.py) holding a connection: room
            # enough that readers still get one (each is a thread of aiosqlite's, idle when unused)
            kwargs.update(pool_size=10, max_overflow=30, **queued)
    else:
        kwargs.update(pool_size=10, max_overflow=10, **queued)
    engine = create_async_engine(settings.database_url, **kwargs)
    if not settings.is_sqlite:
        ping_when_idle(engine, settings.database_ping_idle_seconds)
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _pragmas(settings.sqlite_busy_timeout_ms))
        file = _sqlite_file(settings.database_url)
        if file is not None:
            take_turns(engine, str(file.resolve()), settings.sqlite_write_wait_seconds)
    return engine


#: where a pooled connection notes when it was last given back (its record's ``info``)
_GIVEN_BACK = "probity_given_back"


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use when it has been idle in the pool for more than
    ``idle_seconds`` (0: every time); a dead one (the server restarted, a firewall dropped it) is
    replaced and the pool's older connections with it, and the caller never sees the error.

    SQLAlchemy's ``pool_pre_ping`` checks on every checkout, which on asyncpg is three round trips
    (BEGIN, an empty query, ROLLBACK): under load, four in ten of all statements the server
    received. A connection given back moments ago is as alive as it was then; what could have
    died meanwhile is what a ping would not have saved either (a statement in flight)."""

    def given_back(_dbapi: Any, record: Any) -> None:
        record.info[_GIVEN_BACK] = time.monotonic()

    def checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        back = record.info.get(_GIVEN_BACK)
        if back is None or time.monotonic() - back < idle_seconds:
            return  # new, or in use moments ago
        dialect = engine.dialect
        try:
            alive = dialect.do_ping(dbapi)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi, None):
                raise
            alive = False
        if not alive:  # the pool connects anew and drops its connections older than now
            raise exc.InvalidatePoolError("a pooled connection was found closed")

    event.listen(engine.sync_engine.pool, "checkin", given_back)
    event.listen(engine.sync_engine.pool, "checkout", checkout)


def _pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return pragmas


class _Writer:
    """A SQLite file's writer thread: a plain ``sqlite3`` connection (same pragmas as the async
    engine's) that runs a whole transaction per handoff."""

    def __init__(self, url: URL, file_key: str, busy_ms: int) -> None:
        self.file_key = file_key
        self.engine = create_engine(
            url.set(drivername="sqlite"),
            pool_size=1,
            max_overflow=0,
            connect_args={"timeout": busy_ms / 1000, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", _pragmas(busy_ms))
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    def run(self, work: Callable[[Connection], T]) -> T:
        with self.engine.begin() as conn:
            return work(conn)

    def close(self) -> None:
        self.thread.shutdown(wait=True)
        self.engine.dispose()


class Database:
    """Holds the engine and the session factory for one app or CLI run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer: _Writer | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def write(self, work: Callable[[Connection], T]) -> T:
        """``work`` on a plain (sync) Core connection in one transaction of its own, committed
        (rolled back if it raises); what it returns.

        On a SQLite file it runs on this database's writer thread, in the process's write turn
        (backend/kernel/turns.py): one handoff for the whole transaction, where aiosqlite hands
        every call of every statement (cursor, execute, fetch, close) to its thread and back, some
        30 µs of CPU each (a fan-out's outcomes, four statements every few milliseconds, cost twice
        the CPU that way). Elsewhere (asyncpg) it runs through ``AsyncConnection.run_sync``."""
        file = _sqlite_file(self.settings.database_url) if self.settings.is_sqlite else None
        if file is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(work)
        if self._writer is None:
            busy = self.settings.sqlite_busy_timeout_ms
            self._writer = _Writer(self.engine.url, str(file.resolve()), busy)
        writer = self._writer
        turn = await take_turn(writer.file_key, self.settings.sqlite_write_wait_seconds)
        done = asyncio.get_running_loop().run_in_executor(writer.thread, writer.run, work)
        # the turn is given back once the transaction is over, even if the caller stops waiting
        done.add_done_callback(lambda _: turn.release())
        return await asyncio.shield(done)

    async def dispose(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await asyncio.to_thread(writer.close)
        await self.engine.dispose()
        found = _OF_BIND.pop(self.engine, None)
        if found is None:
            return  # never read inline: the file's other users keep their connections
        key = found[1]
        _USERS[key] -= 1
        if _USERS[key] > 0:
            return  # another Database on the file (a worker's, a test's) still reads with them
        del _USERS[key]
        for held in [k for k in _HELD if k[0] == key]:
            _HELD.pop(held).close()
        inline = _INLINE.pop(key, None)
        if inline is not None:
            inline.dispose()

    # --- migrations ---------------------------------------------------------------
    async def current_revision(self) -> str | None:
        """The applied revision(s), comma-joined and sorted; ``None`` on an empty database."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current_revision)

    async def upgrade(self, revision: str = "heads") -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)

    async def is_up_to_date(self) -> bool:
        return await self.current_revision() == head_revision()


_INLINE: dict[str, Engine] = {}


def _inline_key(bind: AsyncEngine) -> str:
    return bind.url.render_as_string(hide_password=False)


#: each async engine's inline engine and file key (or None), so a request renders no URL
_OF_BIND: weakref.WeakKeyDictionary[AsyncEngine, tuple[Engine, str] | None] = weakref.WeakKeyDictionary()

#: (file key, thread) → a read-only sqlite3 connection kept for ``read_stored`` on that thread
_HELD: dict[tuple[str, int], Any] = {}
#: file key → how many async engines read it inline: its connections are closed when the last
#: one is disposed (closing them under another Database's statement crashed the process)
_USERS: dict[str, int] = {}


def _inline(bind: AsyncEngine) -> tuple[Engine, str] | None:
    try:
        return _OF_BIND[bind]
    except KeyError:
        engine = _inline_engine(bind)
        found = _OF_BIND[bind] = None if engine is None else (engine, _inline_key(bind))
        if found is not None:
            _USERS[found[1]] = _USERS.get(found[1], 0) + 1
        return found


def _inline_engine(bind: AsyncEngine) -> Engine | None:
    """A plain sqlite3 engine on the same file (read only), or None for other databases."""
    if bind.dialect.name != "sqlite" or bind.url.database in (None, "", ":memory:"):
        return None
    key = _inline_key(bind)
    engine = _INLINE.get(key)
    if engine is None:
        engine = create_engine(bind.url.set(drivername="sqlite"), pool_size=2, max_overflow=4)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA query_only=ON")
            dbapi_conn.execute("PRAGMA busy_timeout=5000")

        _INLINE[key] = engine
    return engine


async def read_rows(bind: AsyncEngine, stmt: Executable, params: dict[str, Any] | None = None) -> list[Any]:
    """Rows of a small read-only statement (a few index pages) that every request makes.

    On SQLite it runs on the event loop's thread through a plain ``sqlite3`` connection: aiosqlite
    hands every call of a statement (cursor, execute, fetch, close, the pool's reset) to the
    connection's thread and back, each switch waiting for the GIL, which costs far more than such a
    read; in WAL mode a reader never waits for a writer. Elsewhere (asyncpg) a pooled connection.
    """
    inline = _inline(bind)
    if inline is None:
        async with bind.connect() as conn:
            # one statement, its own snapshot: no BEGIN and ROLLBACK round trips around it
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return list((await auto.execute(stmt, params or {})).all())
    with inline[0].connect() as conn:
        return list(conn.execute(stmt, params or {}).all())


def is_inline(bind: AsyncEngine) -> bool:
    """Whether small reads of ``bind`` run inline on a plain ``sqlite3`` connection (a SQLite file)."""
    return _inline(bind) is not None


#: statements built once (module constants) → their SQLite text, parameter order and constants
_STORED_SQL: dict[tuple[Executable, str], tuple[str, tuple[str, ...], dict[str, Any]]] = {}


async def read_stored(
    bind: AsyncEngine, stmt: Executable, params: dict[str, Any] | None = None
) -> list[Sequence[Any]]:
    """Rows of a small read-only statement built once (a module constant), as ``read_rows`` — but
    on SQLite the values as stored, with no result processing: timestamps as ISO text (naive UTC),
    JSON as its text, booleans as 0/1. The statement is compiled once and run on a plain ``sqlite3``
    connection on the loop's thread. Elsewhere it is ``read_rows`` (processed values): callers
    use only what both forms share, or convert the SQLite form themselves."""
    inline = _inline(bind)
    if inline is None:
        return await read_rows(bind, stmt, params)
    engine, file_key = inline
    key = (stmt, engine.dialect.name)
    found = _STORED_SQL.get(key)
    if found is None:
        compiled = stmt.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
        found = (compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))
        _STORED_SQL[key] = found
    sql, names, constants = found
    values = {**constants, **(params or {})}
    cursor = _held_connection(engine, file_key).execute(sql, tuple(values[name] for name in names))
    try:
        rows: list[Sequence[Any]] = cursor.fetchall()
    finally:
        cursor.close()  # the statement's read snapshot ends here (no transaction is left open)
    return rows


def _held_connection(engine: Engine, file_key: str) -> Any:
    """This thread's read-only connection to the file, kept open: a pool checkout, its reset and
    return cost more than the small reads made with it. Plain ``sqlite3`` opens no transaction for
    a SELECT, so nothing is held between statements; ``Database.dispose`` closes it."""
    slot = (file_key, threading.get_ident())
    conn = _HELD.get(slot)
    if conn is None:
        fairy = engine.raw_connection()  # made by the inline engine: query_only, busy timeout
        conn = _HELD[slot] = fairy.driver_connection
        fairy.detach()  # the pool forgets it; it is ours to close
    return conn


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision(s): features may branch from a common base; all heads are applied."""
    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    # a head that another head depends on (``depends_on``) leaves alembic_version when that one is applied
    below = {
        r.revision for h in heads for r in script.revision_map.iterate_revisions(h, "base") if r.revision != h
    }
    return ",".join(sorted(heads - below)) or None


def _current_revision(conn: Connection) -> str | None:
    heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def _upgrade(conn: Connection, revision: str) -> None:
    command.upgrade(alembic_config(conn), revision)


def all_metadata() -> Any:
    """Import every ``backend/<feature>/models.py`` (found, not listed) and return the metadata."""
    from sqlmodel import SQLModel

    from backend.kernel.discovery import feature_modules

    feature_modules("models")
    return SQLModel.metadata
