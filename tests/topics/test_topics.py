from __future__ import annotations

from datetime import timedelta

from backend.engine.models import RunStatus
from backend.engine.service import EngineService
from backend.kernel.timeutil import utcnow
from backend.topics.models import TopicState
from tests.engine.helpers import ZERO_DAYS_SQL, add_runs, run, trail, zero_usage_topic

B3 = {
    "code": "MK-010",
    "name": "Basic fee under-collected",
    "specialty": "marketing",
    "target": "10 kV customers",
    "risk_point": "basic fee waived for favours",
    "handling_post": "customer manager",
    "rule_text": "billed basic fee below capacity x tariff",
    "threshold_text": "high < 50 %, medium < 70 %, low < 90 %",
    "formula": "billed / (capacity * tariff)",
    "data_fields": "account, capacity, tariff, billed",
    "data_source": "marketing system",
    "monitoring_period": "monthly",
    "data_range": "12 months",
    "stars": 5,
}
RULE = {
    "sql": ZERO_DAYS_SQL,
    "params": {"max_kwh": 0},
    "thresholds": {"measure": "zero_days", "direction": "above", "high": 3, "medium": 2, "low": 1},
}


async def test_a_topic_keeps_every_b3_field(client, sessions):
    admin = await sessions.headers("admin")
    created = await client.post("/api/topics", json=B3, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in B3} == B3
    assert body["state"] == "proposed" and body["current_version"] is None
    too_many_stars = await client.post(
        "/api/topics", json={**B3, "code": "MK-011", "stars": 6}, headers=admin
    )
    assert too_many_stars.status_code == 400
    unknown_field = await client.post(
        "/api/topics", json={**B3, "code": "MK-012", "colour": "red"}, headers=admin
    )
    assert unknown_field.status_code == 400
    assert (await client.post("/api/topics", json=B3, headers=admin)).json()["code"] == "duplicate_topic"
    as_manager = await client.post(
        "/api/topics", json={**B3, "code": "MK-013"}, headers=await sessions.headers("manager")
    )
    assert as_manager.status_code == 403
    patched = await client.patch(f"/api/topics/{body['id']}", json={"stars": 2}, headers=admin)
    assert patched.json()["stars"] == 2
    audit = await client.get(
        "/api/audit", params={"object_type": "topic"}, headers=await sessions.headers("committee")
    )
    actions = [r["action"] for r in reversed(audit.json()["items"])]
    assert actions[-2:] == ["topic.create", "topic.update"]


async def test_state_machine(client, sessions, db, settings):
    from tests.data.factories import declare_readings

    await declare_readings(db, settings)
    admin = await sessions.headers("admin")
    topic = (await client.post("/api/topics", json=B3, headers=admin)).json()
    url = f"/api/topics/{topic['id']}"
    skip = await client.post(f"{url}/transition", json={"to": "online"}, headers=admin)
    assert skip.status_code == 409 and skip.json()["code"] == "bad_transition"
    no_rule = await client.post(f"{url}/transition", json={"to": "validating"}, headers=admin)
    assert no_rule.status_code == 409 and no_rule.json()["code"] == "no_rule"
    rule = await client.put(f"{url}/rule", json=RULE, headers=admin)
    assert rule.status_code == 200 and rule.json()["number"] == 1
    for state in ("validating", "online", "retired"):
        moved = await client.post(f"{url}/transition", json={"to": state}, headers=admin)
        assert moved.status_code == 200 and moved.json()["state"] == state
    offline = (
        await client.post("/api/topics", json={**B3, "code": "EN-6", "offline": True}, headers=admin)
    ).json()
    online = await client.post(
        f"/api/topics/{offline['id']}/transition", json={"to": "online"}, headers=admin
    )
    assert online.json()["state"] == "online"


async def test_a_version_that_raised_a_warning_is_never_edited(client, sessions, db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path)
    admin = await sessions.headers("admin")
    edited = await client.put(f"/api/topics/{topic_id}/rule", json=RULE, headers=admin)
    assert edited.status_code == 200 and edited.json()["number"] == 1  # nothing raised yet: edited in place
    await run(db, settings)
    frozen = await client.put(f"/api/topics/{topic_id}/rule", json=RULE, headers=admin)
    assert frozen.status_code == 409 and frozen.json()["code"] == "version_frozen"

    request = await client.post(
        f"/api/topics/{topic_id}/requests",
        json={
            "kind": "threshold_change",
            "reason": "too many yellows",
            "thresholds": {**RULE["thresholds"], "low": 2},
        },
        headers=await sessions.headers("head"),
    )
    assert request.status_code == 201, request.text
    decide_url = f"/api/topic-requests/{request.json()['id']}/decision"
    assert (
        await client.post(decide_url, json={"approve": True}, headers=await sessions.headers("head"))
    ).status_code == 403
    approved = await client.post(decide_url, json={"approve": True, "note": "ok"}, headers=admin)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert (await client.post(decide_url, json={"approve": True}, headers=admin)).json()[
        "code"
    ] == "request_decided"
    versions = (await client.get(f"/api/topics/{topic_id}/versions", headers=admin)).json()
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["thresholds"]["low"] == 1 and versions[0]["raised"]
    assert versions[1]["thresholds"]["low"] == 2 and not versions[1]["raised"]
    topic = (await client.get(f"/api/topics/{topic_id}", headers=admin)).json()
    assert topic["current_version"]["number"] == 2
    (second,) = await run(db, settings)
    assert (second.hits_low, second.warnings_created, second.warnings_updated) == (0, 0, 2)


async def test_a_topic_low_for_six_months_is_proposed_for_exit(client, sessions, db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, rows=[])
    now = utcnow()
    await add_runs(db, topic_id, (now - timedelta(days=200), RunStatus.done), hits_low=3)
    for days_ago in (100, 10):
        await add_runs(db, topic_id, (now - timedelta(days=days_ago), RunStatus.done), hits_low=1)
    async with db.session() as session:
        filed = await EngineService(session, trail(), settings).propose_retirements()
    assert len(filed) == 1
    async with db.session() as session:
        assert await EngineService(session, trail(), settings).propose_retirements() == []  # not twice
    admin = await sessions.headers("admin")
    approved = await client.post(
        f"/api/topic-requests/{filed[0]}/decision", json={"approve": True}, headers=admin
    )
    assert approved.status_code == 200
    assert (await client.get(f"/api/topics/{topic_id}", headers=admin)).json()["state"] == TopicState.retired


async def test_a_topic_with_a_medium_hit_is_not_proposed_for_exit(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, rows=[])
    now = utcnow()
    await add_runs(db, topic_id, (now - timedelta(days=200), RunStatus.done))
    await add_runs(db, topic_id, (now - timedelta(days=30), RunStatus.done), hits_medium=1)
    async with db.session() as session:
        assert await EngineService(session, trail(), settings).propose_retirements() == []
