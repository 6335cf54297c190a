"""Backup of a running instance and restore into an empty one; the refusals that protect it."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text

from backend.audit.service import AuditTrail
from backend.backup.service import BackupRefused, backup, restore
from backend.kernel.access import Actor
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.warnings.photos import PhotoStore
from tests.audit.test_checkpoints import probity
from tests.conftest import PG_URL, TEST_SECRET, _pg_admin_url, _pg_exec, make_settings

_names = itertools.count()
AUDIT_TABLES = {"audit_record", "audit_chain"}


@pytest.fixture
async def empty_target(tmp_path: Path) -> AsyncIterator[Settings]:
    """Settings of a new deployment: an empty data directory and an empty database."""
    if PG_URL:
        name = f"probity_restore_{os.getpid()}_{next(_names)}"
        await _pg_exec(PG_URL, f'CREATE DATABASE "{name}"')
        yield make_settings(tmp_path / "target", _pg_admin_url(PG_URL, name))
        await _pg_exec(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield make_settings(tmp_path / "target", f"sqlite+aiosqlite:///{tmp_path}/target/probity.db")


async def row_counts(settings: Settings) -> dict[str, int]:
    db = Database(settings)
    try:
        async with db.session() as session:
            if settings.is_sqlite:
                names = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            else:
                names = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            tables = [r[0] for r in (await session.execute(text(names))).all()]
            return {
                t: (await session.execute(text(f'SELECT count(*) FROM "{t}"'))).scalar_one() for t in tables
            }
    finally:
        await db.dispose()


def photo_hashes(data_dir: Path) -> dict[str, str]:
    root = data_dir / "photos"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


async def test_a_busy_instance_is_backed_up_and_restored_whole(settings, db, empty_target, tmp_path):
    photos = PhotoStore(settings.data_dir)
    kept_photos = {photos.put(os.urandom(2000)) for _ in range(3)}
    business = duckdb.connect(str(settings.duckdb_path))  # held open, as `probity serve` holds it
    business.execute("CREATE TABLE readings (batch INTEGER, i INTEGER)")
    business.execute("INSERT INTO readings SELECT 0, range FROM range(10)")
    trail = AuditTrail(TEST_SECRET)
    async with db.session() as session:
        trail_before = (await session.execute(text("SELECT count(*) FROM audit_record"))).scalar_one()
    stop = asyncio.Event()
    writing = asyncio.Event()

    async def writer() -> int:
        """Acts, photos and business rows written all through the backup."""
        n = 0
        while not stop.is_set():
            n += 1
            async with db.session() as session:
                await trail.record(
                    session, Actor.system(), action="test.busy", object_type="thing", object_id=n
                )
                await session.commit()
            photos.put(f"photo {n}".encode())
            if n % 5 == 0:
                business.execute(f"INSERT INTO readings SELECT {n}, range FROM range(10)")
            writing.set()
            await asyncio.sleep(0)
        return n

    task = asyncio.create_task(writer())
    await writing.wait()
    report = await asyncio.to_thread(backup, settings, tmp_path / "backup")
    stop.set()
    written = await task
    business.close()
    assert written > 1

    restored = await asyncio.to_thread(restore, empty_target, tmp_path / "backup")
    assert restored.files >= 5
    source, copy = await row_counts(settings), await row_counts(empty_target)
    assert {t: n for t, n in copy.items() if t not in AUDIT_TABLES} == {
        t: n for t, n in source.items() if t not in AUDIT_TABLES
    }
    assert trail_before < copy["audit_record"] <= source["audit_record"]  # a moment during the writes
    if report.tables is not None:
        assert copy == report.tables  # the counts of the moment the backup was made
    restored_photos, source_photos = photo_hashes(empty_target.data_dir), photo_hashes(settings.data_dir)
    assert all(name == digest == source_photos[name] for name, digest in restored_photos.items())
    assert kept_photos <= set(restored_photos)
    with duckdb.connect(str(empty_target.duckdb_path), read_only=True) as restored_store:
        found = restored_store.execute("SELECT count(*), count(DISTINCT batch) FROM readings").fetchone()
    assert found is not None
    rows, batches = found
    assert rows == batches * 10  # whole inserts only: one moment of the store
    verified = probity(empty_target, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "chain intact" in verified.stdout


async def test_restore_refuses_a_data_directory_that_is_not_empty(settings, empty_target, tmp_path):
    await asyncio.to_thread(backup, settings, tmp_path / "backup")
    (empty_target.data_dir / "photos").mkdir()
    with pytest.raises(BackupRefused, match="is not empty"):
        restore(empty_target, tmp_path / "backup")


async def test_restore_refuses_another_secret_key(settings, empty_target, tmp_path):
    await asyncio.to_thread(backup, settings, tmp_path / "backup")
    other = make_settings(
        tmp_path / "target", empty_target.database_url, secret_key="another-secret-key-long-enough-0123456789"
    )
    with pytest.raises(BackupRefused, match="made with another secret key"):
        restore(other, tmp_path / "backup")
    assert not any(other.data_dir.iterdir())


async def test_restore_refuses_a_tampered_file_or_manifest(settings, empty_target, tmp_path):
    PhotoStore(settings.data_dir).put(b"\xff\xd8\xff a photo")
    backed = tmp_path / "backup"
    await asyncio.to_thread(backup, settings, backed)
    photo = next((backed / "data" / "photos").rglob("*"))
    while photo.is_dir():
        photo = next(photo.iterdir())
    photo.write_bytes(b"\xff\xd8\xff another photo")
    with pytest.raises(BackupRefused, match="does not match its hash"):
        restore(empty_target, backed)
    manifest = json.loads((backed / "manifest.json").read_text())
    name = f"data/{photo.relative_to(backed / 'data').as_posix()}"
    manifest["files"][name]["sha256"] = hashlib.sha256(photo.read_bytes()).hexdigest()
    (backed / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupRefused, match="signature does not match"):
        restore(empty_target, backed)
    assert not any(empty_target.data_dir.iterdir())


async def test_backup_refuses_a_directory_that_is_not_empty(settings, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old").write_text("x")
    with pytest.raises(BackupRefused, match="not an empty directory"):
        backup(settings, tmp_path / "backup")


async def test_the_key_file_travels_only_when_asked_and_a_restore_takes_it(settings, tmp_path):
    """Without PROBITY_SECRET_KEY: the key made in the data directory is left out unless
    --include-secret-key; restoring such a backup on a new machine takes the key from it."""
    base = tmp_path / "keyed"
    if PG_URL:
        source = f"{PG_URL.rsplit('/', 1)[0]}/probity_keyed_{os.getpid()}_{next(_names)}"
        target = f"{PG_URL.rsplit('/', 1)[0]}/probity_keyed_{os.getpid()}_{next(_names)}"
        for url in (source, target):
            await _pg_exec(PG_URL, f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    else:
        source, target = f"sqlite+aiosqlite:///{base}/a.db", f"sqlite+aiosqlite:///{base}/b.db"
    first = make_settings(base / "a", source, secret_key="")
    second = make_settings(base / "b", target, secret_key="")
    second.secret_key_file.unlink()  # a new machine: nothing there yet
    try:
        assert probity(first, "db", "upgrade", secret=None).returncode == 0
        assert probity(first, "audit", "verify", secret=None).returncode == 0
        plain = probity(first, "backup", str(base / "plain"), secret=None)
        assert plain.returncode == 0, plain.stderr
        assert not (base / "plain" / "data" / "secret.key").exists()
        assert "not in the backup" in plain.stderr
        refused = probity(second, "restore", str(base / "plain"), secret=None)
        assert refused.returncode != 0 and "another secret key" in refused.stderr
        assert not second.secret_key_file.exists()
        keyed = probity(first, "backup", str(base / "keyed"), "--include-secret-key", secret=None)
        assert keyed.returncode == 0, keyed.stderr
        done = probity(second, "restore", str(base / "keyed"), secret=None)
        assert done.returncode == 0, done.stderr
        assert second.secret_key_file.read_text() == first.secret_key_file.read_text()
        verified = probity(second, "audit", "verify", secret=None)
        assert verified.returncode == 0, verified.stderr
    finally:
        if PG_URL:
            for url in (source, target):
                await _pg_exec(PG_URL, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_the_sqlite_copy_is_a_database(tmp_path, settings):
    if not settings.is_sqlite:
        pytest.skip("SQLite only")
    backup(settings, tmp_path / "backup")
    with sqlite3.connect(tmp_path / "backup" / "database" / "probity.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_the_business_store_copy_is_of_one_moment_when_it_changes_while_copied(
    settings, empty_target, tmp_path, monkeypatch
):
    """The store is written (and checkpointed) between the copy of its file and of its log: the
    pair would be of two moments; the copy is made again."""
    import backend.backup.service as service

    business = duckdb.connect(str(settings.duckdb_path))
    business.execute("SET checkpoint_threshold = '1GB'")  # the log is folded in only when told
    business.execute("CREATE TABLE readings (batch INTEGER, i INTEGER)")
    business.execute("CHECKPOINT")
    business.execute("INSERT INTO readings SELECT 1, range FROM range(10)")
    copy = service._copy
    meddled: list[Path] = []

    def copy_and_meddle(src: Path, dst: Path) -> str:
        digest = copy(src, dst)
        if src == settings.duckdb_path and not meddled:  # the database file copied, its log not yet
            meddled.append(src)
            business.execute("INSERT INTO readings SELECT 2, range FROM range(10)")
            business.execute("CHECKPOINT")  # batches 1 and 2 into the file, the log emptied
            business.execute("INSERT INTO readings SELECT 3, range FROM range(10)")
        return digest

    monkeypatch.setattr(service, "_copy", copy_and_meddle)
    try:
        backup(settings, tmp_path / "backup")
    finally:
        business.close()
    assert meddled
    restore(empty_target, tmp_path / "backup")
    with duckdb.connect(str(empty_target.duckdb_path), read_only=True) as restored_store:
        batches = restored_store.execute("SELECT DISTINCT batch FROM readings ORDER BY batch").fetchall()
    assert batches == [(1,), (2,), (3,)]
