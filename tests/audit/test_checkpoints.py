"""A trail that cannot be cut: signed checkpoints outside the database catch a cut of the newest
records (with the chain head rewound), a wiped trail, and a rewrite; purges leave a checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

from backend.audit.checkpoints import checkpoint_path
from backend.audit.reads import ReadJournal
from backend.audit.service import AuditTrail, Entry
from backend.kernel.access import Actor
from backend.kernel.timeutil import utcnow
from tests.audit.test_chain import tamper
from tests.conftest import TEST_SECRET, cli_env


def run_cli(*args, secret=TEST_SECRET, cwd=None, **values):
    """``probity ARGS`` in a new process with these PROBITY_* values (and this secret key, if any)."""
    env = cli_env(**values)
    env.pop("PROBITY_SECRET_KEY", None)
    if secret is not None:
        env["PROBITY_SECRET_KEY"] = secret
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def probity(settings, *args, secret=TEST_SECRET):
    """``probity ARGS`` on the database and data directory of ``settings``."""
    return run_cli(
        *args,
        secret=secret,
        PROBITY_DATABASE_URL=settings.database_url,
        PROBITY_DATA_DIR=str(settings.data_dir),
    )


async def head(db):
    async with db.session() as session:
        from backend.audit.checkpoints import committed_head

        found = await committed_head(session)
    assert found is not None
    return found


async def hash_at(db, seq):
    from sqlalchemy import text

    async with db.session() as session:
        return (await session.execute(text(f"SELECT hash FROM audit_record WHERE seq = {seq}"))).scalar_one()


async def cut(settings, db, keep):
    """Delete the records after ``keep`` and rewind the chain head to it: a whole, shorter chain."""
    digest = await hash_at(db, keep)
    await tamper(
        settings,
        f"DELETE FROM audit_record WHERE seq > {keep}",
        f"UPDATE audit_chain SET seq = {keep}, last_hash = '{digest}'",
    )


async def test_an_untouched_trail_verifies_against_its_checkpoints(settings, db):
    first = probity(settings, "audit", "verify")
    assert first.returncode == 0, first.stderr
    seq, digest = await head(db)
    lines = checkpoint_path(settings.data_dir).read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == seq and json.loads(lines[-1])["hash"] == digest
    again = probity(settings, "audit", "verify")
    assert again.returncode == 0, again.stderr
    assert "chain intact" in again.stdout and "checkpoint(s) agree" in again.stdout


async def test_deleting_the_newest_records_and_rewinding_the_head_is_caught(settings, db):
    assert probity(settings, "audit", "verify").returncode == 0  # checkpoints the head
    seq, _ = await head(db)
    assert seq > 20
    await cut(settings, db, seq - 20)
    result = probity(settings, "audit", "verify")
    assert result.returncode == 1
    assert f"records {seq - 19}–{seq} are missing; the trail was cut after record {seq - 20}" in result.stderr


async def test_a_wiped_trail_is_caught(settings, db):
    assert probity(settings, "audit", "verify").returncode == 0
    seq, _ = await head(db)
    await tamper(settings, "DELETE FROM audit_record", "DELETE FROM audit_chain")
    result = probity(settings, "audit", "verify")
    assert result.returncode == 1
    assert f"records 1–{seq} are missing; the trail was wiped" in result.stderr


async def test_the_running_app_checkpoints_the_head_after_flushes(settings, db):
    """No CLI call: the head the app reached is checkpointed by the trail-of-reads task."""
    trail = AuditTrail(TEST_SECRET)
    journal = ReadJournal(db, trail, settings.read_trail_seconds)
    async with db.session() as session:
        await trail.record_many(session, [Entry(Actor.system(), "test.act", "thing", i) for i in range(5)])
        await session.commit()
    written = await journal.checkpointer.maybe(db)
    seq, _ = await head(db)
    assert written is not None and written.seq == seq
    assert await journal.checkpointer.maybe(db, force=True) is None  # the head did not move
    await cut(settings, db, seq - 3)
    result = probity(settings, "audit", "verify")
    assert result.returncode == 1 and f"records {seq - 2}–{seq} are missing" in result.stderr


async def test_a_witness_copy_of_the_head_catches_a_cut_the_checkpoint_file_lost(settings, db):
    printed = probity(settings, "audit", "head")
    assert printed.returncode == 0, printed.stderr
    line = printed.stdout.strip()
    seq, digest = await head(db)
    assert line.startswith(f"probity-audit-head/v1 seq={seq} hash={digest} at=") and " sig=" in line
    assert probity(settings, "audit", "verify", "--head", line).returncode == 0
    await cut(settings, db, seq - 2)
    checkpoint_path(settings.data_dir).unlink()  # someone with file access removed the checkpoints too
    assert probity(settings, "audit", "verify").returncode == 0  # nothing left here to tell
    result = probity(settings, "audit", "verify", "--head", line)
    assert result.returncode == 1 and f"the trail was cut after record {seq - 2}" in result.stderr
    forged = line.replace(f"seq={seq}", f"seq={seq - 2}")
    result = probity(settings, "audit", "verify", "--head", forged)
    assert result.returncode == 1 and "not signed with this secret key" in result.stderr


async def test_an_edited_checkpoint_file_is_caught(settings):
    assert probity(settings, "audit", "verify").returncode == 0
    path = checkpoint_path(settings.data_dir)
    raw = json.loads(path.read_text().splitlines()[-1])
    raw["seq"] -= 5
    path.write_text(json.dumps(raw) + "\n")
    result = probity(settings, "audit", "verify")
    assert result.returncode == 1 and "line 1 is not signed with this secret key" in result.stderr


async def old_trail(settings, db, old, new):
    """A trail of ``old`` records made 400 days ago followed by ``new`` records made now."""
    await tamper(settings, "DELETE FROM audit_record", "DELETE FROM audit_chain")
    trail = AuditTrail(TEST_SECRET)
    then = utcnow() - timedelta(days=400)
    async with db.session() as session:
        await trail.record_many(
            session, [Entry(Actor.system(), "old.act", "thing", i, at=then) for i in range(old)]
        )
        await trail.record_many(session, [Entry(Actor.system(), "new.act", "thing", i) for i in range(new)])
        await session.commit()


async def test_a_purge_keeps_the_trail_verifiable_and_a_later_cut_caught(settings, db):
    await old_trail(settings, db, 30, 10)
    assert probity(settings, "audit", "verify").returncode == 0
    day = (utcnow() - timedelta(days=200)).strftime("%Y-%m-%d")
    purged = probity(settings, "audit", "purge", "--before", day)
    assert purged.returncode == 0, purged.stderr
    assert "purged records 1–30" in purged.stdout
    result = probity(settings, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "11 records, chain intact, records 1–30 purged" in result.stdout  # 10 and the purge's own
    purge = [json.loads(x) for x in checkpoint_path(settings.data_dir).read_text().splitlines()]
    assert {"kind": "purge", "first": 1, "seq": 30}.items() <= purge[-2].items()
    seq, _ = await head(db)
    await cut(settings, db, seq - 4)
    result = probity(settings, "audit", "verify")
    assert result.returncode == 1 and f"the trail was cut after record {seq - 4}" in result.stderr


async def test_a_purge_is_refused_inside_184_days_and_records_deleted_by_hand_are_not_a_purge(settings, db):
    await old_trail(settings, db, 5, 5)
    recent = (utcnow() - timedelta(days=100)).strftime("%Y-%m-%d")
    refused = probity(settings, "audit", "purge", "--before", recent)
    assert refused.returncode != 0 and "kept at least 184 days" in refused.stderr
    await tamper(settings, "DELETE FROM audit_record WHERE seq <= 5")
    result = probity(settings, "audit", "verify")
    assert result.returncode == 1
    assert "records 1–5 are missing: deleted behind the application's back (no purge" in result.stderr


async def test_a_line_cut_short_by_a_crash_neither_fails_verify_nor_swallows_the_next(settings, db):
    assert probity(settings, "audit", "verify").returncode == 0
    path = checkpoint_path(settings.data_dir)
    with path.open("a") as handle:
        handle.write('{"kind": "head", "seq": 9')  # the crash: no end of line
    async with db.session() as session:
        await AuditTrail(TEST_SECRET).record(session, Actor.system(), action="test.act", object_type="thing")
        await session.commit()
    assert probity(settings, "audit", "verify").returncode == 0  # and a checkpoint of the new head
    seq, _ = await head(db)
    assert json.loads(path.read_text().splitlines()[-1])["seq"] == seq
    await cut(settings, db, seq - 1)
    result = probity(settings, "audit", "verify")
    assert result.returncode == 1 and f"record seq {seq}: missing" in result.stderr
