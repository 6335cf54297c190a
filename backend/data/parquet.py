# ruff: noqa: S608  -- identifiers and literals are quoted by ident() and lit(); values are bound
"""The shared business store: Parquet files, one directory per table and period.

``PROBITY_BUSINESS_STORE=file:///srv/probity/business`` lays the tables out as::

    <root>/<table>/_manifest.json                 the files that make the table now
    <root>/<table>/<period column>=<period>/part-<import id>.parquet
    <root>/<table>/all/part-<import id>.parquet   (a table without a period column)

Both engines read it: DuckDB (``read_parquet``) and Spark (``spark.read.parquet``), each given
the manifest's list of files, so a reader sees a table whole, before or after an import. An
import is checked exactly as in the DuckDB store (the same ``read_csv`` load with its row errors
and key check, :func:`backend.data.store._load`, in a private in-memory DuckDB), written as one
file per period, then made visible by replacing the manifest (write a new one, ``os.replace``:
atomic on a POSIX file system); imports of one table take turns under an exclusive lock on
``<table>/_lock``. The files an import replaced are deleted by a later import, once no reader can
still be reading them (``RETIRE_AFTER``). A failed import changes no manifest and removes its files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from backend.data.sandbox import RuleRejected
from backend.data.store import (
    IMPORT_COLUMN,
    LoadResult,
    LoadSpec,
    StoreUnavailable,
    _load,
    ident,
    lit,
    lock_down,
)
from backend.kernel.settings import Settings

MANIFEST = "_manifest.json"
#: replaced files stay this long for the readers that listed them before the replacement
RETIRE_AFTER = 3600.0
NULL_PERIOD = "__HIVE_DEFAULT_PARTITION__"


def store_root(url: str) -> Path:
    """The directory of a ``file://`` store. ``s3://`` is read through the engines' own settings
    (README "Running at province scale") but imports need a file system here."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path)).resolve()
    raise StoreUnavailable(
        f"PROBITY_BUSINESS_STORE {url!r}: only file:// stores can be written by this process "
        "(mount the bucket, e.g. with s3fs or a CSI driver, and give its path as file:///…)"
    )


