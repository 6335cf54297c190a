"""Who may act over a person (GET /api/people/{id}/overseers): heads up the unit chain, inspectors
whose subtree holds the person's unit, committee members; active only, the person left out, and
only for callers who may see the person."""

from __future__ import annotations

from typing import Any


async def ids(client: Any, sessions: Any) -> dict[str, int]:
    """employee_no → person id, read by the committee (who sees everyone)."""
    headers = await sessions.headers("committee")
    page = (await client.get("/api/people", params={"limit": 500}, headers=headers)).json()
    return {p["employee_no"]: p["id"] for p in page["items"]}


async def overseers(client: Any, headers: dict[str, str], person_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/people/{person_id}/overseers", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def reasons(got: list[dict[str, Any]], people: dict[str, int]) -> list[tuple[str, str]]:
    """(employee_no, role) of each overseer, in the order given."""
    numbers = {person_id: no for no, person_id in people.items()}
    return [(numbers[o["id"]], o["role"]) for o in got]


async def test_overseers_of_a_customer_manager(client, sessions):
    people = await ids(client, sessions)
    got = await overseers(client, await sessions.headers("head"), people["E0005"])
    # the station's head, the county's inspector, the committee member; nearest reason first
    assert reasons(got, people) == [("E0004", "head"), ("E0003", "inspector"), ("E0002", "committee")]
    assert set(got[0]) == {"id", "name", "post_name", "unit_name", "role"}  # no phone, no employee_no
    assert got[0]["unit_name"] == "城关供电所" and got[0]["post_name"] == "供电所所长"
    assert got[1]["unit_name"] == "东湖县供电公司" and got[1]["post_name"] == "纪检监察专责"
    left_out = {
        people[n]
        for n in (
            "E0001",  # admin at the company: no overseeing role
            "E0005",  # the person
            "E0007",  # inspector of the other county
            "E0008",  # head of a station in the other county
            "E0009",  # head of a sibling department, not above the station
        )
    }
    assert not left_out & {o["id"] for o in got}
    # the manager may read their own list; the inspector and admin the same list
    for who in ("manager", "inspector", "admin"):
        assert await overseers(client, await sessions.headers(who), people["E0005"]) == got


async def test_the_person_is_not_their_own_overseer_and_scope_follows_the_unit_tree(client, sessions):
    people = await ids(client, sessions)
    of_head = await overseers(client, await sessions.headers("inspector"), people["E0004"])
    assert reasons(of_head, people) == [("E0003", "inspector"), ("E0002", "committee")]
    of_other = await overseers(client, await sessions.headers("committee"), people["E0006"])
    assert reasons(of_other, people) == [("E0008", "head"), ("E0007", "inspector"), ("E0002", "committee")]


async def test_heads_above_the_unit_count_and_inactive_people_do_not(client, sessions):
    people = await ids(client, sessions)
    admin = await sessions.headers("admin")
    county_head = {"employee_no": "X77", "name": "县公司负责人", "unit_code": "C01", "roles": ["head"]}
    made = await client.post("/api/people", json=county_head, headers=admin)
    assert made.status_code == 201, made.text
    people["X77"] = made.json()["id"]
    off = await client.patch(f"/api/people/{people['E0003']}", json={"active": False}, headers=admin)
    assert off.status_code == 200, off.text
    got = await overseers(client, await sessions.headers("committee"), people["E0005"])
    # the station's head before the county's; the inspector, now inactive, is gone
    assert reasons(got, people) == [("E0004", "head"), ("X77", "head"), ("E0002", "committee")]
    assert got[1]["unit_name"] == "东湖县供电公司"


async def test_a_person_out_of_scope_answers_404(client, sessions):
    people = await ids(client, sessions)
    for who, person in (
        ("head", "E0006"),  # another county
        ("inspector", "E0006"),
        ("manager", "E0004"),  # an employee sees only themselves
        ("head", "E0110"),  # the neighbouring station
    ):
        response = await client.get(
            f"/api/people/{people[person]}/overseers", headers=await sessions.headers(who)
        )
        assert response.status_code == 404, (who, person, response.text)
        assert response.json()["code"] == "person_not_found"
    missing = await client.get("/api/people/999999/overseers", headers=await sessions.headers("committee"))
    assert missing.status_code == 404 and missing.json()["code"] == "person_not_found"
    anonymous = await client.get(f"/api/people/{people['E0005']}/overseers")
    assert anonymous.status_code == 401
