# ruff: noqa: S608  -- identifiers and literals are quoted by ident() and lit(); values are bound
"""The business data store: one sandboxed DuckDB instance per process and file.

Design (see ARCHITECTURE.md, "Business data and the rule sandbox"): the instance is opened,
then told which single directory it may read (``<data_dir>/staging``), then external access is
switched off and the configuration locked, for the life of the process. So:

* imports stage the file in that directory (hard link, or transcoded copy for GBK and
  XLSX) and load it with DuckDB's own ``read_csv`` — no row-by-row Python, at ``read_csv``
  speed — with ``store_rejects`` giving row-level type errors;
* rule SQL, even if it slipped past the parse-tree check of :mod:`backend.engine.sandbox`,
  cannot read or write any other file, reach the network, install or load extensions,
  attach databases or change settings; it runs on its own cursor with a time limit
  (``interrupt()``).

Nothing connects at import time. DuckDB lets one process at a time open the file, so several
processes (two ``api`` processes, a CLI import beside ``probity serve``) take turns: a process opens
the file when it has work for it, under an exclusive lock on ``<file>.holder``, and closes it when
its work is done — at once if another process is waiting (it holds ``<file>.waiting`` shared while it
waits), else after ``duckdb_linger_seconds`` so that a burst of work reuses the open file. A process
waits at most ``duckdb_wait_seconds`` for its turn (``store_busy`` after that).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb

from backend.data.lines import blank_lines, line_of
from backend.data.sandbox import RuleRejected
from backend.kernel.errors import AppError, Conflict, Invalid
from backend.kernel.settings import Settings

T = TypeVar("T")
IMPORT_COLUMN = "_import_id"
#: the import's duplicate rows (row, first row of the same key), on the import's own cursor
DUPLICATES = "import_duplicates"
MAX_LISTED_ERRORS = 1000
_instances: dict[Path, BusinessStore] = {}
_instances_lock = threading.Lock()


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def lock_down(con: duckdb.DuckDBPyConnection, readable: Path, memory_limit: str) -> None:
    """Sandbox an instance for the rest of its life: it may read ``readable`` only, no external
    access, no extensions, no Python replacement scans, configuration locked."""
    for statement in (
        f"SET allowed_directories=[{lit(str(readable) + '/')}]",
        f"SET memory_limit={lit(memory_limit)}",
        "SET python_enable_replacements=false",
        "SET autoinstall_known_extensions=false",
        "SET autoload_known_extensions=false",
        "SET enable_external_access=false",
        "SET lock_configuration=true",
    ):
        con.execute(statement)


class RuleTimeout(AppError):
    status = 422
    code = "rule_timeout"


class StoreUnavailable(AppError):
    status = 503
    code = "store_unavailable"


class StoreBusy(AppError):
    status = 503
    code = "store_busy"


@dataclass(frozen=True)
class LoadSpec:
    """What :meth:`BusinessStore.load_csv` needs; built by the data service from a declaration."""

    table: str
    #: (header as in the file, declared column or None for an ignored extra, DuckDB type)
    header: Sequence[tuple[str, str | None, str]]
    required: Sequence[str]
    key: Sequence[str]
    period_column: str | None
    path: Path
    delimiter: str
    import_id: int
    take_good_rows: bool
    #: JSON rows: report "row N" of the array (file line minus one)
    line_offset: int = 0


@dataclass
class LoadResult:
    rows_read: int = 0
    rows_taken: int = 0
    rows_refused: int = 0
    rows_replaced: int = 0
    periods: list[str] = field(default_factory=list)
    #: (row, column, reason), at most MAX_LISTED_ERRORS
    errors: list[tuple[int, str | None, str]] = field(default_factory=list)
    committed: bool = False


class BusinessStore:
    """The sandboxed DuckDB instance holding the business tables, opened while there is work."""

    def __init__(
        self, path: Path, staging_dir: Path, memory_limit: str, wait: float = 120.0, linger: float = 2.0
    ) -> None:
        self.path = path
        self.staging_dir = staging_dir
        self.memory_limit = memory_limit
        self.wait = wait
        self.linger = linger
        path.parent.mkdir(parents=True, exist_ok=True)
        staging_dir.mkdir(parents=True, exist_ok=True)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._holder: int | None = None  # the descriptor of <file>.holder while the file is open
        self._users = 0
        self._closer: threading.Timer | None = None
        self._state = threading.Condition()
        self._lock = threading.Lock()
        self._table_locks: dict[str, threading.Lock] = {}

    @classmethod
    def for_settings(cls, settings: Settings) -> BusinessStore:
        path = settings.duckdb_path.resolve()
        with _instances_lock:
            store = _instances.get(path)
            if store is None:
                store = cls(
                    path,
                    (settings.data_dir / "staging").resolve(),
                    settings.duckdb_memory_limit,
                    settings.duckdb_wait_seconds,
                    settings.duckdb_linger_seconds,
                )
                if not _instances:  # the file is closed before the interpreter winds down: DuckDB's
                    atexit.unregister(cls.close_all)  # threads must not outlive it (else the
                    atexit.register(cls.close_all)  # process aborts at exit, rc 134)
                _instances[path] = store
            return store

    @staticmethod
    def close_all() -> None:
        with _instances_lock:
            for store in _instances.values():
                store._close(force=True)
            _instances.clear()

    # --- taking turns with other processes ---------------------------------------------
    def acquire(self) -> None:
        """Hold the file open for this process (counted; :meth:`release` once for each call)."""
        with self._state:
            if self._closer is not None:
                self._closer.cancel()
                self._closer = None
            if self._con is None:
                self._open()
            self._users += 1

    def release(self) -> None:
        with self._state:
            self._users -= 1
            if self._users > 0 or self._con is None:
                return
            if self.linger <= 0 or self._wanted():
                self._close()
            else:
                self._closer = threading.Timer(self.linger, self._close)
                self._closer.daemon = True
                self._closer.start()

    @contextlib.contextmanager
    def held(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.acquire()
        try:
            assert self._con is not None
            yield self._con
        finally:
            self.release()

    def _side(self, suffix: str) -> int:
        fd = os.open(self.path.with_name(self.path.name + suffix), os.O_RDWR | os.O_CREAT, 0o600)
        os.set_inheritable(fd, False)
        return fd

    def _open(self) -> None:
        """Wait for this process's turn (exclusive lock on ``.holder``), then open and sandbox."""
        holder = self._side(".holder")
        waiting: int | None = None
        deadline = time.monotonic() + self.wait
        try:
            delay = 0.005
            while True:
                try:
                    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if waiting is None:  # tell the holder to close when its work is done
                        waiting = self._side(".waiting")
                        fcntl.flock(waiting, fcntl.LOCK_SH)
                    if time.monotonic() >= deadline:
                        raise StoreBusy(
                            f"the business data store is in use by another process (an import or a "
                            f"rule run) and was not free within {self.wait:g} s: try again later",
                            extra={"waited_seconds": self.wait},
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
            try:
                con = duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                raise StoreUnavailable(
                    f"the business data store {self.path} is held by a process that does not take "
                    f"turns (another program has the file open?): {exc}",
                ) from exc
        except BaseException:
            os.close(holder)  # also drops the lock
            raise
        finally:
            if waiting is not None:
                os.close(waiting)
        lock_down(con, self.staging_dir, self.memory_limit)
        self._con, self._holder = con, holder

    def _wanted(self) -> bool:
        """Whether another process waits for the file (it holds ``.waiting`` shared)."""
        fd = self._side(".waiting")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def _close(self, force: bool = False) -> None:
        with self._state:
            if self._con is None or (self._users > 0 and not force):
                return
            if self._closer is not None:
                self._closer.cancel()
                self._closer = None
            self._con.close()
            self._con = None
            if self._holder is not None:
                os.close(self._holder)
                self._holder = None
            self._users = 0

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.held() as con:
            with self._lock:
                cur = con.cursor()
            try:
                yield cur
            finally:
                cur.close()

    # --- tables ---------------------------------------------------------------------
    def create_table(
        self, table: str, columns: Sequence[tuple[str, str]], period_column: str | None = None
    ) -> None:
        body = ", ".join(f"{ident(name)} {kind}" for name, kind in columns)
        with self._cursor() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {ident(table)} ({body}, {IMPORT_COLUMN} BIGINT)")

    def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._cursor() as cur:
            for table in tables:
                try:
                    row = cur.execute(f"SELECT count(*) FROM {ident(table)}").fetchone()
                except duckdb.CatalogException:
                    continue
                out[table] = int(row[0]) if row else 0
        return out

    # --- queries with a time limit ----------------------------------------------------
    def run(self, work: Callable[[duckdb.DuckDBPyConnection], T], timeout: float | None = None) -> T:
        """Run ``work(cursor)`` on a fresh cursor; past ``timeout`` seconds it is interrupted."""
        with self._cursor() as cur:
            return timed(cur, work, timeout)

    def columns_of(self, sql: str, params: dict[str, object], timeout: float) -> dict[str, str]:
        """The columns a (checked) SELECT returns and their DuckDB types, from a zero-row probe:
        binds names and types."""

        def probe(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
            try:
                return {
                    str(d[0]): str(d[1])
                    for d in cur.execute(f"SELECT * FROM ({sql}) AS rule LIMIT 0", params).description
                }
            except duckdb.Error as exc:
                raise RuleRejected(f"rule rejected: {exc}", extra={"reason": str(exc)}) from exc

        return self.run(probe, timeout)

    # --- imports ----------------------------------------------------------------------
    def load_csv(self, spec: LoadSpec) -> LoadResult:
        """Load one import; imports into the same table wait for each other (a period is replaced,
        never doubled by two imports of it racing); other processes wait for their turn."""
        with self._lock:
            table_lock = self._table_locks.setdefault(spec.table, threading.Lock())
        with table_lock:
            return self.run(lambda cur: _load(cur, spec))


def timed(
    cur: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T], timeout: float | None
) -> T:
    """``work(cur)``, interrupted past ``timeout`` seconds (:class:`RuleTimeout`)."""
    timer = threading.Timer(timeout, cur.interrupt) if timeout else None
    started = time.monotonic()
    try:
        if timer is not None:
            timer.start()
        return work(cur)
    except duckdb.InterruptException as exc:
        raise RuleTimeout(
            f"the query was stopped after {time.monotonic() - started:.1f} s (limit {timeout:g} s)",
            extra={"timeout_seconds": timeout},
        ) from exc
    finally:
        if timer is not None:
            timer.cancel()


def _reason(column: str | None, error_type: str, message: str, required: Sequence[str]) -> str:
    message = " ".join(message.split())
    if error_type == "CAST" and column in required and ('string ""' in message or message.endswith(". ")):
        return "required value is empty"
    if error_type == "CAST" and message.endswith(f'"{column}".'):
        return "required value is empty" if column in required else "value cannot be read"
    if "Could not convert" in message:
        return message[message.index("Could not convert") :]
    if error_type == "INVALID ENCODING" or "Invalid unicode" in message:
        return "not UTF-8 text: re-import with the file's encoding (e.g. --encoding gb18030)"
    return message


def _load(cur: duckdb.DuckDBPyConnection, spec: LoadSpec) -> LoadResult:
    table = ident(spec.table)
    result = LoadResult()
    columns = "{" + ", ".join(f"{lit(h)}: {lit(t)}" for h, _c, t in spec.header) + "}"
    taken = [(h, c) for h, c, _t in spec.header if c is not None]
    not_null = [h for h, c in taken if c in spec.required]
    source = (
        f"read_csv({lit(str(spec.path))}, header=true, auto_detect=false, delim={lit(spec.delimiter)}, "
        f"quote='\"', escape='\"', columns={columns}, store_rejects=true, "
        f"rejects_table='import_rejects', rejects_scan='import_rejects_scan'"
        + (f", force_not_null=[{', '.join(lit(h) for h in not_null)}]" if not_null else "")
        + ")"
    )
    names = ", ".join(ident(c) for _h, c in taken if c)
    exprs = ", ".join(ident(h) for h, _c in taken)
    where = f"{IMPORT_COLUMN} = {int(spec.import_id)}"
    cur.execute("BEGIN TRANSACTION")
    try:
        row = cur.execute(
            f"INSERT INTO {table} ({names}, {IMPORT_COLUMN}) "
            f"SELECT {exprs}, {int(spec.import_id)} FROM {source}"
        ).fetchone()
        inserted = int(row[0]) if row else 0
        refused_lines = [
            int(r[0])
            for r in cur.execute("SELECT DISTINCT line FROM import_rejects ORDER BY line").fetchall()
        ]
        for line, column, error_type, message in cur.execute(
            "SELECT line, column_name, error_type, error_message FROM import_rejects "
            f"ORDER BY line LIMIT {MAX_LISTED_ERRORS}"
        ).fetchall():
            col = _declared(spec, column)
            result.errors.append(
                (int(line) - spec.line_offset, col, _reason(col, error_type, message, spec.required))
            )
        bad = _check_accepted(cur, spec, refused_lines, result)
        bad_rows = 0
        if bad is not None:
            row = cur.execute(f"SELECT count(*) FROM {table} WHERE {where} AND ({bad})").fetchone()
            bad_rows = int(row[0]) if row else 0
        result.rows_read = inserted + len(refused_lines)
        result.rows_refused = len(refused_lines) + bad_rows
        result.errors.sort(key=lambda e: e[0])
        del result.errors[MAX_LISTED_ERRORS:]
        if result.rows_read == 0:
            cur.execute("ROLLBACK")
            raise Invalid("the file has a header but no data rows", code="empty_file")
        if result.rows_refused and not spec.take_good_rows:
            cur.execute("ROLLBACK")
            return result
        if bad is not None:
            cur.execute(f"DELETE FROM {table} WHERE {where} AND ({bad})")
        result.rows_taken = inserted - bad_rows
        if spec.period_column:
            period = ident(spec.period_column)
            result.periods = [
                str(r[0])
                for r in cur.execute(
                    f"SELECT DISTINCT CAST({period} AS VARCHAR) FROM {table} "
                    f"WHERE {where} ORDER BY 1 LIMIT 1000"
                ).fetchall()
            ]
            replaced = cur.execute(
                f"DELETE FROM {table} WHERE {IMPORT_COLUMN} <> {int(spec.import_id)} AND {period} IN "
                f"(SELECT DISTINCT {period} FROM {table} WHERE {where})"
            ).fetchone()
        else:
            replaced = cur.execute(
                f"DELETE FROM {table} WHERE {IMPORT_COLUMN} <> {int(spec.import_id)}"
            ).fetchone()
        result.rows_replaced = int(replaced[0]) if replaced else 0
        cur.execute("COMMIT")
        result.committed = True
        return result
    except duckdb.TransactionException as exc:
        _rollback(cur)
        raise Conflict(
            f"another import changed {spec.table} at the same time: {exc}", code="import_conflict"
        ) from exc
    except duckdb.Error as exc:
        _rollback(cur)
        raise Invalid(f"the file cannot be read as {spec.table}: {exc}", code="malformed_file") from exc
    except BaseException:
        _rollback(cur)
        raise


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        cur.execute("ROLLBACK")


def _declared(spec: LoadSpec, header: str | None) -> str | None:
    for h, c, _t in spec.header:
        if h == header:
            return c or h
    return header


def _check_accepted(
    cur: duckdb.DuckDBPyConnection, spec: LoadSpec, refused_lines: list[int], result: LoadResult
) -> str | None:
    """Rows DuckDB accepted that break the declaration: empty required text, duplicate keys.

    Returns the SQL condition selecting those rows among this import's (None: there are none),
    after listing them in ``result.errors``. Required non-text columns are already enforced by the
    reader (``force_not_null`` makes an empty cell a cast error with its line). The key check sorts
    a 32-bit hash of the key (cheaper than grouping 10 M distinct 64-bit values) and looks at the
    real key values only where two rows share a hash: their rows are few, so the exact check is
    cheap; every row after the first of a key is refused, whatever the number of duplicates.
    """
    table = ident(spec.table)
    where = f"{IMPORT_COLUMN} = {int(spec.import_id)}"
    text_required = [c for _h, c, t in spec.header if c is not None and c in spec.required and t == "VARCHAR"]
    #: (rowid, column, reason, rowid of the earlier row with the same key)
    found: list[tuple[int, str | None, str, int | None]] = []
    conditions: list[str] = []
    if text_required:
        empty = " OR ".join(f"coalesce({ident(c)}, '') = ''" for c in text_required)
        flags = ", ".join(f"coalesce({ident(c)}, '') = ''" for c in text_required)
        rows = cur.execute(
            f"SELECT rowid, {flags} FROM {table} WHERE {where} AND ({empty}) "
            f"ORDER BY rowid LIMIT {MAX_LISTED_ERRORS}"
        ).fetchall()
        if rows:
            conditions.append(f"({empty})")
        for rowid, *missing in rows:
            for column, is_empty in zip(text_required, missing, strict=True):
                if is_empty:
                    found.append((int(rowid), column, "required value is empty", None))
    if spec.key:
        keys = ", ".join(ident(k) for k in spec.key)
        short = f"(hash({keys}) >> 32)::UINTEGER"
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {DUPLICATES} AS "
            f"WITH shared AS (SELECT h FROM (SELECT {short} AS h FROM {table} WHERE {where}) "
            f"QUALIFY h = lag(h) OVER (ORDER BY h)), "
            f"candidates AS (SELECT rowid AS row_id, min(rowid) OVER (PARTITION BY {keys}) AS first_id "
            f"FROM {table} WHERE {where} AND {short} IN (SELECT h FROM shared)) "
            "SELECT row_id, first_id FROM candidates WHERE row_id <> first_id"
        )
        rows = cur.execute(
            f"SELECT row_id, first_id FROM {DUPLICATES} ORDER BY row_id LIMIT {MAX_LISTED_ERRORS}"
        ).fetchall()
        if rows:
            conditions.append(f"rowid IN (SELECT row_id FROM {DUPLICATES})")
        for rowid, first in rows:
            found.append((int(rowid), ", ".join(spec.key), "duplicate key: same as row", int(first)))
    if not found:
        return None
    row = cur.execute(f"SELECT min(rowid) FROM {table} WHERE {where}").fetchone()
    base = int(row[0]) if row and row[0] is not None else 0
    skipped = sorted({*refused_lines, *blank_lines(spec.path)})

    def number(rowid: int) -> int:
        return line_of(rowid - base, skipped) - spec.line_offset

    for rowid, where_col, reason, twin in found:
        result.errors.append(
            (number(rowid), where_col, reason if twin is None else f"{reason} {number(twin)}")
        )
    return " OR ".join(conditions)
