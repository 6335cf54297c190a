"""From the lifecycle's real ``announce()`` to the phones: a warning raised for the manager is
pushed to the manager, their head and the inspectors by tier, and the payloads stay minimal."""

from __future__ import annotations

from sqlalchemy import select

from backend.delivery.models import DeliveryRoute
from backend.org.service import OrgService
from backend.warnings.models import Level, Warning
from backend.warnings.routing import announce
from tests.delivery.conftest import TRAIL, World, new_browser
from tests.delivery.fakes import Browser, FakePushService

DEMO = {
    "admin": "E0001",
    "committee": "E0002",
    "inspector": "E0003",
    "head": "E0004",
    "manager": "E0005",
    "manager2": "E0006",
    "inspector2": "E0007",
    "head2": "E0008",
    "expert": "E0009",
}
#: what a rule run stores with a hit: none of it may leave for a push service
MARKERS = ("CUST-MARKER-7731", "METER-MARKER-5512", "王大明-MARKER", "evidence-marker-9001")
MINIMAL = {"title", "body", "url", "tag", "level", "count", "due", "keys"}


async def raise_and_announce(world: World, employee_no: str, level: Level) -> int:
    """A warning inserted as a rule run inserts it, then announced in the same transaction."""
    async with world.db.session() as s:
        person = await OrgService(s, TRAIL).person_by_no(employee_no)
        assert person is not None and person.id is not None
        w = Warning(
            topic_id=1,
            topic_code="T01",
            rule_version_id=1,
            specialty="marketing",
            level=level,
            person_id=person.id,
            unit_id=person.unit_id,
            object_key=MARKERS[0],
            period_key="2026-11",
            evidence={"meter": MARKERS[1], "customer_name": MARKERS[2], "note": MARKERS[3]},
        )
        s.add(w)
        await s.flush()
        assert w.id is not None
        assert await announce(s, TRAIL, [w.id]) == 1
        await s.commit()
        return w.id


async def phones(world: World, push: FakePushService) -> dict[str, Browser]:
    out = {}
    for role, employee_no in DEMO.items():
        out[role] = new_browser(push, role)
        await world.subscribe(await world.person(employee_no), out[role])
    return out


async def test_a_red_warning_for_the_manager_rings_manager_head_and_inspector_with_minimal_payloads(
    world: World, push: FakePushService
):
    devices = await phones(world, push)
    warning_id = await raise_and_announce(world, "E0005", Level.high)

    async with world.worker() as worker:
        report = await worker.step()
    assert report.sent == report.claimed == 3

    reached = {r.path: devices[r.path].decrypt(r.body) for r in push.received}
    assert sorted(reached) == ["head", "inspector", "manager"]  # nobody in the other county
    async with world.db.session() as s:
        routes = list((await s.execute(select(DeliveryRoute))).scalars())
    assert {r.state for r in routes} == {"delivered"} and len(routes) == 3
    event_id = routes[0].event_id
    for role, body in reached.items():
        person = await world.person(DEMO[role])
        assert set(body) == MINIMAL
        assert (body["level"], body["count"]) == ("high", 1)
        assert body["url"] == f"https://probity.test/#/warnings/{warning_id}"
        assert body["tag"] == f"e{event_id}:p{person}:webpush"
        assert body["due"] is not None  # the deadline announce() set
    for got in push.received:
        text = repr(devices[got.path].decrypt(got.body)) + repr(got.headers)
        assert not any(marker in text for marker in MARKERS)
        assert "T01" not in text  # the topic only with the channel's detail setting on
        assert got.headers["urgency"] == "high"


async def test_an_orange_warning_rings_the_manager_and_head_but_not_the_inspector(
    world: World, push: FakePushService
):
    await phones(world, push)
    await raise_and_announce(world, "E0005", Level.medium)
    async with world.worker() as worker:
        await worker.drain()
    assert sorted(r.path for r in push.received) == ["head", "manager"]
    assert {r.headers["urgency"] for r in push.received} == {"normal"}
