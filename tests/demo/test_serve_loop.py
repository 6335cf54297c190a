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
