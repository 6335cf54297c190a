"""A person cannot infer a confidential tag from their own scores: what they see of a round with a
confidential tag filed about them equals what they would see had it never been filed (total,
dimensions, ranks, change, flags, talk suggestion, explanation, trend, archive), while an inspector
sees the full score. Two categories with the same library, people and business data: in one the
inspector files a confidential complaint, in the other not."""

from __future__ import annotations

from typing import Any

from backend.evaluation.demo import library
from tests.evaluation.conftest import Setup, tag

SAME = ("base", "behaviour", "awareness", "problems", "total", "rank_category", "rank_unit", "of_category",
        "of_unit", "previous_total", "change", "flags", "explanation", "talk_suggested")  # fmt: skip


async def twin(client: Any, sessions: Any, setup: Setup) -> int:
    """A second category like the first: the same library and the same people evaluated."""
    committee = await sessions.headers("committee")
    r = await client.post(
        "/api/evaluation/categories",
        json={"code": "yk_twin", "name": "业扩报装（对照）", "library": library()},
        headers=committee,
    )
    assert r.status_code == 201, r.text
    twin_id = r.json()["id"]
    for s in (
        await client.get(f"/api/evaluation/categories/{setup.category_id}/subjects", headers=committee)
    ).json():
        r = await client.post(
            f"/api/evaluation/categories/{twin_id}/subjects",
            json={"person_id": s["person_id"], "evaluator_ids": s["evaluator_ids"]},
            headers=committee,
        )
        assert r.status_code == 200, r.text
    return int(twin_id)


async def rounds(client: Any, sessions: Any, category_id: int) -> int:
    """The second quarter (no data: 60 each), then the third; returns the third's id."""
    committee = await sessions.headers("committee")
    for name, start, end in (
        ("2026年第二季度", "2026-04-01", "2026-06-30"),
        ("2026年第三季度", "2026-07-01", "2026-09-30"),
    ):
        r = await client.post(
            f"/api/evaluation/categories/{category_id}/rounds",
            json={"name": name, "period_start": start, "period_end": end},
            headers=committee,
        )
        assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def score_of(client: Any, sessions: Any, who: str, round_id: int, person_id: int) -> dict:
    r = await client.get(f"/api/evaluation/rounds/{round_id}", headers=await sessions.headers(who))
    assert r.status_code == 200, r.text
    return next(s for s in r.json()["scores"] if s["person_id"] == person_id)


async def test_the_persons_view_with_a_confidential_tag_equals_the_view_without_it(
    client, sessions, setup: Setup
):
    c, m = setup.category_id, setup.manager
    t = await twin(client, sessions, setup)
    for category in (c, t):
        r = await client.post(
            "/api/evaluation/tags",
            json=tag(category, m, "refused_gift", "2026-08-12", "退回购物卡"),
            headers=await sessions.headers("head"),
        )
        assert r.status_code == 201, r.text
    r = await client.post(
        "/api/evaluation/tags",
        json=tag(c, m, "complaint", "2026-09-10", "客户反映属实"),
        headers=await sessions.headers("inspector"),
    )
    assert r.status_code == 201, r.text
    with_it, without_it = await rounds(client, sessions, c), await rounds(client, sessions, t)

    # the inspector sees the full score: 60 + 0.5×4 − 2×1 + 5 − 10 = 55, third of three, fell by 5
    full = await score_of(client, sessions, "inspector", with_it, m)
    assert (full["total"], full["problems"], full["rank_category"], full["flags"]) == (55, -10, 3, ["fell"])
    assert full["talk_suggested"] and "complaint" in [i["code"] for i in full["explanation"]]

    mine = await score_of(client, sessions, "manager", with_it, m)
    control = await score_of(client, sessions, "manager", without_it, m)
    assert {k: mine[k] for k in SAME} == {k: control[k] for k in SAME}
    assert (mine["total"], mine["problems"], mine["rank_category"], mine["rank_unit"]) == (65, 0, 1, 1)
    assert (mine["change"], mine["flags"], mine["talk_suggested"]) == (5, [], False)
    assert all(not i["confidential"] for i in mine["explanation"])

    trend = {}
    for category in (c, t):
        points = (
            await client.get(f"/api/evaluation/people/{m}/trend", headers=await sessions.headers("manager"))
        ).json()
        trend[category] = [
            {k: v for k, v in p.items() if k not in ("round_id", "category_name")}
            for p in points
            if p["category_name"] == ("业扩报装" if category == c else "业扩报装（对照）")
        ]
    assert trend[c] == trend[t] and [p["total"] for p in trend[c]] == [60, 65]
    inspector_trend = (
        await client.get(f"/api/evaluation/people/{m}/trend", headers=await sessions.headers("inspector"))
    ).json()
    assert [p["total"] for p in inspector_trend if p["category_name"] == "业扩报装"] == [60, 55]

    archive = (await client.get(f"/api/dossier/{m}", headers=await sessions.headers("manager"))).json()
    seen = {
        p["category_name"]: p["total"] for p in archive["evaluation"] if p["round_name"].endswith("三季度")
    }
    assert seen == {"业扩报装": 65, "业扩报装（对照）": 65}

    # another person's view is untouched by it: the other's rank counts the manager's stored total
    other = await score_of(client, sessions, "inspector", with_it, setup.other)
    assert other["rank_category"] == 2  # 60 (manager2), 56 (other), 55 (manager)
