"""Backup and restore of the shared Parquet business store (``PROBITY_BUSINESS_STORE=file:///…``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from backend.backup.service import BackupRefused, backup, restore
from backend.engine.models import RuleRun
from backend.engine.service import EngineService
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from tests.backup.test_backup import empty_target  # noqa: F401 - the fixture
from tests.data.factories import ACTOR
from tests.engine.helpers import trail, zero_usage_topic


def on_store(settings: Settings, root: Path) -> Settings:
    return settings.model_copy(update={"business_store": root.as_uri()})


async def run_topic(settings: Settings) -> RuleRun:
    db = Database(settings)
    try:
        async with db.session() as session:
            [run] = await EngineService(session, trail(), settings).run_codes(["MK-ZERO"], ACTOR)
        return run
    finally:
        await db.dispose()


async def test_a_file_store_is_backed_up_and_a_restored_one_gives_the_same_hits(
    settings,
    db,
    empty_target,  # noqa: F811
    tmp_path,
):
    source = on_store(settings, tmp_path / "shared")
    await zero_usage_topic(db, source, tmp_path)
    first = await run_topic(source)
    assert (first.status, first.hits_high, first.hits_medium, first.hits_low) == ("done", 2, 1, 1)

    report = await asyncio.to_thread(backup, source, tmp_path / "backup")
    manifest = json.loads((report.dest / "manifest.json").read_text())
    assert manifest["business_store"] == {
        "url": source.business_store,
        "copied": True,
        "tables": {"readings": 20},
    }
    assert "business/readings/_manifest.json" in manifest["files"]

    with pytest.raises(BackupRefused, match="PROBITY_BUSINESS_STORE"):  # nowhere to put the store
        await asyncio.to_thread(restore, empty_target, tmp_path / "backup")
    target = on_store(empty_target, tmp_path / "restored store")
    await asyncio.to_thread(restore, target, tmp_path / "backup")
    again = await run_topic(target)
    assert again.status == "done", again.error
    counted = ("rows_scanned", "hits_high", "hits_medium", "hits_low", "hits_none", "unassigned")
    assert [getattr(again, c) for c in counted] == [getattr(first, c) for c in counted]
    assert (again.warnings_created, again.warnings_updated) == (0, 3)  # the same warnings hit again


async def test_an_s3_store_is_named_in_the_manifest_not_copied(settings, tmp_path):
    report = await asyncio.to_thread(
        backup, settings.model_copy(update={"business_store": "s3://bucket/probity"}), tmp_path / "backup"
    )
    manifest = json.loads((report.dest / "manifest.json").read_text())
    assert manifest["business_store"] == {"url": "s3://bucket/probity", "copied": False}
    assert not any(name.startswith("business/") for name in manifest["files"])
