"""Backup and restore of one deployment: the operational database, the business store and the
files of the data directory, while ``probity serve`` keeps running.

A backup is a directory::

    manifest.json            what is in it: sha256 and size of every file, the database kind,
                             row counts (SQLite), an HMAC fingerprint of the secret key (never
                             the key), all signed with a key derived from the secret key
    database/probity.db      SQLite: a copy made with SQLite's online backup API (one step:
                             one read transaction, so one consistent state; writers go on)
    database/probity.pgdump  PostgreSQL: ``pg_dump --format=custom`` (one snapshot)
    business/<table>/...     the shared Parquet store of ``PROBITY_BUSINESS_STORE=file:///…``: per
                             table its manifest and the files it lists, as of one moment (the
                             manifest read once; listed files are never rewritten, and replaced
                             ones stay for an hour, ``backend.data.parquet.RETIRE_AFTER``). An
                             ``s3://`` store is not copied: the bucket's own versioning or
                             backup keeps it, and the manifest records its URL
    data/...                 the data directory: the trail's checkpoints (copied first, so every
                             checkpoint names a record the database copy holds), the DuckDB
                             business store, photos and signatures (copied after the database,
                             so every file a copied row names is there); the secret key file
                             only with ``include_secret_key``

The DuckDB file may be held by the serving process, and another process cannot open it. It is
copied as files (the database and its write-ahead log) and kept only when nothing changed them
while they were copied (size, time and content compared before and after; tried again
otherwise), which is a state DuckDB itself can open after a crash; the copy is then opened once,
which checks its blocks and folds the log in.

Restore goes into an empty data directory (and an empty database), after checking every file's
hash, the manifest's signature and that the secret key is the one the backup was made with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.engine import make_url

from backend.audit.checkpoints import checkpoint_path
from backend.data.parquet import MANIFEST as STORE_MANIFEST
from backend.data.parquet import ParquetStore, store_root
from backend.kernel.files import private_dir, write_private
from backend.kernel.settings import KEY_FILE_NAME, Settings
from backend.kernel.timeutil import utcnow

FORMAT = "probity-backup/v1"
MANIFEST = "manifest.json"
SQLITE_COPY = "database/probity.db"
PG_DUMP = "database/probity.pgdump"
FINGERPRINT_LABEL = b"probity/backup-key-fingerprint/v1"
MANIFEST_LABEL = b"probity/backup-manifest/v1"
#: tries at a copy of the business store that nothing changed meanwhile
DUCKDB_ATTEMPTS = 20
#: not backed up: transient import files and half-written files
SKIPPED_DIRS = frozenset({"staging"})
CHUNK = 1 << 20
#: a database to restore into has none of these
PG_TABLES = "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"

Progress = Callable[[str], None]


class BackupRefused(ValueError):
    """A backup or restore that cannot be done as asked; the message says why and what to do."""


def key_fingerprint(secret_key: str) -> str:
    """Tells whether two keys are the same without showing either."""
    return hmac.new(secret_key.encode(), FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def _signature(secret_key: str, body: dict[str, Any]) -> str:
    key = hmac.new(secret_key.encode(), MANIFEST_LABEL, hashlib.sha256).digest()
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(src: Path, dst: Path) -> str:
    """Copy ``src`` to ``dst`` (0600), fsync'd; the sha256 of what was written."""
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with src.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                os.write(fd, chunk)
        os.fsync(fd)
    finally:
        os.close(fd)
    return digest.hexdigest()


@dataclass
class BackupReport:
    dest: Path
    database: str
    files: int
    bytes: int
    tables: dict[str, int] | None


