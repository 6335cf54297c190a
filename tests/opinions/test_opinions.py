"""Collaborative supervision opinions (B.15): drafted, submitted with the group leader's opinion,
returned or approved by the committee, sent to the department, answered by its head, followed up;
wrong role and wrong order refused; the form as a PDF, read field by field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from backend.events.models import Event, EventRecipient
from tests.clues.test_clues import pdf_text
from tests.problems.test_problems import me, unit_id


async def step(client: Any, sessions: Any, user: str, oid: int, name: str, body: Any | None = None) -> Any:
    return await client.post(
        f"/api/opinions/{oid}/{name}", json=body or {}, headers=await sessions.headers(user)
    )


async def test_an_opinion_is_drafted_approved_sent_answered_and_followed(client, sessions, db):
    station = await unit_id(client, sessions, "城关供电所")
    body = {
        "unit_id": station,
        "problem": "换表工单与抄表示数无交叉复核，表计装拆后零电量无人核查。",
        "advice": "建立装拆表后七日电量复核制度，由班组长签字确认。",
    }
    for user in ("head", "committee"):
        r = await client.post("/api/opinions", json=body, headers=await sessions.headers(user))
        assert r.status_code == 403, user
    r = await client.post("/api/opinions", json=body, headers=await sessions.headers("inspector"))
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    # the department's head does not see a draft; the other county's inspector never
    assert (
        await client.get(f"/api/opinions/{oid}", headers=await sessions.headers("head"))
    ).status_code == 404
    assert (
        await client.get(f"/api/opinions/{oid}", headers=await sessions.headers("inspector2"))
    ).status_code == 404

    r = await step(client, sessions, "inspector", oid, "send")
    assert r.status_code == 409 and r.json()["code"] == "out_of_order" and r.json()["needs"] == ["approved"]
    r = await step(client, sessions, "committee", oid, "approve", {"text": "同意"})
    assert r.status_code == 409 and r.json()["needs"] == ["submitted"]
    assert (
        await step(client, sessions, "inspector", oid, "submit", {"text": "情况属实，建议下发"})
    ).status_code == 200
    r = await step(client, sessions, "inspector", oid, "approve", {"text": "同意"})
    assert r.status_code == 403 and r.json()["code"] == "not_your_step"
    # returned once, submitted again, approved
    r = await step(client, sessions, "committee", oid, "return", {"text": "整改意见请明确时限"})
    assert r.status_code == 200 and r.json()["opinion"]["state"] == "drafted"
    assert (
        await step(client, sessions, "inspector", oid, "submit", {"text": "已补充时限，建议下发"})
    ).status_code == 200
    r = await step(client, sessions, "committee", oid, "approve", {"text": "同意下发，限一个月内整改"})
    assert r.status_code == 200 and r.json()["opinion"]["state"] == "approved"
    r = await step(client, sessions, "inspector", oid, "send")
    assert r.status_code == 200 and r.json()["opinion"]["state"] == "sent"
    head = await me(client, sessions, "head")
    async with db.session() as s:
        told = (
            (
                await s.execute(
                    select(EventRecipient.person_id)
                    .join(Event, col(Event.id) == col(EventRecipient.event_id))
                    .where(col(Event.kind) == "opinion.sent")
                )
            )
            .scalars()
            .all()
        )
    assert list(told) == [head]
    drafter = await me(client, sessions, "inspector")
    async with db.session() as s:
        heard = (
            (
                await s.execute(
                    select(Event.kind)
                    .join(EventRecipient, col(Event.id) == col(EventRecipient.event_id))
                    .where(col(EventRecipient.person_id) == drafter, col(Event.subject_type) == "opinion")
                    .order_by(col(Event.id))
                )
            )
            .scalars()
            .all()
        )
    assert list(heard) == ["opinion.returned", "opinion.approved"]
    # only a head over the department answers
    r = await step(client, sessions, "inspector", oid, "answer", {"text": "x"})
    assert r.status_code == 403
    r = await step(client, sessions, "head2", oid, "answer", {"text": "x"})
    assert r.status_code == 404
    r = await step(client, sessions, "head", oid, "answer", {"text": "已建立复核制度，11 月 23 条全部复核"})
    assert r.status_code == 200 and r.json()["opinion"]["state"] == "answered"
    r = await step(
        client, sessions, "inspector", oid, "follow", {"text": "抽查发现仍有 2 条未签字", "settled": False}
    )
    assert r.json()["opinion"]["state"] == "sent"
    assert (await step(client, sessions, "head", oid, "answer", {"text": "2 条已补签"})).status_code == 200
    r = await step(client, sessions, "inspector", oid, "follow", {"text": "复核制度落实到位"})
    file = r.json()
    assert file["opinion"]["state"] == "closed" and file["actions"] == []
    assert [s["kind"] for s in file["steps"]] == [
        "drafted",
        "submitted",
        "returned",
        "submitted",
        "approved",
        "sent",
        "answered",
        "followed",
        "answered",
        "closed",
    ]

    r = await client.get(f"/api/opinions/{oid}/pdf", headers=await sessions.headers("head"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    op = file["opinion"]
    committee = (await client.get("/api/auth/me", headers=await sessions.headers("committee"))).json()["name"]
    for expected in (
        "协同监督意见书",
        f"编号{op['number']}",
        "整改部门/单位城关供电所",
        "发现问题换表工单与抄表示数无交叉复核",
        "整改意见建立装拆表后七日电量复核制度，由班组长签字确认。",
        f"项目组组长意见已补充时限，建议下发{op['leader_name']}",
        f"监督工作委员会意见同意下发，限一个月内整改{committee}",
        "部门整改反馈2条已补签",
        "跟踪落实情况复核制度落实到位",
    ):
        assert expected in text, (expected, text)
    assert "年" in text and "月" in text and "日" in text
