"""The statistics API against the hand-counted set of ``conftest.py``, and its scope."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stats.conftest import Known

NOVEMBER = "period=month&at=2026-11-15"


async def stats(client: Any, sessions: Any, user: str, query: str = NOVEMBER) -> dict[str, Any]:
    r = await client.get(f"/api/stats?{query}", headers=await sessions.headers(user))
    assert r.status_code == 200, r.text
    return r.json()


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in rows}


async def test_head_figures_counted_by_hand(client: Any, sessions: Any, known: Known) -> None:
    body = await stats(client, sessions, "head")
    assert body["period"] == {"kind": "month", "start": "2026-11-01", "last_day": "2026-11-30"}
    assert body["previous"] == {"kind": "month", "start": "2026-10-01", "last_day": "2026-10-31"}
    t = body["totals"]
    # w1..w6: w7 is another station (even though its topic is of the head's specialty), w8 another
    # county, w9 a trial hit, w10-w12 other months
    assert (t["raised"], t["high"], t["medium"], t["low"]) == (6, 2, 2, 2)
    assert (t["open"], t["overdue"], t["waiting"], t["closed"]) == (3, 2, 1, 2)  # 4,5,6 / 4,6 / 3 / 1,2
    assert (t["decided"], t["true"], t["true_rate"]) == (3, 2, 0.6667)  # w1,w2,w3; w6 was returned
    assert (t["answered"], t["on_time"], t["late_open"], t["on_time_rate"]) == (4, 3, 1, 0.6)
    iv = body["interviews"]
    assert iv["red"] == {"true_warnings": 2, "interviewed": 1, "ratio": 0.5, "goal": 0.8, "met": False}
    assert iv["orange_yellow"]["true_warnings"] == 0 and iv["orange_yellow"]["met"] is None

    levels = by_key(body["by_level"])
    assert [g["key"] for g in body["by_level"]] == ["high", "medium", "low"]
    assert (levels["high"]["raised"], levels["high"]["closed"], levels["low"]["overdue"]) == (2, 2, 2)
    topics = by_key(body["by_topic"])
    assert set(topics) == {"T01", "T02"}
    assert topics["T01"]["label"] == "表计装拆后电量为零" and topics["T01"]["specialty"] == "marketing"
    assert (topics["T01"]["raised"], topics["T01"]["decided"], topics["T01"]["true"]) == (4, 3, 2)
    assert topics["T01"]["true_rate"] == 0.6667
    assert (topics["T02"]["raised"], topics["T02"]["open"], topics["T02"]["true_rate"]) == (2, 2, None)
    units = by_key(body["by_unit"])
    assert set(units) == {str(known.units["C01-S1"])}
    assert units[str(known.units["C01-S1"])]["label"] == "城关供电所"
    posts = by_key(body["by_post"])
    assert {k: (p["label"], p["raised"]) for k, p in posts.items()} == {
        str(known.posts["CM"]): ("客户经理", 5),
        str(known.posts["SH"]): ("供电所所长", 1),
    }
    assert by_key(body["by_specialty"])["marketing"]["raised"] == 6

    p = body["previous_totals"]  # w10, w11
    assert (p["raised"], p["open"], p["overdue"]) == (2, 1, 1)
    assert (p["decided"], p["true"], p["true_rate"]) == (1, 0, 0.0)
    series = body["series"]
    assert len(series) == 6 and (series[0]["start"], series[-1]["start"]) == ("2026-06-01", "2026-11-01")
    last_two = [(s["raised"], s["high"], s["medium"], s["low"]) for s in series[-2:]]
    assert last_two == [(2, 0, 1, 1), (6, 2, 2, 2)]
    assert sum(s["raised"] for s in series[:-2]) == 0

    linked = body["linked"]
    assert linked == {"letters": 1, "answered": 0, "closed": 0, "overdue": 1, "by_rule": {"repeat": 1}}
    assert body["ladder"] is None  # a ladder case is a personal file: not a head's figure


async def test_inspector_sees_the_county(client: Any, sessions: Any, known: Known) -> None:
    body = await stats(client, sessions, "inspector")
    t = body["totals"]
    assert (t["raised"], t["high"], t["true"], t["decided"]) == (7, 3, 3, 4)  # + w7 of C01-S2
    assert body["interviews"]["red"]["interviewed"] == 2 and body["interviews"]["red"]["ratio"] == 0.6667
    assert {g["key"]: g["raised"] for g in body["by_unit"]} == {
        str(known.units["C01-S1"]): 6,
        str(known.units["C01-S2"]): 1,
    }
    assert body["linked"]["letters"] == 1  # not the letter to C02-S1
    ladder = body["ladder"]
    assert {t["tier"]: (t["opened"], t["open"]) for t in ladder["tiers"]}["notice"] == (1, 1)
    assert ladder["steps"] == {"issued": 1}
    # one unit and below
    s2 = await stats(client, sessions, "inspector", f"{NOVEMBER}&unit_id={known.units['C01-S2']}")
    assert s2["totals"]["raised"] == 1 and s2["linked"]["letters"] == 0


async def test_other_county_and_committee(client: Any, sessions: Any, known: Known) -> None:
    other = await stats(client, sessions, "inspector2")
    assert other["totals"]["raised"] == 1 and other["linked"]["letters"] == 1  # w8 and L2 only
    head2 = await stats(client, sessions, "head2")
    assert {g["key"] for g in head2["by_topic"]} == {"T01"} and head2["totals"]["raised"] == 1
    everyone = await stats(client, sessions, "committee")
    assert everyone["totals"]["raised"] == 8 and everyone["linked"]["letters"] == 2


async def test_scope_refusals(client: Any, sessions: Any, known: Known) -> None:
    r = await client.get(f"/api/stats?{NOVEMBER}", headers=await sessions.headers("manager"))
    assert r.status_code == 403
    r = await client.get(
        f"/api/stats?{NOVEMBER}&unit_id={known.units['C02-S1']}", headers=await sessions.headers("head")
    )
    assert r.status_code == 404
    backwards = "/api/stats?period=custom&from=2026-11-30&to=2026-11-01"
    r = await client.get(backwards, headers=await sessions.headers("head"))
    assert r.status_code == 400


async def test_custom_and_other_periods(client: Any, sessions: Any, known: Known) -> None:
    body = await stats(client, sessions, "head", "period=custom&from=2026-10-01&to=2026-12-31")
    assert body["totals"]["raised"] == 9  # w1-w6, w10, w11, w12
    # the 92 days before
    assert body["previous"] == {"kind": "custom", "start": "2026-07-01", "last_day": "2026-09-30"}
    quarter = await stats(client, sessions, "head", "period=quarter&at=2026-11-15")
    assert quarter["totals"]["raised"] == 9
    week = await stats(client, sessions, "head", "period=week&at=2026-11-05")  # Monday 11-02 to 11-08
    assert week["period"]["start"] == "2026-11-02" and week["totals"]["raised"] == 6
    year = await stats(client, sessions, "head", "period=year&at=2026-03-01")
    assert year["totals"]["raised"] == 9 and year["previous"]["start"] == "2025-01-01"


@pytest.mark.parametrize(
    ("figure", "query", "expected"),
    [
        ("open", "status=open", 3),
        ("waiting", "status=waiting", 1),
        ("closed", "status=closed", 2),
        ("overdue", "overdue=true", 2),
        ("true", "finding=true", 2),
        ("T01", "topic=T01", 4),
        ("high", "level=high", 2),
        ("marketing", "specialty=marketing", 6),
    ],
)
async def test_each_figure_drills_down_to_its_list(
    client: Any, sessions: Any, known: Known, figure: str, query: str, expected: int
) -> None:
    """The list behind a figure: the warnings list with the same period and filter, same count."""
    r = await client.get(
        f"/api/warnings?view=unit&raised_from=2026-11-01&raised_to=2026-11-30&{query}&limit=100",
        headers=await sessions.headers("head"),
    )
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == expected, figure
    assert len(page["items"]) == expected


async def test_drill_down_by_unit_and_post(client: Any, sessions: Any, known: Known) -> None:
    h = await sessions.headers("inspector")
    base = "/api/warnings?view=unit&raised_from=2026-11-01&raised_to=2026-11-30&limit=100"
    r = await client.get(f"{base}&unit_id={known.units['C01-S2']}", headers=h)
    assert [w["id"] for w in r.json()["items"]] == [known.ids["w7"]]
    r = await client.get(f"{base}&post_id={known.posts['SH']}", headers=h)
    assert sorted(w["id"] for w in r.json()["items"]) == sorted([known.ids["w6"], known.ids["w7"]])
    # a head's list of another station's unit is empty (scope applies before the filter)
    r = await client.get(f"{base}&unit_id={known.units['C01-S2']}", headers=await sessions.headers("head"))
    assert r.json()["total"] == 0