def backup(
    settings: Settings, dest: Path, *, include_secret_key: bool = False, say: Progress = lambda _m: None
) -> BackupReport:
    """Back the deployment up into ``dest`` (a new or empty directory)."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupRefused(f"{dest} is not an empty directory: back up into a new one")
    data_dir = settings.data_dir.resolve()
    if dest.resolve().is_relative_to(data_dir):
        raise BackupRefused(f"{dest} is inside the data directory {data_dir}: back up somewhere else")
    private_dir(dest)
    hashes: dict[str, str] = {}
    # 1. the checkpoints, before the database: each names a record the copy will hold
    checkpoints = checkpoint_path(settings.data_dir)
    if checkpoints.exists():
        hashes["data/" + checkpoints.relative_to(settings.data_dir).as_posix()] = _copy(
            checkpoints, dest / "data" / checkpoints.relative_to(settings.data_dir)
        )
    # 2. the operational database
    tables: dict[str, int] | None = None
    if settings.is_sqlite:
        say("copying the SQLite database (online backup) …")
        tables = _sqlite_backup(settings, dest / SQLITE_COPY)
        hashes[SQLITE_COPY] = sha256_of(dest / SQLITE_COPY)
    else:
        say("dumping the PostgreSQL database (pg_dump) …")
        _pg_dump(settings, dest / PG_DUMP)
        hashes[PG_DUMP] = sha256_of(dest / PG_DUMP)
    # 3. the business store
    if settings.duckdb_path.exists():
        say("copying the business store …")
        target = dest / "data" / settings.duckdb_path.name
        _duckdb_copy(settings.duckdb_path, target)
        hashes["data/" + settings.duckdb_path.name] = sha256_of(target)
    # 3b. the shared Parquet store (file://), or where an s3:// one is
    store = _store_backup(settings, dest, hashes, say)
    # 4. everything else in the data directory (photos, signatures, …)
    say("copying the data directory …")
    skip = {
        checkpoints.resolve(),
        settings.secret_key_file.resolve(),
        *(p.resolve() for p in settings.database_files),
    }
    shared = _store_root(settings)
    for path in sorted(_files(settings.data_dir)):
        if path.resolve() in skip or path.name.endswith(".tmp"):
            continue
        if shared is not None and path.resolve().is_relative_to(shared):
            continue
        relative = path.relative_to(settings.data_dir)
        hashes["data/" + relative.as_posix()] = _copy(path, dest / "data" / relative)
    key = settings.secret_key.get_secret_value()
    if include_secret_key and settings.secret_key_file.exists():
        hashes["data/" + KEY_FILE_NAME] = _copy(settings.secret_key_file, dest / "data" / KEY_FILE_NAME)
    files: dict[str, dict[str, Any]] = {
        name: {"sha256": digest, "bytes": (dest / name).stat().st_size} for name, digest in hashes.items()
    }
    body = {
        "format": FORMAT,
        "made_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "database": "sqlite" if settings.is_sqlite else "postgresql",
        "key_fingerprint": key_fingerprint(key),
        "secret_key_included": include_secret_key and settings.secret_key_file.exists(),
        "tables": tables,
        "business_store": store,
        "files": dict(sorted(files.items())),
    }
    manifest = {**body, "signature": _signature(key, body)}
    write_private(dest / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    size = sum(int(entry["bytes"]) for entry in files.values())
    return BackupReport(dest, str(body["database"]), len(hashes), size, tables)


def _store_root(settings: Settings) -> Path | None:
    """The directory of a ``file://`` business store (None: no shared store, or an ``s3://`` one)."""
    url = settings.business_store
    if url is None or not url.startswith("file:"):
        return None
    return store_root(url)


def _store_backup(
    settings: Settings, dest: Path, hashes: dict[str, str], say: Progress
) -> dict[str, Any] | None:
    """Copy each table of a ``file://`` store as of one moment: its manifest, read once, and the
    files it lists (a file gone meanwhile, retired by imports over an hour: the table again)."""
    url = settings.business_store
    if url is None:
        return None
    root = _store_root(settings)
    if root is None:
        say(f"the business store {url} is not copied: its own versioning or backup keeps it")
        return {"url": url, "copied": False}
    say("copying the shared business store (Parquet) …")
    store = ParquetStore.for_settings(settings)
    rows: dict[str, int] = {}
    for table in store.tables():
        for _attempt in range(DUCKDB_ATTEMPTS):
            manifest = store.manifest(table)
            if manifest is None:
                break
            snapshot = {**manifest, "retired": []}
            copied: dict[str, str] = {}
            try:
                for part in snapshot["partitions"].values():
                    name = f"business/{table}/{part['file']}"
                    copied[name] = _copy(root / table / str(part["file"]), dest / name)
            except FileNotFoundError:
                continue
            name = f"business/{table}/{STORE_MANIFEST}"
            write_private(dest / name, json.dumps(snapshot, ensure_ascii=False, indent=1).encode())
            hashes.update(copied)
            hashes[name] = sha256_of(dest / name)
            rows[table] = sum(int(p["rows"]) for p in snapshot["partitions"].values())
            break
        else:
            raise BackupRefused(f"no consistent copy of the business table {table} could be made: try again")
    return {"url": url, "copied": True, "tables": rows}


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        found.extend(here / name for name in names)
    return found


