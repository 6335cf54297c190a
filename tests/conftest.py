"""Test harness: each test gets its own migrated operational database holding the demo organisation.

SQLite (default): a template file is migrated and loaded once per run and copied per test.
PostgreSQL: set ``PROBITY_TEST_DATABASE_URL=postgresql+asyncpg://…/test``; a template database
is built once and each test gets ``CREATE DATABASE … TEMPLATE`` of it, made in the background
while the test before runs (and dropped in the background after), so a test does not wait for it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from backend.app import app_state, create_app
from backend.audit.service import AuditTrail
from backend.auth.service import make_hasher
from backend.demo.org import load_demo_org
from backend.kernel.db import Database
from backend.kernel.hooks import compose
from backend.kernel.settings import Settings

PG_URL = os.environ.get("PROBITY_TEST_DATABASE_URL", "")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
_counter = itertools.count()


def make_settings(tmp: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "data_dir": tmp / "data",
        "secret_key": TEST_SECRET,
        "demo_password": "demo",
        "password_hash_memory_kib": 64,
        "password_hash_time_cost": 1,
        "log_level": "WARNING",
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


async def _build(settings: Settings) -> None:
    db = Database(settings)
    try:
        await db.upgrade()
        async with db.session() as session:
            await load_demo_org(session, settings, AuditTrail(TEST_SECRET), make_hasher(settings))
    finally:
        await db.dispose()


def _pg_admin_url(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


async def _pg_exec(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
def composed() -> None:
    """The features' hooks, registered as every entry point registers them (the app factory, the
    ``probity`` commands, the worker, scheduler and bot processes): ``backend.kernel.hooks.compose``."""
    compose("all")


class PgCopies:
    """Copies of the template database, each made one test ahead on a background thread and
    dropped there after its test: a test neither waits for CREATE DATABASE nor for DROP."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-copies")
        self.next: Future[str] = self.worker.submit(self._create)

    def _create(self) -> str:
        name = f"probity_t_{os.getpid()}_{next(_counter)}"
        asyncio.run(_pg_exec(PG_URL, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def take(self) -> str:
        name = self.next.result()
        self.next = self.worker.submit(self._create)
        return name

    def give_back(self, name: str) -> None:
        self.worker.submit(asyncio.run, _pg_exec(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.give_back(self.next.result())
        self.worker.shutdown(wait=True)


_copies: PgCopies | None = None


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the demo organisation: a SQLite file path or a PG database name."""
    global _copies
    root = tmp_path_factory.mktemp("template")
    if PG_URL:
        name = f"probity_tpl_{os.getpid()}"
        asyncio.run(_pg_exec(PG_URL, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
        asyncio.run(_build(make_settings(root, _pg_admin_url(PG_URL, name))))
        _copies = PgCopies(name)
        yield name
        _copies.close()
        _copies = None
        asyncio.run(_pg_exec(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = root / "template.db"
        asyncio.run(_build(make_settings(root, f"sqlite+aiosqlite:///{path}")))
        yield str(path)


@pytest.fixture
async def settings(tmp_path: Path, template_db: str) -> AsyncIterator[Settings]:
    if PG_URL:
        assert _copies is not None
        name = await asyncio.to_thread(_copies.take)
        yield make_settings(tmp_path, _pg_admin_url(PG_URL, name))
        _copies.give_back(name)
    else:
        path = tmp_path / "probity.db"
        shutil.copyfile(template_db, path)
        yield make_settings(tmp_path, f"sqlite+aiosqlite:///{path}")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    """Built once per run (building the app costs far more than a test); each test swaps its state."""
    root = tmp_path_factory.mktemp("app")
    return create_app(make_settings(root, f"sqlite+aiosqlite:///{root}/unused.db"))


@pytest.fixture
async def app(shared_app: Litestar, settings: Settings) -> AsyncIterator[Litestar]:
    """The shared app pointed at this test's database.

    The app owns that Database (not the ``db`` fixture's): the test client may run the app on
    another event loop, and asyncpg connections are bound to the loop that made them.
    """
    shared_app.state.update(app_state(settings))
    yield shared_app
    await shared_app.state.db.dispose()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


class Sessions:
    """Signs demo users in once per test and hands out their auth headers."""

    def __init__(self, client: AsyncTestClient[Litestar]) -> None:
        self.client = client
        self._tokens: dict[str, dict[str, Any]] = {}

    async def tokens(self, username: str, password: str = "demo") -> dict[str, Any]:
        if username not in self._tokens:
            response = await self.client.post(
                "/api/auth/login", json={"username": username, "password": password}
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()
        return self._tokens[username]

    async def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {(await self.tokens(username))['access_token']}"}


@pytest.fixture
def sessions(client: AsyncTestClient[Litestar]) -> Sessions:
    return Sessions(client)


def ci_requires(reason: str) -> None:
    """Skip for a missing system part on a laptop; under CI=true the part must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


REPO_ROOT = Path(__file__).resolve().parents[1]


def cli_env(**values: str) -> dict[str, str]:
    """Environment for running ``python -m backend.cli`` on this checkout's code."""
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), **values}


#: test names of push services, answered without DNS (the machine running tests may have none):
#: the example domains stand for a public push service; ``private.example.test`` for a name that
#: resolves into the private network
FAKE_DNS = {"private.example.test": "10.0.0.5"}
PUBLIC_STAND_IN = "93.184.215.14"


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``backend.delivery.endpoints.resolve_host`` answers ``*.example.com``/``*.example.test``
    from :data:`FAKE_DNS` (else a public stand-in); other names resolve as usual."""
    from backend.delivery import endpoints

    real = endpoints.resolve_host
    table = dict(FAKE_DNS)

    async def resolve(host: str, port: int) -> list[endpoints.IPAddress]:
        name = host.lower().rstrip(".")
        if name in table or name.endswith((".example.com", ".example.test")):
            return [endpoints.ipaddress.ip_address(table.get(name, PUBLIC_STAND_IN))]
        return await real(host, port)

    monkeypatch.setattr(endpoints, "resolve_host", resolve)
    return table
