"""The archive browsed by topic, department, person and year (11.2.1), within the caller's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.kernel.timeutil import SHANGHAI
from tests.archive.conftest import name_of


async def test_the_archive_is_browsed_by_topic_unit_person_and_year_within_scope(
    client: Any, sessions: Any, seed: Any, db: Any
) -> None:
    old = datetime(2025, 6, 1, 9, 0, tzinfo=SHANGHAI)
    a = await seed.warning("E0005", level="high", topic_code="T01")
    b = await seed.warning("E0005", level="low", topic_code="T02", topic_id=2, raised_at=old)
    c = await seed.warning("E0006", level="high", topic_code="T01")
    head, committee = await sessions.headers("head"), await sessions.headers("committee")

    page = (await client.get("/api/archive/warning?lang=zh-CN", headers=head)).json()
    assert [i["case_id"] for i in page["items"]] == [a, b] and page["total"] == 2
    first = page["items"][0]
    assert first["person_name"] == await name_of(db, "E0005") and first["unit_name"] == "城关供电所"
    assert first["state"] == "待查看" and first["opened_on"].endswith("日")

    facets = (await client.get("/api/archive/warning/facets", headers=head)).json()
    assert [f["label"] for f in facets["units"]] == ["城关供电所"]
    assert [f["label"] for f in facets["people"]] == [await name_of(db, "E0005")]
    assert facets["years"][-1] == 2025 and 2025 in facets["years"]

    by_year = (await client.get("/api/archive/warning?year=2025", headers=head)).json()
    assert [i["case_id"] for i in by_year["items"]] == [b]
    by_topic = (await client.get("/api/archive/warning?topic=T01", headers=committee)).json()
    assert sorted(i["case_id"] for i in by_topic["items"]) == sorted([a, c])
    person = (await seed.person("E0006"))[0]
    by_person = (await client.get(f"/api/archive/warning?person_id={person}", headers=committee)).json()
    assert [i["case_id"] for i in by_person["items"]] == [c]
    unit = (await seed.person("E0006"))[1]
    outside = (await client.get(f"/api/archive/warning?unit_id={unit}", headers=head)).json()
    assert outside["items"] == [] and outside["total"] == 0, "another station's cases are not the head's"
