"""Broadcasts: an admin tells units, roles or people, now or at a time; recipients read it; the admin
reminds those who have not and sees who read it."""

from __future__ import annotations

from datetime import timedelta

from backend.kernel.timeutil import utcnow
from tests.delivery.conftest import World, new_browser
from tests.delivery.fakes import FakePushService


async def units(client, h) -> dict[str, int]:
    return {u["code"]: u["id"] for u in (await client.get("/api/units", headers=h)).json()}


async def test_a_broadcast_to_a_station_reaches_its_people_who_read_it_and_the_admin_sees_who(
    client, sessions, world: World, push: FakePushService
):
    admin = await sessions.headers("admin")
    u = await units(client, admin)
    manager = await world.person("E0005")
    phone = new_browser(push, "phone")
    await world.subscribe(manager, phone)

    r = await client.post(
        "/api/broadcasts",
        headers=admin,
        json={
            "title": "节前廉洁提醒",
            "body": "国庆中秋将至，请严守纪律。",
            "link": "/#/lessons/3",
            "targets": {"unit_ids": [u["C01-S1"]]},
        },
    )
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["state"] == "sent" and b["recipients"] >= 2

    async with world.worker() as worker:
        await worker.step()
    [got] = push.received
    body = phone.decrypt(got.body)
    assert body["url"] == f"https://probity.test/#/broadcasts/{b['id']}"
    assert "节前" not in body["body"]  # the title stays home unless the channel's detail setting is on

    # recipients see it, others do not
    manager_h = await sessions.headers("manager")
    assert [x["id"] for x in (await client.get("/api/broadcasts", headers=manager_h)).json()] == [b["id"]]
    assert (
        (await client.get(f"/api/broadcasts/{b['id']}", headers=manager_h)).json()["body"].startswith("国庆")
    )
    outsider = await sessions.headers("manager2")
    assert (await client.get(f"/api/broadcasts/{b['id']}", headers=outsider)).status_code == 404
    assert (await client.get("/api/broadcasts", headers=outsider)).json() == []
    assert (await client.post(f"/api/broadcasts/{b['id']}/read", headers=outsider)).status_code == 404

    r = await client.post(f"/api/broadcasts/{b['id']}/read", headers=manager_h)
    assert r.status_code == 200 and r.json()["read_at"] is not None

    stats = (await client.get(f"/api/broadcasts/{b['id']}/stats", headers=admin)).json()
    assert stats["read"] == 1 and stats["unread"] == stats["recipients"] - 1
    assert manager not in stats["unread_person_ids"]
    assert stats["by_unit"][0]["unit_code"] == "C01-S1"
    assert stats["delivered_by_channel"] == {"webpush": 1}

    # remind those who have not read it: the reader is left alone
    r = await client.post(f"/api/broadcasts/{b['id']}/remind", headers=admin)
    assert r.status_code == 200 and r.json()["reminded"] == stats["unread"]
    inbox = (await client.get("/api/notifications", headers=manager_h)).json()
    assert [n["kind"] for n in inbox["items"]] == ["broadcast"]
    head_inbox = (await client.get("/api/notifications", headers=await sessions.headers("head"))).json()
    assert [n["kind"] for n in head_inbox["items"]][:2] == ["broadcast.reminder", "broadcast"]

    # reading the reminder counts as reading the broadcast
    head_h = await sessions.headers("head")
    reminder = head_inbox["items"][0]["id"]
    assert (await client.post(f"/api/notifications/{reminder}/read", headers=head_h)).status_code == 204
    after = (await client.get(f"/api/broadcasts/{b['id']}/stats", headers=admin)).json()
    assert after["read"] == 2


async def test_roles_within_units_and_named_people(client, sessions, world: World):
    admin = await sessions.headers("admin")
    u = await units(client, admin)
    manager2 = await world.person("E0006")
    r = await client.post(
        "/api/broadcasts",
        headers=admin,
        json={
            "title": "督办通知",
            "body": "请各所负责人…",
            "targets": {"unit_ids": [u["C01"], u["C02"]], "roles": ["head"], "person_ids": [manager2]},
        },
    )
    assert r.status_code == 201, r.text
    stats = (await client.get(f"/api/broadcasts/{r.json()['id']}/stats", headers=admin)).json()
    heads = {await world.person("E0004"), await world.person("E0008")}
    assert heads | {manager2} <= set(stats["unread_person_ids"])
    assert await world.person("E0005") not in stats["unread_person_ids"]


async def test_a_scheduled_broadcast_goes_out_when_its_time_comes_or_can_be_cancelled(
    client, sessions, world: World
):
    admin = await sessions.headers("admin")
    u = await units(client, admin)
    at = utcnow() + timedelta(hours=2)
    body = {
        "title": "廉政三分钟",
        "body": "第 12 期",
        "targets": {"unit_ids": [u["C01-S1"]]},
        "send_at": at.isoformat(),
    }
    first = (await client.post("/api/broadcasts", headers=admin, json=body)).json()
    second = (await client.post("/api/broadcasts", headers=admin, json=body)).json()
    assert first["state"] == "scheduled" and first["recipients"] == 0
    assert (await client.post(f"/api/broadcasts/{first['id']}/remind", headers=admin)).json()["code"] == (
        "broadcast_not_sent"
    )
    assert (await client.post(f"/api/broadcasts/{second['id']}/cancel", headers=admin)).json()[
        "state"
    ] == "cancelled"
    again = await client.post(f"/api/broadcasts/{second['id']}/cancel", headers=admin)
    assert again.status_code == 409

    async with world.worker() as worker:
        assert (await worker.step(now=at - timedelta(minutes=1))).released == 0
        assert (await worker.step(now=at + timedelta(seconds=1))).released == 1
        assert (await worker.step(now=at + timedelta(seconds=2))).released == 0
    sent = (await client.get(f"/api/broadcasts/{first['id']}", headers=admin)).json()
    assert sent["state"] == "sent" and sent["recipients"] >= 2
    cancelled = (await client.get(f"/api/broadcasts/{second['id']}", headers=admin)).json()
    assert cancelled["state"] == "cancelled"


async def test_bad_broadcasts_are_refused_whole(client, sessions):
    admin = await sessions.headers("admin")
    base = {"title": "t", "body": "b"}
    cases = [
        ({**base, "targets": {}}, "empty_target"),
        ({**base, "targets": {"unit_ids": [], "roles": [], "person_ids": []}}, "empty_target"),
        ({**base, "targets": {"roles": ["wizard"]}}, "unknown_role"),
        ({**base, "targets": {"unit_ids": [999999]}}, "unknown_unit"),
        ({**base, "targets": {"person_ids": [999999]}}, "unknown_person"),
        ({**base, "targets": {"unit_ids": [1], "roles": ["committee"], "bogus": 1}}, "invalid_request"),
        ({**base, "link": "javascript:alert(1)", "targets": {"roles": ["head"]}}, "invalid_request"),
        ({"title": "", "body": "b", "targets": {"roles": ["head"]}}, "invalid_request"),
    ]
    for body, code in cases:
        r = await client.post("/api/broadcasts", headers=admin, json=body)
        assert r.status_code == 400 and r.json()["code"] == code, (body, r.text)
    # targets that exist but match nobody (no committee member works at a station)
    station = (await units(client, admin))["C01-S1"]
    nobody = {**base, "targets": {"unit_ids": [station], "roles": ["committee"]}}
    r = await client.post("/api/broadcasts", headers=admin, json=nobody)
    assert r.status_code == 400 and r.json()["code"] == "empty_target", r.text
    assert (await client.get("/api/broadcasts", headers=admin)).json() == []
