"""The evaluation's demo: a category with its library, two rounds over work orders and filed tags,
in Chinese; a second run adds nothing."""

from __future__ import annotations

from backend.evaluation.demo import load_demo


async def test_the_demo_has_a_category_two_rounds_and_tags_and_runs_twice(db, settings, client, sessions):
    said = await load_demo(db, settings, lambda _: None)
    assert said.startswith("category 业扩报装")
    h = await sessions.headers("inspector")
    (category,) = (await client.get("/api/evaluation/categories", headers=h)).json()
    assert (category["name"], category["library"]["version"], category["subjects"]) == ("业扩报装", 1, 6)
    rounds = (await client.get("/api/evaluation/rounds", headers=h)).json()
    assert [r["name"] for r in rounds] == ["2026年第四季度", "2026年第三季度"]
    q4 = (await client.get(f"/api/evaluation/rounds/{rounds[0]['id']}", headers=h)).json()
    assert len(q4["scores"]) == 6 and all(s["previous_total"] is not None for s in q4["scores"])
    assert any(i["source"] == "indicator" and i["value"] > 0 for s in q4["scores"] for i in s["explanation"])
    tags = (await client.get("/api/evaluation/tags", headers=h)).json()
    assert len(tags) == 7 and all(t["note"] for t in tags)
    assert await load_demo(db, settings, lambda _: None) == "category 业扩报装 already there"
