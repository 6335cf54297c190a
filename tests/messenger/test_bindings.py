"""People ↔ WeCom user ids: the people import's ``wecom_userid`` column, or a look-up by mobile
number through WeCom's API, each with a report of who could not be matched; and what a person
sees of their binding (PWA 我的)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.delivery.models import PersonChannel
from backend.org.models import Person
from tests.messenger.conftest import WeComWorld

HEADER = "employee_no,name,unit_code,post_code,started_in_post,phone,roles,wecom_userid\n"


async def user_ids(world: WeComWorld) -> dict[str, str]:
    async with world.db.session() as s:
        rows = await s.execute(
            select(Person.employee_no, PersonChannel.address)
            .join(PersonChannel, col(PersonChannel.person_id) == col(Person.id))
            .where(col(PersonChannel.channel) == "wecom")
        )
        return {str(no): str(address) for no, address in rows.all()}


async def test_the_people_import_takes_a_wecom_user_id_column(world: WeComWorld) -> None:
    await world.set_up(bind={})
    csv = (
        HEADER + "N001,甲乙,C01-S1,CM,2023-05-06,13900001111,employee,jiayi\n"
        "N002,丙丁,C01-S2,MI,2024/01/02,,employee,\n"
        "N003,戊己,C01-S2,MI,2024/01/02,,employee,bad user id!\n"
    ).encode()
    admin = await world.sessions.headers("admin")
    r = await world.client.post(
        "/api/org/import/people", files={"data": ("people.csv", csv, "text/csv")}, headers=admin
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 3
    assert report["notes"]["wecom"]["matched"] == 1
    assert report["notes"]["wecom"]["unmatched"] == [{"employee_no": "N003", "reason": "invalid_user_id"}]
    assert (await user_ids(world)) == {"N001": "jiayi"}

    again = await world.client.post(
        "/api/org/import/people", files={"data": ("people.csv", csv, "text/csv")}, headers=admin
    )
    assert again.json()["notes"]["wecom"]["unchanged"] == 1 and again.json()["notes"]["wecom"]["matched"] == 0

    dry = await world.client.post(
        "/api/org/import/people",
        files={"data": ("people.csv", csv.replace(b"jiayi", b"other"), "text/csv")},
        params={"dry_run": "true"},
        headers=admin,
    )
    assert dry.status_code == 200 and not dry.json()["notes"]
    assert (await user_ids(world)) == {"N001": "jiayi"}, "a dry run binds nobody"


async def test_matching_by_mobile_reports_who_could_not_be_matched(world: WeComWorld) -> None:
    app_id = await world.set_up(bind={"E0004": "lisi"})
    async with world.db.session() as s:
        phones = {p.employee_no: p.phone for p in (await s.execute(select(Person))).scalars()}
        total = len(phones)
        no_phone = (await s.execute(select(Person).where(col(Person.employee_no) == "E0006"))).scalar_one()
        no_phone.phone = None
        await s.commit()
    world.fake.mobiles = {phones["E0005"]: "zhangsan", phones["E0003"]: "zhaoliu"}
    admin = await world.sessions.headers("admin")
    r = await world.client.post(f"/api/messenger/apps/{app_id}/match-by-mobile", headers=admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["matched"] == 2 and report["unchanged"] == 1
    unmatched = {u["employee_no"]: u["reason"] for u in report["unmatched"]}
    assert unmatched["E0006"] == "no_mobile"
    assert unmatched["E0001"] == "not_in_messenger"
    assert len(unmatched) == total - 3
    bound = await user_ids(world)
    assert bound["E0005"] == "zhangsan" and bound["E0003"] == "zhaoliu" and bound["E0004"] == "lisi"
    # every look-up went through the token, and the token was fetched once
    assert world.fake.tokens_issued == 1
    assert len(world.fake.of("/cgi-bin/user/getuserid")) == total - 2

    assert (
        await world.client.post(
            f"/api/messenger/apps/{app_id}/match-by-mobile", headers=await world.sessions.headers("manager")
        )
    ).status_code == 403


async def test_a_person_sees_their_messenger_binding(world: WeComWorld) -> None:
    await world.set_up(bind={"E0005": "zhangsan"})
    mine = (
        await world.client.get("/api/messenger/me", headers=await world.sessions.headers("manager"))
    ).json()
    wecom = next(b for b in mine if b["provider"] == "wecom")
    assert wecom == {
        "provider": "wecom",
        "available": True,
        "bound": True,
        "refused": False,
        "user_id": "zhangsan",
    }
    head = (await world.client.get("/api/messenger/me", headers=await world.sessions.headers("head"))).json()
    assert next(b for b in head if b["provider"] == "wecom")["bound"] is False


async def test_app_secrets_are_sealed_and_never_shown(world: WeComWorld) -> None:
    from backend.messenger.models import MessengerApp
    from tests.messenger.fake_wecom import AES_KEY, SECRET, TOKEN

    await world.set_up()
    listed = await world.client.get("/api/messenger/apps", headers=await world.sessions.headers("admin"))
    text = listed.text
    assert listed.status_code == 200 and listed.json()[0]["secret_set"] is True
    assert SECRET not in text and TOKEN not in text and AES_KEY not in text
    async with world.db.session() as s:
        row = (await s.execute(select(MessengerApp))).scalar_one()
    stored = " ".join(str(v) for v in row.model_dump().values())
    assert SECRET not in stored and TOKEN not in stored and AES_KEY not in stored
    assert (
        await world.client.get("/api/messenger/apps", headers=await world.sessions.headers("manager"))
    ).status_code == 403


async def test_a_user_id_wecom_does_not_know_is_marked_refused(world: WeComWorld) -> None:
    await world.set_up(bind={"E0005": "left-the-company"})
    await world.seed.warning("E0005", level="low")
    await world.drain()
    assert not world.cards_to("left-the-company")
    async with world.db.session() as s:
        row = (
            await s.execute(select(PersonChannel).where(col(PersonChannel.address) == "left-the-company"))
        ).scalar_one()
    assert row.refused_at is not None, "the address is not tried again"
    mine = (
        await world.client.get("/api/messenger/me", headers=await world.sessions.headers("manager"))
    ).json()
    assert next(b for b in mine if b["provider"] == "wecom")["refused"] is True


async def test_app_settings_are_checked(world: WeComWorld) -> None:
    admin = await world.sessions.headers("admin")
    unit = await world.unit_id("C01")
    base = {"corp_id": "wwx", "agent_id": "1"}
    no_secret = await world.client.put(f"/api/messenger/units/{unit}/wecom", json=base, headers=admin)
    assert no_secret.status_code == 400 and no_secret.json()["code"] == "secret_required"
    bad_key = await world.client.put(
        f"/api/messenger/units/{unit}/wecom", json={**base, "secret": "s", "aes_key": "!" * 43}, headers=admin
    )
    assert bad_key.status_code == 400 and bad_key.json()["code"] == "invalid_aes_key"
    bad_host = await world.client.put(
        f"/api/messenger/units/{unit}/wecom",
        json={**base, "secret": "s", "api_base": "ftp://x"},
        headers=admin,
    )
    assert bad_host.status_code == 400 and bad_host.json()["code"] == "invalid_url"
    no_key = await world.client.put(
        f"/api/messenger/units/{unit}/dingtalk", json={**base, "secret": "s"}, headers=admin
    )
    assert no_key.status_code == 400 and no_key.json()["code"] == "app_key_required"
    # a DingTalk app has no WeCom callback door
    made = await world.client.put(
        f"/api/messenger/units/{unit}/dingtalk", json={**base, "secret": "s", "app_key": "k"}, headers=admin
    )
    assert made.status_code == 200 and made.json()["callback_path"] is None
    query = world.fake.verification("1")
    r = await world.client.get(f"/messenger/dingtalk/{made.json()['id']}/callback", params=query)
    assert r.status_code == 404
