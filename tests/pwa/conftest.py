"""The PWA in a real browser: Debian's Chromium driven by Playwright against the real app.

The app runs under uvicorn in a thread on a free port, on the test's own database (the ``settings``
fixture). Tests talk to the server directly (httpx) to seed and to check what it stored.
Screenshots at 390×844 go to the test's tmp dir (``shots/``), and to ``$PROBITY_PWA_SHOTS`` when set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from tests.conftest import ci_requires
from tests.pwa.shell import CHROMIUM, CHROMIUM_ARGS

PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``create_app(settings)`` under uvicorn in a thread: the same app ``probity serve`` runs."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        self.settings = settings
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="pwa-live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    # --- talking to it directly --------------------------------------------------------------
    def token(self, username: str) -> str:
        r = httpx.post(f"{self.url}/api/auth/login", json={"username": username, "password": "demo"})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def api(self, method: str, path: str, username: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(username)}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def run(self, work: Callable[[Database], Any]) -> Any:
        """Run ``await work(db)`` on a Database of its own, in a thread with its own event loop
        (Playwright's sync API keeps a loop running in the test's thread)."""

        async def go() -> Any:
            db = Database(self.settings)
            try:
                return await work(db)
            finally:
                await db.dispose()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, go()).result()


@pytest.fixture
def browser(live: LiveServer) -> Iterator[Any]:
    """Per test, and after the server: Playwright's sync API keeps an event loop running in this
    thread, so the async fixtures (the test database) must be set up before it starts and torn
    down after it stops."""
    if not CHROMIUM.exists():
        ci_requires(f"{CHROMIUM} (Debian package chromium) is missing: the PWA browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


class Shots:
    """Named 390×844 screenshots of a page, kept in the test's tmp dir."""

    def __init__(self, root: Path) -> None:
        self.root = root / "shots"
        self.root.mkdir(parents=True, exist_ok=True)
        self.extra = Path(os.environ["PROBITY_PWA_SHOTS"]) if os.environ.get("PROBITY_PWA_SHOTS") else None
        self.taken: list[Path] = []

    def __call__(self, page: Any, name: str, full_page: bool = False) -> Path:
        page.wait_for_timeout(250)  # let the toast and banner settle
        path = self.root / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        if self.extra is not None:
            self.extra.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, self.extra / path.name)
        return path


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    return Shots(tmp_path)


@pytest.fixture
def phone(live: LiveServer, browser: Any) -> Iterator[Callable[..., Any]]:
    """A new phone-sized browser context (its own storage, like another device)."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        ctx = browser.new_context(
            viewport=PHONE,
            device_scale_factor=1,
            locale=options.pop("locale", "zh-CN"),
            timezone_id="Asia/Shanghai",
            base_url=live.url,
            **options,
        )
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def sign_in(page: Any, username: str, *, labels: tuple[str, str] = ("用户名", "密码")) -> None:
    page.goto("/")
    page.get_by_label(labels[0]).fill(username)
    page.get_by_label(labels[1]).fill("demo")
    page.locator("form.login button[type=submit]").click()
    page.wait_for_selector("nav.tabs:not([hidden])")
