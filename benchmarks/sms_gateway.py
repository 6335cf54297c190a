"""People reached by SMS through a JSON gateway (Apprise ``json://``), for the delivery benchmarks.

The gateway is the fake push service's ``POST /sms`` (``benchmarks/fake_push_service.py``): it
counts messages by their ``Idempotency-Key`` and remembers which keys each phone number was sent,
so a benchmark can tell a repeat on the wire (same key: a gateway drops it) from a person told twice
(different keys: nobody can drop it)."""

from __future__ import annotations

from sqlalchemy import select

from backend.audit.service import AuditTrail
from backend.auth.service import make_hasher
from backend.delivery.models import AddressUpdate, ChannelConfigUpdate, DeliveryChannel, PreferenceUpdate
from backend.delivery.service import DeliveryService
from backend.demo.org import load_demo_org
from backend.kernel.access import Actor
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.org.models import PersonCreate, Unit
from backend.org.service import OrgService

ACTOR = Actor.system(label="benchmark")


async def demo_org_database(settings: Settings, secret: str) -> tuple[Database, AuditTrail]:
    """The benchmark's database migrated and holding the demo organisation (dispose it after)."""
    db, trail = Database(settings), AuditTrail(secret)
    await db.upgrade()
    async with db.session() as s:
        await load_demo_org(s, settings, trail, make_hasher(settings))
    return db, trail


async def new_person(org: OrgService, prefix: str, n: int) -> int:
    """Benchmark person ``n`` (a customer manager of station C01-S1), not yet committed; its id."""
    person = await org.create_person(
        PersonCreate(employee_no=f"{prefix}{n:06d}", name=f"Bench {n}", unit_code="C01-S1", post_code="CM"),
        ACTOR,
        commit=False,
    )
    assert person.id is not None
    return person.id


async def populate_sms(settings: Settings, secret: str, gateway_port: int, people: int) -> list[int]:
    """Demo org; ``people`` people with a phone number and SMS as their only channel; the whole
    company's SMS channel is the gateway. Returns the people's ids."""
    db, trail = await demo_org_database(settings, secret)
    try:
        async with db.session() as s:
            company = (await s.execute(select(Unit.id).where(Unit.code == "P00"))).scalar_one()
            url = f"json://127.0.0.1:{gateway_port}/sms?:phone={{address}}"
            await DeliveryService(s, trail, settings).put_config(
                ACTOR, company, DeliveryChannel.sms, ChannelConfigUpdate(url=url)
            )
        ids: list[int] = []
        for start in range(0, people, 500):
            async with db.session() as s:
                org, delivery = OrgService(s, trail), DeliveryService(s, trail, settings)
                ids += [await new_person(org, "S", n) for n in range(start, min(people, start + 500))]
                await s.commit()
                for person_id in ids[start:]:
                    await delivery.set_address(
                        ACTOR, person_id, DeliveryChannel.sms, AddressUpdate(address=f"139{person_id:08d}")
                    )
                    await delivery.update_preferences(
                        ACTOR, person_id, PreferenceUpdate.model_validate({"channel_order": ["sms"]})
                    )
        return ids
    finally:
        await db.dispose()
