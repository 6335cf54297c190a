"""Two saves of different questions of one check-up at the same moment (two phones, or the PWA and
the chat) both count: forced so that both read the saved answers before either writes."""

from __future__ import annotations

import asyncio

import pytest

from backend.audit.service import AuditTrail
from backend.checkups.crypto import Sealer
from backend.checkups.models import AnswersUpdate
from backend.checkups.service import CheckupService
from backend.kernel.access import Principal, Role
from tests.checkups.conftest import ITEM_CODES
from tests.conftest import TEST_SECRET


async def _principal(kit, user: str) -> Principal:
    me = (await kit.client.get("/api/auth/me", headers=await kit.h(user))).json()
    unit = me["unit_id"]
    return Principal(0, "", me["person_id"], unit, frozenset({Role.employee}), frozenset({unit}))


def both_read_before_either_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each save's first write waits until the other save has read too (later tries pass)."""
    barrier = asyncio.Barrier(2)
    waited: set[int] = set()
    merge = CheckupService._save

    async def save_after_both_read(self, *args, **kwargs):
        if id(self) not in waited:
            waited.add(id(self))
            await barrier.wait()
        return await merge(self, *args, **kwargs)

    monkeypatch.setattr(CheckupService, "_save", save_after_both_read)


async def test_two_saves_of_different_questions_are_both_kept(kit, db, settings, monkeypatch):
    cid = (await kit.open_campaign(units=("C01",)))["id"]
    manager = await _principal(kit, "manager")
    assert (await kit.answer("manager", cid, {ITEM_CODES[0]: 3})).status_code == 200
    both_read_before_either_writes(monkeypatch)
    sealer = Sealer.from_settings(settings)

    async def save(code: str, value: int) -> None:
        async with db.session() as s:
            svc = CheckupService(s, AuditTrail(TEST_SECRET), sealer)
            await svc.save_answers(cid, AnswersUpdate(answers={code: value}), manager)

    async def by_position(index: int, value: int) -> None:  # the chat's way of answering
        async with db.session() as s:
            await CheckupService(s, AuditTrail(TEST_SECRET), sealer).answer_at(cid, index, value, manager)

    await asyncio.gather(save(ITEM_CODES[1], 4), by_position(2, 5))

    mine = (await kit.client.get(f"/api/checkups/mine/{cid}", headers=await kit.h("manager"))).json()
    assert [q["answer"] for q in mine["questions"][:4]] == [3, 4, 5, None]
    assert mine["answered"] == 3
