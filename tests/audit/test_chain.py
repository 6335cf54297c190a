"""The trail is append-only: editing, deleting or inserting records behind the app's back is caught."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import TEST_SECRET, cli_env


def verify(settings, secret=TEST_SECRET):
    env = cli_env(
        **{
            "PROBITY_DATABASE_URL": settings.database_url,
            "PROBITY_SECRET_KEY": secret,
            "PROBITY_DATA_DIR": str(settings.data_dir),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def tamper(settings, *statements):
    """Change the database directly, as someone with file or superuser access would."""
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[1]
        with sqlite3.connect(path) as conn:
            for statement in statements:
                conn.execute(statement)
        return
    import asyncpg

    conn = await asyncpg.connect(settings.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_an_untouched_trail_verifies(settings):
    result = verify(settings)
    assert result.returncode == 0, result.stderr
    assert "chain intact" in result.stdout


async def test_an_edited_record_is_named(settings):
    await tamper(settings, 'UPDATE audit_record SET new_value = \'{"name": "someone else"}\' WHERE seq = 10')
    result = verify(settings)
    assert result.returncode == 1
    assert "record seq 10 " in result.stderr and "edited" in result.stderr


async def test_an_edited_actor_is_named(settings):
    await tamper(settings, "UPDATE audit_record SET actor_label = 'nobody' WHERE seq = 3")
    result = verify(settings)
    assert result.returncode == 1 and "record seq 3 " in result.stderr


async def test_a_deleted_record_is_named(settings):
    await tamper(settings, "DELETE FROM audit_record WHERE seq = 20")
    result = verify(settings)
    assert result.returncode == 1
    assert "record seq 20: missing" in result.stderr


async def test_deleting_the_newest_records_is_caught(settings):
    await tamper(settings, "DELETE FROM audit_record WHERE seq = (SELECT MAX(seq) FROM audit_record)")
    result = verify(settings)
    assert result.returncode == 1 and "deleted" in result.stderr


async def test_an_inserted_record_is_named(settings):
    await tamper(
        settings,
        "INSERT INTO audit_record (seq, at, channel, object_type, object_id, action, prev_hash, hash) "
        "SELECT MAX(seq) + 1, MAX(at), 'api', 'person', '1', 'person.update', "
        "(SELECT hash FROM audit_record WHERE seq = (SELECT MAX(seq) FROM audit_record)), "
        "'0000000000000000000000000000000000000000000000000000000000000000' FROM audit_record",
        "UPDATE audit_chain SET seq = seq + 1",
    )
    result = verify(settings)
    assert result.returncode == 1
    assert "person.update on person 1" in result.stderr and "edited" in result.stderr


async def test_the_key_matters(settings):
    result = verify(settings, secret="another-secret-key-that-is-long-enough-for-this")
    assert result.returncode == 1 and "record seq 1 " in result.stderr


@pytest.mark.parametrize("channel", ["pwa", "api"])
async def test_records_carry_who_what_channel_and_request_id(client, sessions, channel):
    headers = {**await sessions.headers("admin"), "X-Request-ID": "req-123", "X-Probity-Channel": channel}
    response = await client.post(
        "/api/posts", json={"code": "AU1", "name": "审计岗", "risk_value": 10}, headers=headers
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "req-123"
    trail = await client.get(
        "/api/audit",
        params={"object_type": "post", "object_id": str(response.json()["id"])},
        headers=await sessions.headers("committee"),
    )
    [record] = trail.json()["items"]
    assert record["action"] == "post.create" and record["channel"] == channel
    assert record["request_id"] == "req-123" and record["actor_label"] == "admin"
    assert record["actor_post"] == "系统管理员" and record["new_value"]["risk_value"] == 10
    assert record["at"].endswith("+08:00")


async def test_inspectors_read_the_trail_of_their_subtree_only(client, sessions):
    # the head of C01-S1 changes their password (an act inside C01); manager2 (C02) does too
    for user in ("head", "manager2"):
        response = await client.post(
            "/api/auth/password",
            json={"current_password": "demo", "new_password": "Changed-pass-1"},
            headers=await sessions.headers(user),
        )
        assert response.status_code == 204
    seen = await client.get(
        "/api/audit",
        params={"object_type": "account", "limit": 500},
        headers=await sessions.headers("inspector"),
    )
    labels = {r["actor_label"] for r in seen.json()["items"]}
    assert "head" in labels and "manager2" not in labels
    everything = await client.get(
        "/api/audit",
        params={"object_type": "account", "limit": 500},
        headers=await sessions.headers("committee"),
    )
    assert {"head", "manager2"} <= {r["actor_label"] for r in everything.json()["items"]}
