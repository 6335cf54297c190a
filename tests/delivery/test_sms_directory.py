"""SMS goes to the mobile number of the people import unless the person set another SMS address."""

from __future__ import annotations

import json

from backend.delivery.models import Delivery, PersonChannel
from backend.delivery.service import DeliveryService
from backend.org.importer import OrgImporter
from backend.org.service import OrgService
from tests.delivery.conftest import ADMIN, TRAIL, World
from tests.delivery.fakes import HttpReceiver
from tests.delivery.test_channels import rows

PEOPLE = "employee_no,name,unit_code,post_code,phone\nE0005,客户经理甲,C01-S1,CM,138 0013-8005\n"


async def imported(world: World, csv: str = PEOPLE) -> None:
    async with world.db.session() as s:
        report = await OrgImporter(OrgService(s, TRAIL), world.settings).import_people(
            "people.csv", csv.encode(), ADMIN
        )
    assert not report.errors, report


async def sms_to(receiver: HttpReceiver) -> list[str]:
    return [json.loads(body)["phone"] for body in receiver.bodies("/sms")]


async def test_sms_goes_to_the_imported_mobile_number_unless_the_person_set_another(
    world: World, patch_apprise: HttpReceiver
) -> None:
    manager = await world.person("E0005")
    await imported(world)
    await world.policy("P00", "sms", url=f"json://127.0.0.1:{patch_apprise.port}/sms?:phone={{address}}")
    await world.order(manager, ["sms"])

    # no SMS address of their own: the directory's number (spaces and dashes dropped)
    async with world.db.session() as s:
        mine = await DeliveryService(s, TRAIL, world.settings).mine(manager)
    assert mine.sms_from_directory == "13800138005"
    await world.event({manager: "subject"}, subject_id=1)
    async with world.worker() as worker:
        await worker.drain()
    assert await sms_to(patch_apprise) == ["13800138005"]

    # their own number wins
    await world.address(manager, "sms", "13900000555")
    await world.event({manager: "subject"}, subject_id=2)
    async with world.worker() as worker:
        await worker.drain()
    assert (await sms_to(patch_apprise))[-1] == "13900000555"

    # switched off by the person: no SMS at all, not even to the directory's number
    async with world.db.session() as s:
        [row] = [c for c in await rows(world, PersonChannel) if c.channel == "sms"]
        row.enabled = False
        s.add(row)
        await s.commit()
    await world.event({manager: "subject"}, subject_id=3)
    async with world.worker() as worker:
        await worker.drain()
    assert len(await sms_to(patch_apprise)) == 2
    assert [d.channel for d in await rows(world, Delivery)] == ["sms", "sms"]


async def test_no_directory_number_no_sms(world: World, patch_apprise: HttpReceiver) -> None:
    manager = await world.person("E0005")
    await imported(world, PEOPLE.replace("138 0013-8005", ""))
    await world.policy("P00", "sms", url=f"json://127.0.0.1:{patch_apprise.port}/sms?:phone={{address}}")
    await world.order(manager, ["sms"])
    await world.event({manager: "subject"})
    async with world.worker() as worker:
        await worker.drain()
    assert await sms_to(patch_apprise) == []
