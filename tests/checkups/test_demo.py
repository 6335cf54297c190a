"""The demo loader: a questionnaire, a policy and this year's open campaign; idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.checkups.demo import load_demo
from backend.checkups.models import CheckupCampaign, CheckupPolicy, CheckupQuestionnaire, CheckupResult
from backend.kernel.timeutil import SHANGHAI, utcnow


async def test_demo_loads_once_and_the_campaign_is_open(db, settings, client, sessions):
    first = await load_demo(db, settings, lambda _m: None)
    assert "campaign" in first and "synthetic submissions" in first
    second = await load_demo(db, settings, lambda _m: None)
    assert second == "already loaded"
    async with db.session() as s:
        counts = [
            (await s.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (CheckupQuestionnaire, CheckupPolicy, CheckupCampaign)
        ]
        results = (await s.execute(select(func.count()).select_from(CheckupResult))).scalar_one()
    assert counts == [1, 1, 1] and results > 20
    mine = (await client.get("/api/checkups/mine", headers=await sessions.headers("manager"))).json()
    (campaign,) = mine
    assert campaign["window"] == "open" and campaign["status"] == "pending"
    assert campaign["year"] == utcnow().astimezone(SHANGHAI).year
    # the named accounts answer themselves; committee sees company-wide aggregates
    agg = (
        await client.get(
            f"/api/checkups/campaigns/{campaign['campaign_id']}/aggregates",
            headers=await sessions.headers("committee"),
        )
    ).json()
    assert agg["total"]["people"] == results and not agg["total"]["suppressed"]
    assert any(not c["suppressed"] for c in agg["cells"])
