"""`probity serve` runs on the event loop the settings name (asyncio unless PROBITY_SERVER_LOOP says
otherwise): under full load uvloop admitted new connections one per loop pass (README, inbox
performance), so a phone connecting to a busy server waited hundreds of milliseconds."""

from __future__ import annotations

import pytest
import uvicorn
from click.testing import CliRunner

from backend.cli import main
from tests.conftest import TEST_SECRET


@pytest.mark.parametrize(("configured", "expected"), [(None, "asyncio"), ("uvloop", "uvloop")])
def test_serve_runs_on_the_configured_loop(tmp_path, monkeypatch, configured, expected):
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    monkeypatch.setenv("PROBITY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/probity.db")
    monkeypatch.setenv("PROBITY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PROBITY_SECRET_KEY", TEST_SECRET)
    if configured:
        monkeypatch.setenv("PROBITY_SERVER_LOOP", configured)
    else:
        monkeypatch.delenv("PROBITY_SERVER_LOOP", raising=False)
    result = CliRunner().invoke(main, ["serve", "--migrate", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert [(o["port"], o["loop"]) for o in started] == [(8123, expected)]


def test_an_unknown_loop_is_refused_before_serving(tmp_path, monkeypatch):
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    monkeypatch.setenv("PROBITY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/probity.db")
    monkeypatch.setenv("PROBITY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PROBITY_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("PROBITY_SERVER_LOOP", "trio")
    result = CliRunner().invoke(main, ["serve", "--migrate"])
    assert result.exit_code != 0
    assert "server_loop" in result.output
    assert started == []


def test_an_idle_kept_alive_connection_outlives_a_clients_pause(tmp_path):
    """A phone (or the load benchmark's client) that pauses 6 s between two requests sends the
    second on the connection it kept: the server must not close that connection first (uvicorn's
    own default closes it after 5 s; a request sent just then failed on the client)."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    probity = Path(sys.executable).parent / "probity"
    if not probity.exists():
        pytest.skip("the probity command is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PROBITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/probity.db",
        "PROBITY_DATA_DIR": str(tmp_path / "data"),
        "PROBITY_SECRET_KEY": TEST_SECRET,
        "PROBITY_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(probity), "serve", "--migrate", "--role", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn:
            conn.sendall(request)
            assert _whole_answer(conn).startswith(b"HTTP/1.1 200")
            time.sleep(6)
            conn.sendall(request)
            assert _whole_answer(conn).startswith(b"HTTP/1.1 200")
    finally:
        server.terminate()
        server.wait(30)


def _whole_answer(conn) -> bytes:
    """One whole HTTP answer (its head and its Content-Length of body, however the server split
    them into writes), so that nothing of it is left to be read as the next answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data  # closed: no (whole) answer
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
