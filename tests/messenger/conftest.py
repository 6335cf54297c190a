"""Fixtures: a fake WeCom on 127.0.0.1, the app pointed at it, the demo people bound to WeCom user
ids, warnings seeded as a rule run seeds them, and a delivery worker driven step by step."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from backend.app import app_state
from backend.audit.service import AuditTrail
from backend.kernel.access import Actor
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.messenger.controller import COOKIE
from backend.messenger.models import Provider
from backend.messenger.service import MessengerService
from backend.org.service import OrgService
from backend.warnings.models import Warning
from notifications.worker import Worker
from tests.conftest import TEST_SECRET, Sessions
from tests.messenger import fake_dingtalk as dingtalk
from tests.messenger.fake_base import FakeMessenger
from tests.messenger.fake_dingtalk import FakeDingTalk
from tests.messenger.fake_wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom
from tests.warnings.conftest import Seeder

TRAIL = AuditTrail(TEST_SECRET)
F = TypeVar("F", bound=FakeMessenger)
ADMIN = Actor.system(label="tests")
#: the demo people and their WeCom user ids
USERS = {"E0004": "lisi", "E0005": "zhangsan", "E0006": "wangwu", "E0003": "zhaoliu"}


def serve_in_thread(fake: F) -> Iterator[F]:
    """The fake on an event loop of its own thread: the app under the test client (and the live
    server) runs on another loop and waits for WeCom's answers while the test's loop is blocked."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-wecom", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def wecom() -> Iterator[FakeWeCom]:
    yield from serve_in_thread(FakeWeCom(members=set(USERS.values())))


@pytest.fixture
def msettings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_url": "https://probity.test",
            "delivery_backoff_seconds": 0.0,
            "delivery_backoff_max_seconds": 0.0,
        }
    )


@pytest.fixture
async def app(shared_app: Litestar, msettings: Settings) -> AsyncIterator[Litestar]:
    shared_app.state.update(app_state(msettings))
    yield shared_app
    await shared_app.state.db.dispose()


def app_body(fake: FakeMessenger) -> dict[str, Any]:
    """What an admin enters for the fake's app (the API and OAuth hosts are the fake's)."""
    if isinstance(fake, FakeDingTalk):
        return {
            "corp_id": dingtalk.CORP_ID,
            "agent_id": dingtalk.AGENT_ID,
            "app_key": dingtalk.APP_KEY,
            "secret": dingtalk.APP_SECRET,
            "api_base": fake.base,
            "oauth_base": fake.base,
            "open_api_base": fake.base,
        }
    return {
        "corp_id": CORP_ID,
        "agent_id": AGENT_ID,
        "secret": SECRET,
        "token": TOKEN,
        "aes_key": AES_KEY,
        "api_base": fake.base,
        "oauth_base": fake.base,
    }


class WeComWorld:
    """The app, its database, a fake messenger (WeCom unless told), and the demo people."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        fake: Any,
        client: AsyncTestClient[Litestar],
        provider: Provider = Provider.wecom,
    ) -> None:
        self.provider = provider
        self.db = db
        self.settings = settings
        self.fake = fake
        self.client = client
        self.sessions = Sessions(client)
        self.seed = Seeder(db)
        self.app_id = 0

    async def unit_id(self, code: str) -> int:
        async with self.db.session() as s:
            unit = await OrgService(s, TRAIL).unit_by_code(code)
            assert unit is not None and unit.id is not None
            return unit.id

    async def person_id(self, employee_no: str) -> int:
        return (await self.seed.person(employee_no))[0]

    async def set_up(self, *, unit: str = "P00", bind: dict[str, str] | None = None, **values: Any) -> int:
        """The admin registers the app (through the API), and people get their user ids."""
        body = {**app_body(self.fake), **values}
        r = await self.client.put(
            f"/api/messenger/units/{await self.unit_id(unit)}/{self.provider.value}",
            json=body,
            headers=await self.sessions.headers("admin"),
        )
        assert r.status_code == 200, r.text
        self.app_id = int(r.json()["id"])
        async with self.db.session() as s:
            report = await MessengerService(s, TRAIL, self.settings).set_user_ids(
                ADMIN, self.provider, sorted((bind if bind is not None else USERS).items())
            )
        assert not report.unmatched
        return self.app_id

    def worker(self) -> Worker:
        return Worker(self.db, self.settings, TRAIL, name="wecom-test")

    async def drain(self) -> None:
        async with self.worker() as worker:
            await worker.drain()

    async def press(self, user_id: str, key: str, **callback: Any) -> Any:
        query, body = self.fake.callback(self.fake.press_xml(user_id, key), **callback)
        return await self.client.post(
            f"/messenger/wecom/{self.app_id}/callback",
            params=query,
            content=body,
            headers={"Content-Type": "text/xml"},
        )

    async def open_link(self, url: str, *, user: str) -> Any:
        """``url`` (a card's button) opened in the messenger's browser by ``user``: our sign-in
        link, the messenger's OAuth page (silent), and back; returns our last answer."""
        self.fake.current_user = user
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == self.settings.public_url
        r = await self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
        assert r.status_code == 302, r.text
        cookie = r.cookies[COOKIE]
        async with httpx.AsyncClient() as http:
            back = await http.get(r.headers["location"].split("#", 1)[0], follow_redirects=False)
        assert back.status_code == 302, back.text
        parts = urlsplit(back.headers["location"])
        return await self.client.get(
            f"{parts.path}?{parts.query}", headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False
        )

    def cards_to(self, user_id: str) -> list[dict[str, Any]]:
        if self.provider == Provider.dingtalk:
            return list(self.fake.cards_to(user_id))
        return [m["template_card"] for m in self.fake.sent if m["touser"] == user_id]


async def submitted(world: WeComWorld) -> int:
    """A red warning for the manager (E0005, zhangsan), replied to through the API as the PWA does."""
    wid = await world.seed.warning("E0005", level="high")
    r = await world.client.post(
        f"/api/warnings/{wid}/verifications",
        json={
            "client_id": str(uuid.uuid4()),
            "result": "true",
            "cause": "换表未抄读数",
            "measures": "已追补电费",
        },
        headers=await world.sessions.headers("manager"),
    )
    assert r.status_code in (200, 201), r.text
    await world.drain()
    return wid


async def state_of(world: WeComWorld, wid: int) -> str:
    async with world.db.session() as s:
        warning = await s.get(Warning, wid)
        assert warning is not None
        return str(warning.state)


@pytest.fixture
def dingtalk_fake() -> Iterator[FakeDingTalk]:
    yield from serve_in_thread(FakeDingTalk(members=set(USERS.values())))


@pytest.fixture
async def dworld(
    app: Litestar, msettings: Settings, dingtalk_fake: FakeDingTalk
) -> AsyncIterator[WeComWorld]:
    db = Database(msettings)
    async with AsyncTestClient(app=app) as client:
        yield WeComWorld(db, msettings, dingtalk_fake, client, Provider.dingtalk)
    await db.dispose()


@pytest.fixture
async def world(app: Litestar, msettings: Settings, wecom: FakeWeCom) -> AsyncIterator[WeComWorld]:
    db = Database(msettings)
    async with AsyncTestClient(app=app) as client:
        yield WeComWorld(db, msettings, wecom, client)
    await db.dispose()
