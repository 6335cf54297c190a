"""Guards against races in the messenger feature, each with its interleaving forced.

* A sign-in's handoff code is traded once: two exchanges that both read the row as unused before
  either writes get one session between them (the conditional ``UPDATE … WHERE used_at IS NULL``);
  trusting what was read would open two.
* A callback's nonce is taken once (insert-or-nothing on the app and nonce), whatever arrives at
  the same time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.errors import Unauthorized
from backend.messenger.crypto import CallbackRefused
from backend.messenger.models import MessengerHandoff, Provider
from backend.messenger.service import MessengerService
from tests.messenger.conftest import TRAIL, WeComWorld


async def test_a_handoff_code_read_twice_at_once_opens_one_session(
    world: WeComWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.set_up()
    person = await world.person_id("E0005")
    browser = "b" * 32
    async with world.db.session() as s:
        code = await MessengerService(s, TRAIL, world.settings).handoff(
            person, Provider.wecom, browser, "/warnings"
        )

    both_read = asyncio.Barrier(2)
    real_get = AsyncSession.get

    async def get_then_wait(self: AsyncSession, entity: Any, ident: Any, **kw: Any) -> Any:
        row = await real_get(self, entity, ident, **kw)
        if entity is MessengerHandoff:
            assert row is not None and row.used_at is None  # both see it unused
            await both_read.wait()
        return row

    monkeypatch.setattr(AsyncSession, "get", get_then_wait)

    async def exchange() -> Any:
        async with world.db.session() as s:
            try:
                return await MessengerService(s, TRAIL, world.settings).exchange(
                    code, browser, request_id=None
                )
            except Unauthorized as exc:
                return exc

    results = await asyncio.wait_for(asyncio.gather(exchange(), exchange()), timeout=30)
    sessions = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Unauthorized)]
    assert len(sessions) == 1 and len(refused) == 1
    assert refused[0].code == "sso_expired"


async def test_a_nonce_arriving_twice_at_once_is_taken_once(world: WeComWorld) -> None:
    app_id = await world.set_up()

    async def take() -> str:
        async with world.db.session() as s:
            try:
                await MessengerService(s, TRAIL, world.settings).accept_nonce(app_id, "same-nonce", 1)
            except CallbackRefused as exc:
                return exc.code
            return "taken"

    results = await asyncio.gather(*(take() for _ in range(4)))
    assert sorted(results) == ["replayed_nonce"] * 3 + ["taken"]
