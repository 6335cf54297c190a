"""`probity demo` on an empty data directory, twice: the second run changes nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from tests.conftest import TEST_SECRET, cli_env


def probity(tmp_path, *args):
    env = cli_env(
        **{
            "PROBITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/probity.db",
            "PROBITY_DATA_DIR": str(tmp_path / "data"),
            "PROBITY_SECRET_KEY": TEST_SECRET,
            "PROBITY_PASSWORD_HASH_MEMORY_KIB": "64",
            "PROBITY_PASSWORD_HASH_TIME_COST": "1",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def snapshot(path):
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_demo_twice_changes_nothing_the_second_time(tmp_path):
    first = probity(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    assert "units +14" in first.stdout and "people +60" in first.stdout and "accounts +60" in first.stdout
    assert "people 60/60" in first.stderr  # progress is shown
    with sqlite3.connect(tmp_path / "probity.db") as conn:
        pending, written = conn.execute("SELECT sum(seq IS NULL), count(*) FROM audit_record").fetchone()
    assert written > 0 and pending == 0  # the command chained what it wrote, with no server running
    before = snapshot(tmp_path / "probity.db")
    second = probity(tmp_path, "demo")
    assert second.returncode == 0, second.stderr
    assert "people +0" in second.stdout and "accounts +0" in second.stdout
    assert snapshot(tmp_path / "probity.db") == before
    verify = probity(tmp_path, "audit", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout

    with sqlite3.connect(tmp_path / "probity.db") as conn:
        kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM unit GROUP BY kind").fetchall())
        names = [r[0] for r in conn.execute("SELECT name FROM person")]
        usernames = {r[0] for r in conn.execute("SELECT username FROM account")}
    assert kinds["company"] == 1 and kinds["county"] == 2 and kinds["station"] + kinds["department"] >= 6
    assert len(names) == len(set(names)) == 60
    assert all(2 <= len(n) <= 3 and "\u4e00" <= n[0] <= "\u9fff" for n in names)
    assert {"admin", "committee", "inspector", "head", "manager", "manager2"} <= usernames


def test_db_upgrade_reports_revisions(tmp_path):
    result = probity(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "empty →" in result.stdout
    again = probity(tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "empty" not in again.stdout


def test_help_explains_every_command(tmp_path):
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["demo", "--help"],
        ["db", "upgrade", "--help"],
        ["audit", "verify", "--help"],
    ):
        result = probity(tmp_path, *args)
        assert result.returncode == 0 and "Usage:" in result.stdout
    assert "migrat" in probity(tmp_path, "serve", "--help").stdout


def test_serve_answers_after_demo(tmp_path):
    import json
    import socket
    import time
    import urllib.request

    assert probity(tmp_path, "demo").returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(
        **{
            "PROBITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/probity.db",
            "PROBITY_DATA_DIR": str(tmp_path / "data"),
            "PROBITY_SECRET_KEY": TEST_SECRET,
        }
    )
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                    assert json.load(response)["status"] == "ok"
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(
                f"probity serve did not answer /healthz: {(tmp_path / 'serve.log').read_text()}"
            )
        request = urllib.request.Request(
            f"{base}/api/auth/login",
            method="POST",
            data=json.dumps({"username": "manager", "password": "demo"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["token_type"] == "bearer"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
