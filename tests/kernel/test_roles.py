"""``probity serve --role``: each role starts its parts and no others, with the hooks composed.

Roles are started in-process through what the CLI calls (``backend.roles``); the bot talks to the
fake Bot API of ``tests/bot``."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from backend import roles
from backend.app import create_app
from backend.kernel.hooks import REGISTRY
from backend.kernel.settings import Settings
from tests.bot.fakebot import ThreadedBotApi
from tests.bot.test_runtime import served, telegram

__all__ = ["served", "telegram"]  # the fake Bot API and the settings that reach it, shared fixtures


@pytest.fixture
def busy(served: Settings) -> Settings:
    """Settings under which every part would run: workers on, a bot (long polling)."""
    return served.model_copy(
        update={"workers_enabled": True, "telegram_mode": "polling", "schedule_poll_seconds": 600.0}
    )


def _hooks_composed(role: str) -> None:
    assert role in REGISTRY.roles
    labels = REGISTRY.labels()
    assert "backend.warnings.linked.evaluate" in labels["warning.confirmed"]
    assert "backend.warnings.service.recompute_deadlines" in labels["calendar.changed"]


async def test_all_starts_every_part(busy: Settings):
    app = create_app(busy, role="all")
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/healthz")).status_code == 200
        parts = app.state.parts
        assert parts.parts == {"workers", "scheduler", "bot", "streams"}
        assert parts.bot.webhook is False
    _hooks_composed("all")


async def test_api_serves_http_only(busy: Settings):
    app = create_app(busy, role="api")
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert app.state.parts.parts == set()  # no worker, no scheduler, no long polling
    _hooks_composed("api")


async def test_api_answers_the_telegram_webhook_without_polling(busy: Settings, telegram: ThreadedBotApi):
    app = create_app(busy.model_copy(update={"telegram_mode": "webhook"}), role="api")
    async with AsyncTestClient(app=app):
        parts = app.state.parts
        assert parts.parts == {"bot"}
        assert parts.bot.webhook is True and app.state.telegram_bot is parts.bot
        assert telegram.api.webhook is not None


@pytest.mark.parametrize(
    ("role", "expected"), [("worker", {"workers", "streams"}), ("scheduler", {"scheduler"}), ("bot", {"bot"})]
)
async def test_each_process_role_starts_its_part_only(busy: Settings, role: str, expected: set[str]):
    async with roles.role_process(role, busy) as running:
        assert running.parts == expected
        if role == "bot":
            assert running.bot.webhook is False
            assert running.bot.application.updater.running  # long polling
    _hooks_composed(role)


def test_the_bot_role_refuses_webhook_mode_and_a_missing_token(busy: Settings):
    assert "webhook" in (roles.refusal("bot", busy.model_copy(update={"telegram_mode": "webhook"})) or "")
    assert roles.refusal("bot", busy.model_copy(update={"telegram_bot_token": None})) is not None
    assert roles.refusal("api", busy) is None
    with pytest.raises(ValueError):
        roles.run("bot", busy.model_copy(update={"telegram_mode": "webhook"}), host="127.0.0.1", port=0)


def test_the_cli_runs_each_role_with_its_process(busy: Settings, monkeypatch: pytest.MonkeyPatch):
    import uvicorn

    import notifications.worker

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(("http", app.state.role)))
    monkeypatch.setattr(notifications.worker, "run_process", lambda s: served.append(("worker", None)))
    monkeypatch.setattr(roles, "serve", _fake_serve(served))
    for role in roles.ROLES:
        roles.run(role, busy, host="127.0.0.1", port=0)
    assert served == [
        ("http", "all"),
        ("http", "api"),
        ("worker", None),
        ("process", "scheduler"),
        ("process", "bot"),
    ]
    _hooks_composed("worker")


def _fake_serve(served: list[Any]) -> Any:
    async def serve(role: str, settings: Settings, stop: Any = None) -> None:
        served.append(("process", role))

    return serve
