"""The validation report (appendix D) and each topic's true rate come from verification verdicts."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.engine.service import EngineService
from backend.events.models import Event, EventRecipient
from backend.kernel.timeutil import utcnow
from backend.org.models import Person
from backend.topics.models import TopicState
from backend.warnings.models import Verification, Warning
from tests.engine.helpers import run, trail, zero_usage_topic


async def warning_ids(db) -> dict[str, Warning]:
    async with db.session() as s:
        return {w.object_key: w for w in (await s.execute(select(Warning))).scalars()}


def verification(warning: Warning, round_: int, result: str, decision: str | None = None) -> Verification:
    """A reply as the lifecycle stores it (trial warnings are checked offline by the expert group)."""
    return Verification(
        client_id=uuid.uuid4().hex,
        warning_id=warning.id,
        person_id=warning.person_id,
        round=round_,
        result=result,
        cause="checked on site",
        measures="billing corrected" if result == "true" else "",
        body_hash=uuid.uuid4().hex,
        channel="pwa",
        decision=decision,
    )


async def test_validation_report_counts_checked_and_true_from_the_latest_reply(
    client, sessions, db, settings, tmp_path
):
    topic_id = await zero_usage_topic(db, settings, tmp_path, state=TopicState.validating)
    await run(db, settings, "MK-ZERO")
    found = await warning_ids(db)
    assert all(w.trial for w in found.values())
    admin = await sessions.headers("admin")
    before = (await client.get(f"/api/rules/validation/{topic_id}", headers=admin)).json()
    assert (before["warnings"], before["checked"], before["true"], before["true_rate"]) == (3, 0, 0, None)
    async with db.session() as s:
        s.add(verification(found["A001"], 1, "true"))  # true
        s.add(verification(found["A002"], 1, "true", decision="returned"))
        s.add(verification(found["A002"], 2, "not_true"))  # the latest reply counts: not true
        s.add(verification(found["A003"], 1, "true", decision="returned"))  # awaiting a new reply
        await s.commit()
    report = (await client.get(f"/api/rules/validation/{topic_id}", headers=admin)).json()
    assert report["trial_runs"] == 1
    assert report["run_hits"] == {"high": 2, "medium": 1, "low": 1}  # A005's person is unknown
    assert report["by_level"] == {"high": 1, "medium": 1, "low": 1}
    assert {k: report[k] for k in ("warnings", "checked", "true", "not_true", "returned")} == {
        "warnings": 3,
        "checked": 2,
        "true": 1,
        "not_true": 1,
        "returned": 1,
    }
    assert report["true_rate"] == 0.5


async def test_precision_of_online_topics_follows_the_lifecycle(client, sessions, db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)
    await run(db, settings)
    found = await warning_ids(db)
    committee = await sessions.headers("committee")

    async def precision() -> dict:
        response = await client.get("/api/rules/precision", headers=committee)
        assert response.status_code == 200, response.text
        (topic,) = response.json()
        return topic

    first = await precision()
    assert (first["code"], first["warnings"], first["checked"], first["true_rate"]) == ("MK-ZERO", 3, 0, None)
    for user, key, result in (("manager", "A001", "true"), ("manager2", "A002", "not_true")):
        body = {
            "client_id": uuid.uuid4().hex,
            "result": result,
            "cause": "looked at the meter",
            "measures": "corrected" if result == "true" else "",
        }
        reply = await client.post(
            f"/api/warnings/{found[key].id}/verifications", json=body, headers=await sessions.headers(user)
        )
        assert reply.status_code == 201, reply.text
    second = await precision()
    assert (second["checked"], second["true"], second["not_true"], second["true_rate"]) == (2, 1, 1, 0.5)
    returned = await client.post(
        f"/api/warnings/{found['A001'].id}/return",
        json={"reason": "no photo of the meter"},
        headers=await sessions.headers("head"),
    )
    assert returned.status_code == 200, returned.text
    third = await precision()
    assert (third["checked"], third["true"], third["returned"], third["true_rate"]) == (1, 0, 1, 0.0)
    for user in ("inspector", "manager"):
        refused = await client.get("/api/rules/precision", headers=await sessions.headers(user))
        assert refused.status_code == 403


async def test_trial_verdicts_do_not_count_in_the_live_true_rate(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path, state=TopicState.validating)
    await run(db, settings, "MK-ZERO")
    found = await warning_ids(db)
    async with db.session() as s:
        s.add(verification(found["A001"], 1, "true"))
        await s.commit()
    async with db.session() as session:
        engine = EngineService(session, trail(), settings)
        assert await engine.precision() == []  # validating: not online yet
        report = await engine.validation_report(found["A001"].topic_id)
    assert (report["checked"], report["true_rate"]) == (1, 1.0)


async def test_experts_get_the_trial_hits_and_record_verdicts_from_the_clue_sheet(
    client, sessions, db, settings, tmp_path
):
    topic_id = await zero_usage_topic(db, settings, tmp_path, state=TopicState.validating)
    (record,) = await run(db, settings, "MK-ZERO")
    async with db.session() as s:
        events = (await s.execute(select(Event).where(Event.kind == "topic.trial_hits"))).scalars().all()
        told = set((await s.execute(select(EventRecipient.person_id))).scalars())
        experts = {p.id for p in (await s.execute(select(Person))).scalars() if "expert" in (p.roles or [])}
        responsible = {w.person_id for w in (await s.execute(select(Warning))).scalars()}
    assert [(e.subject_id, e.level, e.data["run_id"], e.data["hits"]) for e in events] == [
        (topic_id, "high", record.id, 3)
    ]
    assert experts and told == experts and not told & responsible  # experts only
    expert = await sessions.headers("expert")
    sheet = (await client.get(f"/api/rules/validation/{topic_id}/hits", headers=expert)).json()
    assert sheet["total"] == 3
    assert [(i["object_key"], i["level"], i["employee_no"], i["verdict"]) for i in sheet["items"]] == [
        ("A001", "high", "E0005", None),
        ("A002", "medium", "E0006", None),
        ("A003", "low", "E0101", None),
    ]
    ids = {i["object_key"]: i["warning_id"] for i in sheet["items"]}

    async def verdict(key: str, result: str, headers=expert, topic=topic_id):
        return await client.post(
            f"/api/rules/validation/{topic}/hits/{ids[key]}/verdict",
            json={"result": result, "note": "checked the meter log"},
            headers=headers,
        )

    assert (await verdict("A001", "true")).json()["verdict"] == "true"
    assert (await verdict("A002", "not_true")).status_code == 200
    report = (await client.get(f"/api/rules/validation/{topic_id}", headers=expert)).json()
    assert (report["checked"], report["true"], report["true_rate"]) == (2, 1, 0.5)
    again = await verdict("A002", "true")
    assert (again.json()["verdict"], again.json()["verdict_round"]) == ("true", 2)
    report = (await client.get(f"/api/rules/validation/{topic_id}", headers=expert)).json()
    assert (report["checked"], report["true"], report["true_rate"]) == (2, 2, 1.0)
    assert (await verdict("A003", "true", topic=999)).status_code == 404
    assert (await verdict("A003", "true", headers=await sessions.headers("manager"))).status_code == 403
    sheet = (await client.get(f"/api/rules/validation/{topic_id}/hits?limit=1", headers=expert)).json()
    assert [(i["object_key"], i["verdict"], i["verdict_note"]) for i in sheet["items"]] == [
        ("A001", "true", "checked the meter log")
    ]
    async with db.session() as s:
        acts = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "topic.trial_verdict")
                )
            )
            .scalars()
            .all()
        )
    assert [(a.actor_label, a.new_value["result"]) for a in acts] == [
        ("expert", "true"),
        ("expert", "not_true"),
        ("expert", "true"),
    ]


async def test_trial_hits_that_go_live_are_announced_from_the_go_live_day_without_the_expert_verdict(
    client, sessions, db, settings, tmp_path
):
    """Validating: a trial hit, an expert's verdict on it. The topic goes live and its first live
    run hits the same key: the warning is announced to its person then (not before), its deadline
    counts from that run, and the expert's verdict is neither its finding nor one of its replies."""
    from datetime import timedelta

    from backend.topics.models import Transition
    from backend.topics.service import TopicService
    from tests.engine.helpers import ACTOR

    topic_id = await zero_usage_topic(db, settings, tmp_path, state=TopicState.validating)
    await run(db, settings, "MK-ZERO")
    trial_hit = (await warning_ids(db))["A001"]
    expert = await sessions.headers("expert")
    posted = await client.post(
        f"/api/rules/validation/{topic_id}/hits/{trial_hit.id}/verdict",
        json={"result": "true", "note": "checked the meter log"},
        headers=expert,
    )
    assert posted.status_code == 200, posted.text
    async with db.session() as s:  # the trial ran a week before the go-live
        stored = await s.get(Warning, trial_hit.id)
        stored.raised_at -= timedelta(days=7)
        await s.commit()
        told = (await s.execute(select(EventRecipient.person_id))).scalars().all()
    assert trial_hit.person_id not in told

    async with db.session() as session:
        await TopicService(session, trail(), settings).transition(
            topic_id, Transition(to=TopicState.online), ACTOR
        )
    before_live = utcnow()
    await run(db, settings, "MK-ZERO")

    live = (await warning_ids(db))["A001"]
    assert live.id == trial_hit.id and live.trial is False
    assert live.raised_at >= before_live and live.finding is None and live.hit_count == 1
    assert (
        live.state == "delivered"
        and live.due_at is not None
        and live.due_at > before_live + timedelta(days=7)
    )
    async with db.session() as s:
        told = (
            (
                await s.execute(
                    select(EventRecipient.person_id)
                    .join(Event, Event.id == EventRecipient.event_id)
                    .where(Event.kind == "warning.raised", Event.subject_id == live.id)
                )
            )
            .scalars()
            .all()
        )
    assert live.person_id in told
    manager = await sessions.headers("manager")
    detail = (await client.get(f"/api/warnings/{live.id}", headers=manager)).json()
    assert detail["verifications"] == []
