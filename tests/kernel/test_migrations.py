from __future__ import annotations

import json
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from backend.kernel.db import Database, all_metadata, head_revision
from tests.conftest import PG_URL, ci_requires, cli_env, make_settings


def _diff(conn):
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(context, all_metadata())


async def test_migrations_build_exactly_the_models(db):
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
    assert await db.is_up_to_date()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db, settings):
    if not settings.is_sqlite:
        return
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == settings.sqlite_busy_timeout_ms
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_upgrade_from_empty_on_postgresql(tmp_path):
    """The migrations themselves on a real PostgreSQL server (its own fresh database)."""
    url = PG_URL or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    import asyncpg

    try:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        ci_requires(f"PostgreSQL is not reachable at {url}: {exc}")
        return
    name = f"probity_mig_{os.getpid()}"
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
        database = Database(make_settings(tmp_path, url.rsplit("/", 1)[0] + "/" + name))
        try:
            assert await database.current_revision() is None
            await database.upgrade()
            assert await database.current_revision() == head_revision()
            async with database.engine.connect() as c:
                assert await c.run_sync(_diff) == []
        finally:
            await database.dispose()
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def test_serve_refuses_an_unmigrated_database(tmp_path):
    env = cli_env(
        **{
            "PROBITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/empty.db",
            "PROBITY_DATA_DIR": str(tmp_path),
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "probity db upgrade" in result.stderr and "empty" in result.stderr


async def test_saved_preferences_holding_the_old_default_order_follow_their_unit(tmp_path):
    """Before 0006a every saved preference held the whole default order; after it, such a row means
    "my unit's order" (empty), and an order a person chose is kept."""
    database = Database(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"))
    default = '["webpush", "telegram", "wecom", "dingtalk", "feishu", "email", "sms"]'
    chosen = '["telegram", "webpush", "wecom", "dingtalk", "feishu", "email", "sms"]'
    try:
        await database.upgrade("0006")
        async with database.engine.begin() as conn:
            await conn.execute(text("PRAGMA foreign_keys=OFF"))  # no people needed for the rows
            for person_id, order in ((1, default), (2, chosen)):
                await conn.execute(
                    text(
                        "INSERT INTO delivery_preference (person_id, channel_order, updated_at) "
                        "VALUES (:p, :o, '2026-11-01 00:00:00.000000')"
                    ),
                    {"p": person_id, "o": order},
                )
        await database.upgrade()
        async with database.engine.connect() as conn:
            rows = dict(
                (await conn.execute(text("SELECT person_id, channel_order FROM delivery_preference"))).all()
            )
        assert json.loads(rows[1]) == [] and json.loads(rows[2]) == json.loads(chosen)
    finally:
        await database.dispose()