class ParquetStore:
    """Business tables as Parquet partitioned by period, with an atomic manifest per table."""

    def __init__(self, root: Path, staging_dir: Path, memory_limit: str) -> None:
        self.root = root
        self.staging_dir = staging_dir
        self.memory_limit = memory_limit
        root.mkdir(parents=True, exist_ok=True)
        staging_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_settings(cls, settings: Settings) -> ParquetStore:
        assert settings.business_store is not None
        return cls(
            store_root(settings.business_store),
            (settings.data_dir / "staging").resolve(),
            settings.duckdb_memory_limit,
        )

    # --- the manifest -------------------------------------------------------------------
    def _dir(self, table: str) -> Path:
        return self.root / table

    def manifest(self, table: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads((self._dir(table) / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        return data

    def _write_manifest(self, table: str, data: dict[str, Any]) -> None:
        target = self._dir(table) / MANIFEST
        tmp = target.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
        with tmp.open("w") as out:
            json.dump(data, out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)

    @contextlib.contextmanager
    def _turn(self, table: str) -> Iterator[None]:
        """Imports into one table take turns, across processes."""
        self._dir(table).mkdir(parents=True, exist_ok=True)
        fd = os.open(self._dir(table) / "_lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def columns(self, table: str) -> list[tuple[str, str]]:
        found = self.manifest(table)
        return [(str(n), str(t)) for n, t in found["columns"]] if found else []

    def files(self, table: str) -> list[Path]:
        found = self.manifest(table) or {"partitions": {}}
        return [self.root / table / p["file"] for _k, p in sorted(found["partitions"].items())]

    def tables(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob(f"*/{MANIFEST}"))

    # --- what the DataService asks of a store -------------------------------------------------
    def create_table(
        self, table: str, columns: Sequence[tuple[str, str]], period_column: str | None = None
    ) -> None:
        with self._turn(table):
            if self.manifest(table) is None:
                self._write_manifest(
                    table,
                    {"columns": [list(c) for c in columns], "period_column": period_column, "partitions": {}},
                )

    def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for table in tables:
            found = self.manifest(table)
            if found is not None:
                out[table] = sum(int(p["rows"]) for p in found["partitions"].values())
        return out

    def load_csv(self, spec: LoadSpec) -> LoadResult:
        """Check the file in a private DuckDB, write its periods, then swap the manifest."""
        with self._turn(spec.table):
            found = self.manifest(spec.table)
            if found is None:
                raise StoreUnavailable(f"business table {spec.table} has no manifest in {self.root}")
            con = duckdb.connect(":memory:")
            written: list[Path] = []
            try:
                con.execute(f"SET memory_limit={lit(self.memory_limit)}")
                body = ", ".join(f"{ident(n)} {t}" for n, t in found["columns"])
                con.execute(f"CREATE TABLE {ident(spec.table)} ({body}, {IMPORT_COLUMN} BIGINT)")
                result = _load(con, spec)
                if not result.committed:
                    return result
                partitions = self._write_periods(con, spec, found, written)
                replaced = (
                    {k: v for k, v in found["partitions"].items() if k in partitions}
                    if found.get("period_column")
                    else dict(found["partitions"])
                )
                result.rows_replaced = sum(int(p["rows"]) for p in replaced.values())
                now = time.time()
                retired = [r for r in found.get("retired", []) if not self._retire(spec.table, r, now)]
                retired += [{"file": p["file"], "at": now} for p in replaced.values()]
                kept = {k: v for k, v in found["partitions"].items() if k not in replaced}
                self._write_manifest(
                    spec.table, {**found, "partitions": {**kept, **partitions}, "retired": retired}
                )
                written.clear()
                return result
            finally:
                con.close()
                for path in written:  # a failed import leaves nothing behind
                    path.unlink(missing_ok=True)

    def _write_periods(
        self, con: duckdb.DuckDBPyConnection, spec: LoadSpec, found: dict[str, Any], written: list[Path]
    ) -> dict[str, dict[str, Any]]:
        names = ", ".join(ident(n) for n, _t in found["columns"])
        period = found.get("period_column")
        if period:
            expr = f"CAST({ident(period)} AS VARCHAR)"
            keys = [
                r[0]
                for r in con.execute(f"SELECT DISTINCT {expr} FROM {ident(spec.table)} ORDER BY 1").fetchall()
            ]
        else:
            keys = [""]
        out: dict[str, dict[str, Any]] = {}
        for key in keys:
            if period:
                folder = f"{period}={urllib.parse.quote(key if key is not None else NULL_PERIOD, safe='')}"
                where = f"{expr} = {lit(key)}" if key is not None else f"{ident(period)} IS NULL"
            else:
                folder, where = "all", "true"
            relative = f"{folder}/part-{int(spec.import_id)}.parquet"
            path = self._dir(spec.table) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(path)
            row = con.execute(
                f"COPY (SELECT {names} FROM {ident(spec.table)} WHERE {where}) TO {lit(str(path))} "
                "(FORMAT parquet, COMPRESSION zstd)"
            ).fetchone()
            out[key if key is not None else NULL_PERIOD] = {
                "file": relative,
                "rows": int(row[0]) if row else 0,
                "import_id": int(spec.import_id),
            }
        return out

    def _retire(self, table: str, entry: dict[str, Any], now: float) -> bool:
        """Delete a replaced file once no reader can still be reading it; True when it is gone."""
        if now - float(entry["at"]) < RETIRE_AFTER:
            return False
        (self._dir(table) / str(entry["file"])).unlink(missing_ok=True)
        return True


def duckdb_reader(store: ParquetStore, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose tables are views over the store's files, then sandboxed: it may
    read the store's directory only, external access off, configuration locked."""
    con = duckdb.connect(":memory:")
    for table in store.tables():
        files = store.files(table)
        if files:
            listed = ", ".join(lit(str(f)) for f in files)
            con.execute(f"CREATE VIEW {ident(table)} AS SELECT * FROM read_parquet([{listed}])")
        else:
            body = ", ".join(f"{ident(n)} {t}" for n, t in store.columns(table))
            con.execute(f"CREATE TABLE {ident(table)} ({body})")
    lock_down(con, store.root, memory_limit)
    return con


def parquet_columns(
    store: ParquetStore, memory_limit: str, sql: str, params: dict[str, object], timeout: float
) -> dict[str, str]:
    """The columns a checked rule returns on DuckDB over the store (a zero-row probe)."""
    con = duckdb_reader(store, memory_limit)
    timer = threading.Timer(timeout, con.interrupt)
    try:
        timer.start()
        described = con.execute(f"SELECT * FROM ({sql}) AS rule LIMIT 0", params).description
        return {str(d[0]): str(d[1]) for d in described}
    except duckdb.Error as exc:
        raise RuleRejected(f"rule rejected: {exc}", extra={"reason": str(exc)}) from exc
    finally:
        timer.cancel()
        con.close()
