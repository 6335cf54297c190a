"""Check-up participation and grades in the statistics: fewer than five graded people show no grades."""

from __future__ import annotations

from typing import Any

from tests.checkups.conftest import Kit, kit  # noqa: F401 - the fixture


async def test_participation_and_k5_suppression(client: Any, sessions: Any, kit: Kit) -> None:  # noqa: F811
    campaign = await kit.open_campaign(units=("C01",))
    # four in 城关供电所 (the head's station) and two in 青山供电所 answer
    for user in ("manager", "head", "E0101", "E0102", "E0109", "E0110"):
        await kit.complete(user, campaign["id"])

    async def figures(user: str) -> dict[str, Any]:
        r = await client.get("/api/stats?period=month", headers=await sessions.headers(user))
        assert r.status_code == 200, r.text
        return r.json()["checkups"]

    head = await figures("head")
    # 城关供电所: head, manager and eight staff; four submitted; four graded people are under five
    assert (head["participants"], head["submitted"], head["rate"]) == (10, 4, 0.4)
    assert head["grades"] is None and head["min_cell"] == 5
    inspector = await figures("inspector")
    assert inspector["submitted"] == 6
    grades = inspector["grades"]
    # six graded people: the cell is shown, and each grade count is 0, 5 or more, or hidden (null)
    assert grades is not None and set(grades) == {"high", "medium", "low"}
    assert all(n is None or n == 0 or n >= 5 for n in grades.values())
    assert any(n is None for n in grades.values()) or sum(grades.values()) == 6
    other = await figures("inspector2")
    assert other is not None and other["participants"] == 0 and other["grades"] is None
