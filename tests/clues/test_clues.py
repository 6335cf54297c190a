"""Problem clues (B.16): from a true warning and from a public report, the three-level triage, the
committee's instruction, the handover with its receipt, the outcome; refusals for the wrong role,
the wrong order and the wrong scope; the form as a PDF, read field by field."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.events.models import Event, EventRecipient
from backend.intake.models import IntakeState
from tests.intake.test_intake import send
from tests.warnings.conftest import Seeder


def pdf_text(content: bytes) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


async def true_warning(db: Any, employee_no: str = "E0005") -> int:
    return await Seeder(db).warning(employee_no, state="confirmed", finding="true")


async def post(client: Any, sessions: Any, user: str, path: str, body: Any | None = None) -> Any:
    return await client.post(
        path, json=body if body is not None else {}, headers=await sessions.headers(user)
    )


async def test_a_clue_from_a_true_warning_is_triaged_handed_over_received_and_concluded(client, sessions, db):
    wid = await true_warning(db)
    body = {
        "source": "warning",
        "warning_id": wid,
        "subject_rank": "一般员工",
        "reporter_name": "周红",
        "reporter_unit": "东湖县供电公司纪委",
        "reporter_post": "纪检专责",
        "letter_unit": "东湖县纪委监委",
        "letter_no": "东纪函〔2026〕18号",
        "nature": "违规收取费用",
        "summary": "该客户经理在换表后七日内电量为零，经核实属实，疑似收受好处少计电量。",
    }
    r = await post(client, sessions, "inspector", "/api/clues", body)
    assert r.status_code == 201, r.text
    clue = r.json()
    cid = clue["id"]
    assert clue["state"] == "registered" and clue["subject_unit"] == "城关供电所"
    assert clue["number"].startswith("XS-")

    # out of order: a clue is triaged before it is handed over, received or concluded
    r = await post(client, sessions, "inspector", f"/api/clues/{cid}/hand-over", {"receiver_person_id": 1})
    assert r.status_code == 409 and r.json()["code"] == "out_of_order"
    assert r.json()["needs"] == ["triaged"]
    # wrong role: a head or an employee does not see clues at all; the committee does not triage
    for user in ("head", "manager"):
        r = await client.get(f"/api/clues/{cid}", headers=await sessions.headers(user))
        assert r.status_code == 403, user
    r = await post(
        client, sessions, "committee", f"/api/clues/{cid}/triage", {"level": "first", "proposal": "x"}
    )
    assert r.status_code == 403 and r.json()["code"] == "not_inspector"
    # out of scope: the inspector of the other county company does not see it
    r = await client.get(f"/api/clues/{cid}", headers=await sessions.headers("inspector2"))
    assert r.status_code == 404
    listed = (await client.get("/api/clues", headers=await sessions.headers("inspector2"))).json()
    assert cid not in [c["id"] for c in listed]

    r = await post(
        client,
        sessions,
        "inspector",
        f"/api/clues/{cid}/triage",
        {"level": "first", "proposal": "移交纪委立案核查"},
    )
    assert r.status_code == 200 and r.json()["clue"]["state"] == "triaged"
    r = await post(
        client, sessions, "inspector", f"/api/clues/{cid}/triage", {"level": "third", "proposal": "x"}
    )
    assert r.status_code == 409 and r.json()["code"] == "out_of_order"
    # the instruction is the committee's
    r = await post(client, sessions, "inspector", f"/api/clues/{cid}/instruct", {"instruction": "x"})
    assert r.status_code == 403 and r.json()["code"] == "not_committee"
    r = await post(
        client, sessions, "committee", f"/api/clues/{cid}/instruct", {"instruction": "同意，抓紧核查"}
    )
    assert r.status_code == 200

    receivers = (
        await client.get(f"/api/clues/{cid}/receivers", headers=await sessions.headers("inspector"))
    ).json()
    assert receivers and all(r["person_id"] != clue["subject_person_id"] for r in receivers)
    me = (await client.get("/api/auth/me", headers=await sessions.headers("committee"))).json()
    assert me["person_id"] in [r["person_id"] for r in receivers]
    r = await post(
        client,
        sessions,
        "inspector",
        f"/api/clues/{cid}/hand-over",
        {"receiver_person_id": clue["subject_person_id"]},
    )
    assert r.status_code == 400 and r.json()["code"] == "not_a_receiver"
    r = await post(
        client,
        sessions,
        "inspector",
        f"/api/clues/{cid}/hand-over",
        {"receiver_person_id": me["person_id"], "note": "请签收"},
    )
    assert r.status_code == 200 and r.json()["clue"]["state"] == "handed_over"
    # the receiver is told (ids only), and only the receiver signs
    async with db.session() as s:
        told = (
            await s.execute(
                select(EventRecipient.person_id, Event.data)
                .join(Event, col(Event.id) == col(EventRecipient.event_id))
                .where(col(Event.kind) == "clue.handed_over")
            )
        ).all()
    assert [(p, d) for p, d in told] == [(me["person_id"], {"clue_id": cid})]
    notes = (await client.get("/api/notifications", headers=await sessions.headers("committee"))).json()
    note = next(n for n in notes["items"] if n["subject_type"] == "clue")
    assert (
        note["subject_id"] == cid and note["subject"]["title"] == f"{clue['number']} · {clue['subject_name']}"
    )
    r = await post(client, sessions, "inspector", f"/api/clues/{cid}/receive")
    assert r.status_code == 403 and r.json()["code"] == "not_receiver"
    r = await post(
        client, sessions, "committee", f"/api/clues/{cid}/conclude", {"outcome": "filed", "text": "x"}
    )
    assert r.status_code == 409 and r.json()["code"] == "out_of_order"
    r = await post(client, sessions, "committee", f"/api/clues/{cid}/receive")
    assert r.status_code == 200
    done = r.json()["clue"]
    assert (
        done["state"] == "received"
        and done["receiver_name"] == me["name"]
        and done["received_at"].endswith("+08:00")
    )
    r = await post(
        client,
        sessions,
        "committee",
        f"/api/clues/{cid}/conclude",
        {"outcome": "filed", "text": "已立案审查，给予党内警告处分"},
    )
    assert r.status_code == 200
    file = r.json()
    assert file["clue"]["state"] == "concluded" and file["actions"] == []
    assert [s["kind"] for s in file["steps"]] == [
        "registered",
        "triaged",
        "instructed",
        "handed_over",
        "received",
        "concluded",
    ]
    r = await post(client, sessions, "committee", f"/api/clues/{cid}/instruct", {"instruction": "x"})
    assert r.status_code == 409 and r.json()["code"] == "out_of_order"
    # every step is in the trail; the warning itself was not touched
    async with db.session() as s:
        acts = (
            (await s.execute(select(AuditRecord.action).where(col(AuditRecord.object_type) == "clue")))
            .scalars()
            .all()
        )
    for act in (
        "clue.registered",
        "clue.triaged",
        "clue.instructed",
        "clue.handed_over",
        "clue.received",
        "clue.concluded",
    ):
        assert act in acts
    w = (await client.get(f"/api/warnings/{wid}", headers=await sessions.headers("inspector"))).json()
    assert w["warning"]["state"] == "confirmed"

    # the B.16 form, field by field
    r = await client.get(f"/api/clues/{cid}/pdf", headers=await sessions.headers("inspector"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    subject = clue["subject_name"]
    for expected in (
        "问题线索拟办单",
        f"编号：{clue['number']}",
        "反映人姓名周红单位东湖县供电公司纪委",
        "职务纪检专责",
        f"被反映人姓名{subject}单位城关供电所",
        "职务客户经理级别一般员工",
        "线索来源属实预警问题性质违规收取费用",
        "来函单位东湖县纪委监委函号东纪函〔2026〕18号",
        "内容摘要该客户经理在换表后七日内电量为零",
        f"领导批示同意，抓紧核查{me['name']}",
        "拟办意见【一级（严重）】移交纪委立案核查",
        f"移交签收{me['name']}",
        "办理结果【立案审查】已立案审查，给予党内警告处分",
    ):
        assert expected in text, (expected, text)
    assert "受理日期：" in text and "年" in text and "-" not in text.split("受理日期：")[1][:12]


async def test_a_clue_from_a_warning_not_confirmed_true_is_refused(client, sessions, db):
    wid = await Seeder(db).warning("E0005")
    r = await post(
        client, sessions, "inspector", "/api/clues", {"source": "warning", "warning_id": wid, "summary": "s"}
    )
    assert r.status_code == 409 and r.json()["code"] == "warning_not_true"
    # and a person outside the inspector's units cannot be named
    other = (await client.get("/api/auth/me", headers=await sessions.headers("manager2"))).json()["person_id"]
    mine = (await client.get("/api/auth/me", headers=await sessions.headers("inspector"))).json()["person_id"]
    r = await post(
        client,
        sessions,
        "inspector",
        "/api/clues",
        {"source": "inspection", "subject_person_id": other, "summary": "s"},
    )
    assert r.status_code == 404
    # nor oneself: a clue about an inspector is registered by another
    r = await post(
        client,
        sessions,
        "inspector",
        "/api/clues",
        {"source": "inspection", "subject_person_id": mine, "summary": "s"},
    )
    assert r.status_code == 403 and r.json()["code"] == "own_clue"


async def test_a_public_report_turns_into_a_clue_and_its_sender_sees_it_referred(client, sessions, db):
    sent = await send(client, subject="抄表员吃拿卡要", body="抄表员每次上门都要烟酒，不给就估抄。")
    assert sent.status_code == 201, sent.text
    receipt = sent.json()["receipt"]
    reports = (await client.get("/api/intake", headers=await sessions.headers("inspector"))).json()
    report = reports[0]
    units = (await client.get("/api/units", headers=await sessions.headers("inspector"))).json()
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    body = {
        "source": "public",
        "intake_report_id": report["id"],
        "unit_id": station,
        "subject_name": "某抄表员",
        "nature": "吃拿卡要",
        "summary": "群众反映抄表员上门索要烟酒，不给就估抄电量。",
    }
    r = await post(client, sessions, "inspector", "/api/clues", body)
    assert r.status_code == 201, r.text
    clue = r.json()
    assert clue["source"] == "public" and clue["intake_report_id"] == report["id"]
    assert clue["subject_unit"] == "城关供电所"
    detail = (
        await client.get(f"/api/intake/{report['id']}", headers=await sessions.headers("inspector"))
    ).json()
    assert detail["state"] == IntakeState.referred
    status = (await client.post("/api/public/reports/status", json={"receipt": receipt})).json()
    assert status["state"] == "referred"
    # a public clue names its report; the B.16 form shows an anonymous reporter as 匿名
    r = await post(client, sessions, "inspector", "/api/clues", {**body, "intake_report_id": None})
    assert r.status_code == 400 and r.json()["field"] == "intake_report_id"
    r = await client.get(f"/api/clues/{clue['id']}/pdf", headers=await sessions.headers("committee"))
    text = pdf_text(r.content)
    assert "反映人姓名匿名" in text and "线索来源群众举报问题性质吃拿卡要" in text
    # a unit outside the inspector's subtree is refused
    other = next(u["id"] for u in units if u["name"] == "河口供电所")
    r = await post(client, sessions, "inspector", "/api/clues", {**body, "unit_id": other})
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"


async def test_clues_export_in_words_for_inspectors_only(client, sessions, db):
    wid = await true_warning(db)
    body = {
        "source": "warning",
        "warning_id": wid,
        "nature": "违规收取费用",
        "summary": "换表后电量为零，经核实属实。",
    }
    r = await post(client, sessions, "inspector", "/api/clues", body)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert (
        await post(
            client,
            sessions,
            "inspector",
            f"/api/clues/{cid}/triage",
            {"level": "second", "proposal": "建议谈话函询"},
        )
    ).status_code == 200

    async def exported(user: str) -> Any:
        return await client.post(
            "/api/exports", json={"list": "clues", "filters": {}}, headers=await sessions.headers(user)
        )

    r = await exported("inspector")
    assert r.status_code == 201 and r.json()["title"] == "问题线索"
    got = await client.get(r.json()["download_url"], headers=await sessions.headers("inspector"))
    sheet = load_workbook(io.BytesIO(got.content), read_only=True).worksheets[0]
    rows = [tuple(x) for x in sheet.iter_rows(values_only=True)]
    assert rows[0][:7] == ("编号", "被反映人", "单位", "线索来源", "问题性质", "线索分级", "状态")
    assert rows[1][2:7] == ("城关供电所", "属实预警", "违规收取费用", "二级（较重）", "已分级拟办")
    assert (await exported("head")).status_code == 403  # clues are for inspectors and the committee
    r = await exported("inspector2")
    other = await client.get(r.json()["download_url"], headers=await sessions.headers("inspector2"))
    assert len(list(load_workbook(io.BytesIO(other.content), read_only=True).worksheets[0].iter_rows())) == 1
