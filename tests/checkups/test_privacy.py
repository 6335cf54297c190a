"""The privacy marker: a note planted with an answer shows up for the person and in the inspector's
B.2, and nowhere else — no log, no other role's response, no other export, not in the trail, and
not in plain text in the database file (nor are answers, scores or grades)."""

from __future__ import annotations

import logging
import uuid
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text

from tests.checkups.conftest import risky_answers

TABLES = ["checkup_response", "checkup_result", "checkup_care", "checkup_notice", "event", "audit_record"]


async def test_marker_answer_is_seen_only_by_the_person_and_in_b2(kit, db, settings, caplog):
    caplog.set_level(logging.DEBUG)
    marker = f"隐私标记-{uuid.uuid4().hex}"
    cid = (await kit.open_campaign())["id"]
    r = await kit.answer("manager", cid, risky_answers(), note=marker)
    assert r.status_code == 200
    r = await kit.client.post(f"/api/checkups/mine/{cid}/submit", headers=await kit.h("manager"))
    assert r.status_code == 200
    me = r.json()["person_id"]
    composite = r.json()["composite"]
    care = {
        "person_id": me,
        "campaign_id": cid,
        "risk_type": "psychological",
        "kind": "counselling",
        "assignee_person_id": await kit.person_id("E0004"),
        "due_date": "2099-01-01",
        "note": f"care {marker}",
    }
    assert (
        await kit.client.post("/api/checkups/care", json=care, headers=await kit.h("inspector"))
    ).status_code == 201

    # positive controls: the person sees their note; the inspector's B.2 carries it
    own = await kit.client.get(f"/api/checkups/mine/{cid}", headers=await kit.h("manager"))
    assert marker in own.text
    b2 = await kit.client.get(f"/api/checkups/campaigns/{cid}/b2.xlsx", headers=await kit.h("inspector"))
    cells = [c for row in load_workbook(BytesIO(b2.content)).active.iter_rows(values_only=True) for c in row]
    assert marker in cells

    # everything everyone else can read about this campaign
    reads = {
        "inspector": [
            f"/api/checkups/campaigns/{cid}/results",
            f"/api/checkups/campaigns/{cid}/people/{me}/results",
        ],
        "head": [f"/api/checkups/campaigns/{cid}/aggregates", f"/api/checkups/campaigns/{cid}/progress"],
        "committee": [f"/api/checkups/campaigns/{cid}/aggregates?by=post", "/api/audit/?limit=500"],
        "admin": [
            f"/api/checkups/campaigns/{cid}",
            "/api/checkups/campaigns",
            "/api/checkups/questionnaires",
        ],
        "manager2": [
            "/api/checkups/mine",
            "/api/checkups/notices",
            f"/api/checkups/campaigns/{cid}/people/{me}/results",
        ],
        "inspector2": [f"/api/checkups/campaigns/{cid}/results", f"/api/checkups/campaigns/{cid}/b2.xlsx"],
        "expert": [f"/api/checkups/campaigns/{cid}/aggregates", "/api/checkups/care"],
    }
    for user, urls in reads.items():
        for url in urls:
            r = await kit.client.get(url, headers=await kit.h(user))
            assert marker not in r.text, (user, url)
            assert marker.encode() not in r.content, (user, url)
    # the head sees the care measure they carry out (with its note) but never the answer note
    head_care = await kit.client.get("/api/checkups/care", headers=await kit.h("head"))
    assert f"care {marker}" in head_care.text and head_care.text.count(marker) == 1
    # no other role's response carries the person's scores either
    for user in ("head", "committee", "admin", "manager2"):
        r = await kit.client.get(f"/api/checkups/campaigns/{cid}/aggregates", headers=await kit.h(user))
        assert str(composite) not in r.text, user

    # no log line
    assert marker not in caplog.text
    assert all(marker not in str(rec.args) for rec in caplog.records)

    # not in any row as plain text (the trail included)
    async with db.session() as s:
        for table in TABLES:
            rows = (await s.execute(text(f"SELECT * FROM {table}"))).all()
            dump = repr(rows)
            assert marker not in dump, table
            if table != "audit_record":
                assert "composite" not in dump and '"C1"' not in dump, table

    # and not in the SQLite file's bytes (main file and write-ahead log)
    if settings.is_sqlite:
        await db.dispose()
        path = Path(settings.database_url.split(":///", 1)[1])
        files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        blob = b"".join(p.read_bytes() for p in files)
        assert "城关供电所".encode() in blob  # control: plain text in this file is found
        assert marker.encode() not in blob
        assert marker.split("-", 1)[1].encode() not in blob
        assert b"composite_grade" not in blob and b"psych_score" not in blob
