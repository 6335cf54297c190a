"""`probity serve --processes 2`: two HTTP processes answer on one port (the second of role api);
their writes to one SQLite file take turns (none fails "database is locked"); a helper that is
killed comes back; Ctrl-C ends them all cleanly (no traceback, nothing left running)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import PG_URL, TEST_SECRET

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="one SQLite file shared by two processes")

PROBITY = Path(sys.executable).parent / "probity"


def _helpers(pid: int) -> list[int]:
    """The server's helper HTTP processes."""
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # a child belongs to the thread that started it
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    found = []
    for kid in kids:
        try:
            cmd = Path(f"/proc/{kid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"http_helper_main" in cmd:
            found.append(kid)
    return found


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _until(check, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _post(base: str, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_two_http_processes_share_the_port_and_their_writes_take_turns(tmp_path):
    if not PROBITY.exists():
        pytest.skip("the probity command is not installed")
    env = {
        **os.environ,
        "PROBITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/probity.db",
        "PROBITY_DATA_DIR": str(tmp_path / "data"),
        "PROBITY_SECRET_KEY": TEST_SECRET,
        "PROBITY_LOG_LEVEL": "WARNING",
        # a short busy timeout: without turns between the processes, writers would fail
        "PROBITY_SQLITE_BUSY_TIMEOUT_MS": "50",
    }
    subprocess.run([str(PROBITY), "demo"], env=env, check=True, capture_output=True, timeout=300)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        [str(PROBITY), "serve", "--port", str(port), "--processes", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,  # a process group of its own, as a terminal's
    )
    try:
        assert _until(lambda: _healthy(base), 90), log.read_text()
        assert _until(lambda: len(_helpers(server.pid)) == 1, 30), "no helper HTTP process"
        (helper,) = _helpers(server.pid)
        before = _cpu(helper)

        # sign-ins write (a session, the failure count reset): 60 at once over both processes
        def sign_in(n: int) -> int:
            name = ("manager", "manager2", "head")[n % 3]
            return _post(base, "/api/auth/login", {"username": name, "password": "demo"})[0]

        with ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(sign_in, range(60)))
        assert answers == [200] * 60
        assert _cpu(helper) > before, "the helper answered nothing"

        # a helper that dies is started again; the port keeps answering meanwhile
        os.kill(helper, signal.SIGKILL)
        assert _until(lambda: _helpers(server.pid) not in ([], [helper]), 30), "the helper was not restarted"
        assert _healthy(base)
        (again,) = _helpers(server.pid)
        assert _post(base, "/api/auth/login", {"username": "manager", "password": "demo"})[0] == 200
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C: the terminal's process group is told
        server.wait(60)
    assert server.returncode == 0, log.read_text()
    assert _until(lambda: not Path(f"/proc/{again}").exists(), 30), "a helper outlived the server"
    text = log.read_text()
    assert "database is locked" not in text and "Traceback" not in text, text
