"""The risk portrait against the hand-counted set (tests/stats/conftest.py), with the default weights
but those of the people's own standing — years in post and education short of the target — set to
0 by an admin, so the sums below are counted by hand; then those factors on a set of their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.audit.models import AuditRecord
from tests.stats.conftest import Known

NOVEMBER = "period=month&at=2026-11-15"


async def zero_years(client: Any, sessions: Any) -> None:
    r = await client.put(
        "/api/portrait/weights",
        json={"weights": {"years_in_post": 0, "education_shortfall": 0}},
        headers=await sessions.headers("admin"),
    )
    assert r.status_code == 200, r.text
    assert {w["factor"]: w["weight"] for w in r.json()}["years_in_post"] == 0


async def portrait(client: Any, sessions: Any, user: str, by: str) -> dict[str, dict[str, Any]]:
    r = await client.get(f"/api/portrait?by={by}&{NOVEMBER}", headers=await sessions.headers(user))
    assert r.status_code == 200, r.text
    return {row["label"]: row for row in r.json()["rows"]}


async def test_units_scored_ranked_and_trending(client: Any, sessions: Any, known: Known, db: Any) -> None:
    await zero_years(client, sessions)
    units = await portrait(client, sessions, "inspector", "unit")
    s1, s2 = units["城关供电所"], units["青山供电所"]
    # 城关供电所: true red 2 ×5, red 2 ×2, orange 2 ×1, yellow 2 ×0.5, overdue 2 ×2, a letter ×3, a notice ×3
    assert s1["score"] == 10 + 4 + 2 + 1 + 4 + 3 + 3
    assert {f["factor"]: f["contribution"] for f in s1["factors"]}["letters"] == 3
    # October: an orange, a yellow and one overdue
    assert s1["previous_score"] == 1 + 0.5 + 2 and s1["trend"] == "rising"
    assert s2["score"] == 5 + 2 and s2["rank"] == 2 and s1["rank"] == 1
    assert "河口供电所" not in units
    async with db.session() as s:
        kept = (
            await s.execute(
                select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "portrait.weights")
            )
        ).scalar_one()
    assert kept.new_value == {"years_in_post": 0, "education_shortfall": 0}
    assert kept.old_value == {"years_in_post": 0.5, "education_shortfall": 1.0}


async def test_posts_and_people(client: Any, sessions: Any, known: Known) -> None:
    await zero_years(client, sessions)
    people = await portrait(client, sessions, "inspector", "person")
    scores = sorted(row["score"] for row in people.values())
    # the manager (w1-w5, the letter, the notice), 青山's head (w7), 城关's head (w6)
    assert scores == [0.5 + 2, 5 + 2, 10 + 4 + 2 + 0.5 + 2 + 3 + 3]
    posts = await portrait(client, sessions, "inspector", "post")
    assert posts["客户经理"]["score"] == 24.5 and posts["供电所所长"]["score"] == 2.5 + 7
    r = await client.get(f"/api/portrait?by=person&{NOVEMBER}", headers=await sessions.headers("head"))
    assert r.status_code == 403  # people: inspectors and the committee only
    head = await portrait(client, sessions, "head", "unit")
    assert set(head) == {"城关供电所"}


async def test_only_admins_change_weights(client: Any, sessions: Any) -> None:
    for user in ("inspector", "committee", "head"):
        r = await client.put(
            "/api/portrait/weights", json={"weights": {"overdue": 9}}, headers=await sessions.headers(user)
        )
        assert r.status_code == 403
    r = await client.put(
        "/api/portrait/weights", json={"weights": {"shoe_size": 1}}, headers=await sessions.headers("admin")
    )
    assert r.status_code == 400
