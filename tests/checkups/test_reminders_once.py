"""The daily check-up reminder goes out once per campaign and day, even when two processes run
the job at once or it runs again after a crash: the day is claimed by a conditional UPDATE of the
campaign before anyone is told. The interleaving is forced: both runs have read the campaigns
before either claims."""

from __future__ import annotations

import asyncio

from backend.checkups.jobs import remind_checkups
from backend.checkups.service import CheckupService
from backend.kernel.db import Database


async def test_two_runs_at_once_remind_each_person_once(kit, settings, monkeypatch):
    cid = (await kit.open_campaign(units=("C01-S1",)))["id"]
    await kit.complete("manager", cid)
    barrier = asyncio.Barrier(2)
    claim = CheckupService._claim_reminder_day

    async def after_both_read(self, campaign_id, today):
        await barrier.wait()
        return await claim(self, campaign_id, today)

    monkeypatch.setattr(CheckupService, "_claim_reminder_day", after_both_read)
    first, second = Database(settings), Database(settings)
    try:
        said = await asyncio.gather(remind_checkups(first, settings), remind_checkups(second, settings))
    finally:
        await first.dispose()
        await second.dispose()
    assert sorted(said) == ["0 reminder(s) in 0 campaign(s)", "9 reminder(s) in 1 campaign(s)"]
    head_notices = (await kit.client.get("/api/checkups/notices", headers=await kit.h("head"))).json()
    assert [n["kind"] for n in head_notices] == ["reminder", "invitation"]


async def test_a_second_run_the_same_day_reminds_no_one(kit, settings, db):
    cid = (await kit.open_campaign(units=("C01-S1",)))["id"]
    assert await remind_checkups(db, settings) == "10 reminder(s) in 1 campaign(s)"
    assert await remind_checkups(db, settings) == "0 reminder(s) in 0 campaign(s)"
    # a person asking for a reminder by hand is not held back by the daily one
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/remind", headers=await kit.h("admin"))
    assert r.status_code == 200 and r.json()["count"] == 10
