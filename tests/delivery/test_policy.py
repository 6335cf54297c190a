"""Unit policies: a unit's default channel order and quiet hours reach the people in it and below
(the nearest unit up the tree wins), a person's own settings win over any unit's; set by admins
through the channel-policy API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.delivery.models import Delivery, DeliveryUnitPolicy
from backend.delivery.policy import resolve
from backend.kernel.timeutil import SHANGHAI, utcnow
from tests.delivery.conftest import World, new_browser
from tests.delivery.fakes import FakeBotApi, FakePushService


def rule(order=None, start=None, end=None) -> SimpleNamespace:
    return SimpleNamespace(channel_order=order, quiet_start=start, quiet_end=end)


def test_the_nearest_unit_wins_for_each_setting_and_the_person_wins_over_all():
    county, station = 2, 9
    units = {county: rule(["email", "webpush"], "22:00", "07:00"), station: rule(None, "23:00", "06:00")}

    got = resolve(None, [station, county, 1], units)
    assert got.order[:2] == ["email", "webpush"] and got.order_from == county
    assert (got.quiet_start, got.quiet_end, got.quiet_from) == ("23:00", "06:00", station)
    assert len(got.order) == 7  # the rest follow in the default order

    mine = resolve(rule(["telegram"], None, None), [station, county], units)
    assert mine.order[0] == "telegram" and mine.order_from is None
    assert mine.quiet_from == station  # what the person leaves unset still comes from the units

    none = resolve(rule([], "00:00", "00:00"), [station, county], units)
    assert (none.quiet_start, none.quiet_end, none.quiet_from) == (None, None, None)
    assert none.order_from == county  # an empty order is no order of one's own

    assert resolve(None, [99], units).order[0] == "webpush"  # no policy up the tree: the default


async def test_admins_set_a_units_order_and_quiet_hours_and_its_people_see_them(client, sessions, db):
    admin, manager = await sessions.headers("admin"), await sessions.headers("manager")
    me = (await client.get("/api/delivery/me", headers=manager)).json()
    assert me["effective"]["order_from_unit_id"] is None and me["own_channel_order"] is False
    units = {u["code"]: u["id"] for u in (await client.get("/api/units", headers=admin)).json()}
    c01, station = units["C01"], units["C01-S1"]

    r = await client.put(
        f"/api/delivery/units/{c01}/policy",
        headers=admin,
        json={"channel_order": ["telegram", "webpush"], "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["channel_order"][:2] == ["telegram", "webpush"]
    r = await client.put(
        f"/api/delivery/units/{station}/policy",
        headers=admin,
        json={"quiet_start": "23:00", "quiet_end": "06:00"},
    )
    body = r.json()
    assert body["channel_order"] is None  # the station sets no order of its own ...
    assert body["effective"]["channel_order"][0] == "telegram"  # ... so the county's applies
    assert body["effective"]["order_from_unit_id"] == c01
    assert body["effective"]["quiet_from_unit_id"] == station

    me = (await client.get("/api/delivery/me", headers=manager)).json()  # the manager works at C01-S1
    assert me["channel_order"][:2] == ["telegram", "webpush"] and me["own_channel_order"] is False
    assert (me["effective"]["quiet_start"], me["effective"]["quiet_end"]) == ("23:00", "06:00")
    assert me["quiet_start"] is None  # the manager's own: none set

    # the manager's own order wins; an empty order gives the choice back to the unit
    r = await client.put("/api/delivery/me/preferences", headers=manager, json={"channel_order": ["email"]})
    assert r.json()["channel_order"][0] == "email" and r.json()["own_channel_order"] is True
    r = await client.put("/api/delivery/me/preferences", headers=manager, json={"channel_order": []})
    assert r.json()["channel_order"][0] == "telegram" and r.json()["own_channel_order"] is False

    # null gives a setting back to the unit above
    r = await client.put(
        f"/api/delivery/units/{station}/policy", headers=admin, json={"quiet_start": None, "quiet_end": None}
    )
    assert (
        r.json()["effective"]["quiet_start"] == "22:00" and r.json()["effective"]["quiet_from_unit_id"] == c01
    )
    assert (await client.delete(f"/api/delivery/units/{station}/policy", headers=admin)).status_code == 204
    assert (await client.delete(f"/api/delivery/units/{station}/policy", headers=admin)).status_code == 404
    assert (
        await client.put(f"/api/delivery/units/{c01}/policy", headers=manager, json={})
    ).status_code == 403

    async with db.session() as s:
        actions = list(
            (
                await s.execute(
                    select(AuditRecord.action).where(AuditRecord.action.like("delivery.unit_policy%"))
                )
            ).scalars()
        )
    assert actions.count("delivery.unit_policy") == 3 and actions.count("delivery.unit_policy_removed") == 1


async def test_bad_unit_policies_are_refused_and_nothing_is_stored(client, sessions, db):
    admin = await sessions.headers("admin")
    units = {u["code"]: u["id"] for u in (await client.get("/api/units", headers=admin)).json()}
    url = f"/api/delivery/units/{units['C01']}/policy"
    for body, code in (
        ({"quiet_start": "22:00"}, "quiet_hours_incomplete"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, None),
        ({"channel_order": ["webpush", "webpush"]}, "duplicate_channel"),
        ({"channel_order": ["pigeon"]}, None),
        ({"channel_order": []}, None),
        ({"surprise": 1}, None),
    ):
        r = await client.put(url, headers=admin, json=body)
        assert r.status_code == 400, (body, r.text)
        if code:
            assert r.json()["code"] == code
    assert (await client.put("/api/delivery/units/999999/policy", headers=admin, json={})).status_code == 404
    async with db.session() as s:
        assert (await s.execute(select(DeliveryUnitPolicy))).first() is None


async def test_a_units_order_decides_the_first_channel_unless_the_person_has_their_own(
    world: World, push: FakePushService, bot_api: FakeBotApi
):
    manager, manager2 = await world.person("E0005"), await world.person("E0006")
    for person, name in ((manager, "m"), (manager2, "m2")):
        await world.subscribe(person, new_browser(push, name))
        await world.address(person, "telegram", str(5000 + person))
    world.with_telegram(bot_api)
    await world.unit_policy("C01", channel_order=["telegram", "webpush"])  # manager's county, not manager2's
    await world.event({manager: "subject", manager2: "subject"})

    async with world.worker() as worker:
        await worker.drain()
    assert [int(m["chat_id"]) for m in bot_api.sent] == [5000 + manager]
    assert [r.path for r in push.received] == ["m2"]  # the other county keeps the default order

    await world.order(manager, ["webpush", "telegram"])
    await world.event({manager: "subject"}, subject_id=2)
    async with world.worker() as worker:
        await worker.drain()
    assert [r.path for r in push.received] == ["m2", "m"] and len(bot_api.sent) == 1


async def test_a_units_quiet_hours_hold_orange_at_night_and_a_person_can_turn_them_off(
    world: World, push: FakePushService
):
    manager, head = await world.person("E0005"), await world.person("E0004")  # both at C01-S1
    await world.subscribe(manager, new_browser(push, "m"))
    await world.subscribe(head, new_browser(push, "h"))
    await world.unit_policy("C01", quiet_start="22:00", quiet_end="07:00")
    await world.order(head, [], quiet=("00:00", "00:00"))  # the head wants no quiet hours at all
    here = utcnow().astimezone(SHANGHAI)
    night = here.replace(hour=23, minute=30, second=0, microsecond=0)
    night = (night if night > here else night + timedelta(days=1)).astimezone(UTC)
    await world.event({manager: "subject", head: "head"}, level="medium")

    async with world.worker() as worker:
        report = await worker.step(now=night)
        assert report.sent == 1 and [r.path for r in push.received] == ["h"]
        morning = datetime.combine(night.astimezone(SHANGHAI).date() + timedelta(days=1), datetime.min.time())
        morning = morning.replace(hour=7, tzinfo=SHANGHAI).astimezone(UTC)
        async with world.db.session() as s:
            held = list((await s.execute(select(Delivery).where(Delivery.state == "pending"))).scalars())
        assert [d.next_attempt_at for d in held] == [morning]
        assert (await worker.step(now=morning)).sent == 1
    assert sorted(r.path for r in push.received) == ["h", "m"]