def _sqlite_backup(settings: Settings, target: Path) -> dict[str, int]:
    source_path = settings.sqlite_path
    if source_path is None or not source_path.exists():
        raise BackupRefused(f"the SQLite database {source_path} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    source = sqlite3.connect(source_path, timeout=settings.sqlite_busy_timeout_ms / 1000)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # pages=-1: all in one step, one read transaction
        copy.commit()
        return _sqlite_counts(copy)
    finally:
        copy.close()
        source.close()


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608 - names from the catalog
        for name in sorted(names)
    }


def _libpq_env(settings: Settings) -> dict[str, str]:
    """The connection for pg_dump / pg_restore in libpq's variables (the password never on a
    command line, where other users can read it)."""
    url = make_url(settings.database_url)
    env = {**os.environ}
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[name] = str(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            f"{name} was not found on PATH: install the PostgreSQL client tools of the server's "
            f"version (Debian/Ubuntu: apt-get install postgresql-client) and run this again"
        )
    return found


def _pg_run(settings: Settings, program: str, *args: str, failing: str) -> str:
    """Run a PostgreSQL client program on the configured database; its output."""
    done = subprocess.run(  # noqa: S603 - a fixed program and arguments
        [_pg_tool(program), *args], env=_libpq_env(settings), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupRefused(f"{failing}: {done.stderr.strip()}")
    return done.stdout


def _pg_dump(settings: Settings, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    options = ("--format=custom", "--no-owner", "--no-privileges", f"--file={target}")
    _pg_run(settings, "pg_dump", *options, failing="pg_dump failed")


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_size, found.st_mtime_ns


def _duckdb_copy(source: Path, target: Path) -> None:
    """A copy of the DuckDB file and its log that nothing changed while it was made, opened once."""
    files = [source, source.with_name(source.name + ".wal")]
    targets = [target, target.with_name(target.name + ".wal")]
    last_error = "it kept changing"
    for attempt in range(DUCKDB_ATTEMPTS):
        time.sleep(0.02 * attempt)  # a write under way: let it finish
        for stale in targets:
            stale.unlink(missing_ok=True)
        before = [_stat(f) for f in files]
        copied = [_copy(f, t) if f.exists() else None for f, t in zip(files, targets, strict=True)]
        still = [sha256_of(f) if f.exists() else None for f in files]
        if before != [_stat(f) for f in files] or copied != still:
            continue
        try:
            con = duckdb.connect(str(target))
            try:
                con.execute("CHECKPOINT")  # folds the log into the copy, which is checked on reading
            finally:
                con.close()
        except duckdb.Error as exc:
            last_error = str(exc)
            continue
        targets[1].unlink(missing_ok=True)
        return
    raise BackupRefused(
        f"no consistent copy of the business store {source} could be made ({last_error}): try again"
    )


@dataclass
class RestoreReport:
    files: int
    database: str
    secret_key_restored: bool


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupRefused(f"{src} holds no {MANIFEST}: not a backup made by `probity backup`") from exc
    except ValueError as exc:
        raise BackupRefused(f"{src / MANIFEST} cannot be read: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupRefused(f"{src} is not a {FORMAT} backup")
    return dict(manifest)


def check_backup(src: Path, manifest: dict[str, Any], secret_key: str) -> None:
    """The manifest signed with this key, every file there with its hash, no file added."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    if not hmac.compare_digest(str(manifest.get("signature")), _signature(secret_key, body)):
        raise BackupRefused(f"{src / MANIFEST} was altered: its signature does not match")
    listed = dict(manifest["files"])
    for name, entry in listed.items():
        path = src / name
        if not path.is_file():
            raise BackupRefused(f"{name} is missing from the backup")
        if sha256_of(path) != entry["sha256"]:
            raise BackupRefused(
                f"{name} does not match its hash in the manifest: the backup was altered or damaged"
            )
    for path in _files(src):
        name = path.relative_to(src).as_posix()
        if name != MANIFEST and name not in listed:
            raise BackupRefused(f"{name} is in the backup directory but not in its manifest")


def restore(settings: Settings, src: Path, *, say: Progress = lambda _m: None) -> RestoreReport:
    """Restore the backup in ``src`` into this deployment's empty data directory and database."""
    manifest = read_manifest(src)
    if manifest["database"] != ("sqlite" if settings.is_sqlite else "postgresql"):
        raise BackupRefused(
            f"the backup is of a {manifest['database']} database; PROBITY_DATABASE_URL names another kind"
        )
    key = settings.secret_key.get_secret_value()
    key_from_backup = False
    if key_fingerprint(key) != manifest["key_fingerprint"]:
        kept = src / "data" / KEY_FILE_NAME
        backed_key = (
            kept.read_text().strip() if manifest.get("secret_key_included") and kept.is_file() else None
        )
        if backed_key is None or settings.key_origin != "made":
            if settings.key_origin == "made":
                settings.secret_key_file.unlink(missing_ok=True)  # made by this run: leave no trace
            raise BackupRefused(
                "the backup was made with another secret key: set PROBITY_SECRET_KEY to that key "
                f"(or put it in {settings.secret_key_file}) and restore again"
            )
        key, key_from_backup = backed_key, True
        if key_fingerprint(key) != manifest["key_fingerprint"]:
            raise BackupRefused("the secret key file in the backup is not the key the backup was made with")
    say("checking the backup's files …")
    check_backup(src, manifest, key)
    _check_store(settings, manifest)
    _check_empty(settings)
    if key_from_backup:
        settings.secret_key_file.unlink(missing_ok=True)  # the key just made, replaced by the backup's
    say("restoring the data directory …")
    private_dir(settings.data_dir)
    files = 0
    shared = _store_root(settings)
    for name in manifest["files"]:
        if name.startswith("business/") and shared is not None:
            _copy(src / name, shared / name.removeprefix("business/"))
            files += 1
            continue
        if not name.startswith("data/"):
            continue
        relative = name.removeprefix("data/")
        if relative == KEY_FILE_NAME and not key_from_backup:
            continue
        _copy(src / name, settings.data_dir / relative)
        files += 1
    say("restoring the database …")
    if settings.is_sqlite:
        target = settings.sqlite_path
        assert target is not None  # checked empty above
        _copy(src / SQLITE_COPY, target)
    else:
        _pg_restore(settings, src / PG_DUMP)
    return RestoreReport(files, str(manifest["database"]), key_from_backup)


def _check_store(settings: Settings, manifest: dict[str, Any]) -> None:
    """A backup of a ``file://`` store goes into the (empty) store of ``PROBITY_BUSINESS_STORE``."""
    store = manifest.get("business_store") or {}
    if not store.get("copied"):
        return
    root = _store_root(settings)
    if root is None:
        raise BackupRefused(
            f"the backup holds the shared business store of {store['url']}: set PROBITY_BUSINESS_STORE "
            "to an empty file:/// directory and restore again"
        )
    if root.exists() and any(root.iterdir()):
        raise BackupRefused(f"the business store {root} is not empty: restore into an empty one")


def _check_empty(settings: Settings) -> None:
    if settings.data_dir.exists():
        shared = _store_root(settings)
        present = [
            p.name
            for p in settings.data_dir.iterdir()
            if p.name != KEY_FILE_NAME
            and not (shared is not None and shared.is_relative_to(p) and not any(_files(p)))
        ]
        if present:
            raise BackupRefused(
                f"the data directory {settings.data_dir} is not empty ({', '.join(sorted(present)[:5])}): "
                "restore into an empty one"
            )
    if settings.is_sqlite:
        target = settings.sqlite_path
        if target is None:
            raise BackupRefused(
                "PROBITY_DATABASE_URL names an in-memory SQLite database: nothing to restore into"
            )
        if target.exists() and target.stat().st_size > 0:
            raise BackupRefused(f"the database {target} already exists: restore into a new one")
    elif _pg_has_tables(settings):
        raise BackupRefused(
            "the PostgreSQL database of PROBITY_DATABASE_URL is not empty: restore into a new one"
        )


def _pg_has_tables(settings: Settings) -> bool:
    found = _pg_run(
        settings,
        "psql",
        "--no-psqlrc",
        "--tuples-only",
        "--no-align",
        f"--command={PG_TABLES}",
        failing="the PostgreSQL database cannot be read",
    )
    return int(found.strip() or 0) > 0


def _pg_restore(settings: Settings, dump: Path) -> None:
    database = f"--dbname={make_url(settings.database_url).database}"
    options = ("--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", database)
    _pg_run(settings, "pg_restore", *options, str(dump), failing="pg_restore failed")
