from __future__ import annotations

import io
from datetime import datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import func, select

from backend.audit.models import AuditRecord
from backend.interviews.models import Interview, InterviewSignature
from backend.kernel.timeutil import SHANGHAI
from tests.interviews.conftest import png, record_body, sign, true_warning


async def test_head_records_an_interview_and_prints_b12(client, sessions, seed, people, db):
    wid = await true_warning(client, sessions, seed)
    head = await sessions.headers("head")
    body = await record_body(client, head, people, [wid])
    r = await client.post("/api/interviews", json=body, headers=head)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["interviewee_name"] and rec["interviewee_unit"] == "城关供电所"
    assert [p["person_id"] for p in rec["interviewers"]] == [people["head"], people["inspector"]]
    assert rec["warning_ids"] == [wid] and len(rec["signatures"]) == 3
    assert rec["held_at"].endswith("+08:00")
    # a replay returns the first record
    again = await client.post("/api/interviews", json=body, headers=head)
    assert again.status_code == 200 and again.json()["id"] == rec["id"]
    # the warning's timeline shows it
    detail = (await client.get(f"/api/warnings/{wid}", headers=head)).json()
    assert "interviewed" in [s["kind"] for s in detail["timeline"]]
    # signatures are served to those who may see the record
    sig = rec["signatures"][0]
    r = await client.get(sig["url"], headers=await sessions.headers("inspector"))
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    # the printable form, in Chinese, with the fields and the values
    r = await client.get(rec["pdf_url"], headers=await sessions.headers("inspector"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    for label in (
        "“风险预防”约谈记录表",
        "预警（告警）风险是否属实",
        "相关具体原因及风险点",
        "个人八小时内外廉洁自律情况",
        "专业协同监督落地情况",
        "单位廉洁风险防控情况",
        "个人廉洁教育学习情况",
        "对加强相关风险监督防控的意见和建议",
        "针对约谈要求",
        "约谈人姓名",
        "约谈对象情况",
        "单位",
        "职务",
        "时间",
        "地点",
    ):
        assert label in text, label
    for value in (body["q_true"], body["suggestion"], body["place"], "城关供电所", rec["interviewee_name"]):
        assert value in text, value
    async with db.session() as s:
        actions = {a for (a,) in (await s.execute(select(AuditRecord.action))).all()}
    assert {"interview.create", "interview.print", "signature.download", "signature.upload"} <= actions


async def test_the_interviewee_sees_their_record_others_do_not(client, sessions, seed, people):
    wid = await true_warning(client, sessions, seed)
    head = await sessions.headers("head")
    rec = (
        await client.post(
            "/api/interviews", json=await record_body(client, head, people, [wid]), headers=head
        )
    ).json()
    mine = await client.get("/api/interviews", headers=await sessions.headers("manager"))
    assert [r["id"] for r in mine.json()] == [rec["id"]]
    for user in ("manager2", "head2"):
        h = await sessions.headers(user)
        assert (await client.get(f"/api/interviews/{rec['id']}", headers=h)).status_code == 404
        assert (await client.get(f"/api/interviews/{rec['id']}/pdf", headers=h)).status_code == 404
        assert (await client.get(rec["signatures"][0]["url"], headers=h)).status_code == 404
        assert (await client.get("/api/interviews", headers=h)).json() == []
    by_warning = await client.get(
        f"/api/interviews?warning_id={wid}", headers=await sessions.headers("committee")
    )
    assert [r["id"] for r in by_warning.json()] == [rec["id"]]


async def test_bad_records_are_refused_with_a_code_and_nothing_is_stored(client, sessions, seed, people, db):
    wid = await true_warning(client, sessions, seed)
    other = await seed.warning("E0101", level="high")
    head = await sessions.headers("head")
    now = datetime.now(SHANGHAI).replace(microsecond=0)
    cases = [
        ({"interviewer_ids": [people["head"]]}, 400, "two_interviewers_required"),
        ({"interviewer_ids": [people["head"], people["head"]]}, 400, "two_interviewers_required"),
        ({"interviewer_ids": [people["head"], people["manager"]]}, 400, "interviewee_is_interviewer"),
        ({"interviewer_ids": [people["head"], 999999]}, 400, "unknown_interviewer"),
        ({"held_at": "2026-02-30T10:00"}, 400, "invalid_datetime"),
        ({"held_at": "yesterday"}, 400, "invalid_datetime"),
        ({"held_at": (now + timedelta(days=2)).isoformat()}, 400, "held_in_future"),
        ({"held_at": "2001-01-01T09:00+08:00"}, 400, "held_before_warning"),
        ({"warning_ids": [other]}, 400, "warning_not_of_person"),
        ({"warning_ids": [999999]}, 404, "warning_not_found"),
        ({"warning_ids": []}, 400, "warnings_required"),
        ({"q_true": ""}, 400, "invalid_request"),
        ({"unknown_field": 1}, 400, "invalid_request"),
    ]
    for over, status, code in cases:
        body = await record_body(client, head, people, [wid], **over)
        r = await client.post("/api/interviews", json=body, headers=head)
        assert (r.status_code, r.json()["code"]) == (status, code), (over, r.text)
    # signatures: missing, someone else's, not uploaded by the recorder
    body = await record_body(client, head, people, [wid])
    r = await client.post(
        "/api/interviews", json={**body, "signatures": body["signatures"][:2]}, headers=head
    )
    assert (r.status_code, r.json()["code"]) == (400, "signatures_missing")
    stranger = [*body["signatures"][:2], {**body["signatures"][2], "person_id": people["manager2"]}]
    r = await client.post("/api/interviews", json={**body, "signatures": stranger}, headers=head)
    assert (r.status_code, r.json()["code"]) == (400, "unknown_signer")
    inspector = await sessions.headers("inspector")
    theirs = await sign(client, inspector, 50)
    swapped = [*body["signatures"][:2], {**body["signatures"][2], "signature_id": theirs}]
    r = await client.post("/api/interviews", json={**body, "signatures": swapped}, headers=head)
    assert (r.status_code, r.json()["code"]) == (400, "unknown_signature")
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Interview))).scalar_one() == 0
        bound = (
            await s.execute(select(func.count()).where(InterviewSignature.interview_id.is_not(None)))
        ).scalar_one()
        assert bound == 0


async def test_only_heads_and_inspectors_over_the_person_record(client, sessions, seed, people):
    wid = await true_warning(client, sessions, seed)
    head = await sessions.headers("head")
    body = await record_body(client, head, people, [wid])
    # the wrong head (another county) does not even see the person
    head2 = await sessions.headers("head2")
    r = await client.post("/api/interviews", json={**body, "client_id": "wrong-head-0001"}, headers=head2)
    assert (r.status_code, r.json()["code"]) == (404, "person_not_found")
    # an employee may not record at all
    r = await client.post("/api/interviews", json=body, headers=await sessions.headers("manager"))
    assert r.status_code == 403
    # the inspector over the unit may (with signatures they uploaded)
    inspector = await sessions.headers("inspector")
    r = await client.post(
        "/api/interviews", json=await record_body(client, inspector, people, [wid]), headers=inspector
    )
    assert r.status_code == 201, r.text
    # a used client_id with another body
    r1 = await client.post("/api/interviews", json=body, headers=head)
    assert r1.status_code == 201
    changed = {**body, "place": "another room"}
    r2 = await client.post("/api/interviews", json=changed, headers=head)
    assert (r2.status_code, r2.json()["code"]) == (409, "client_id_reused")


async def test_signature_uploads_are_png_only_and_capped(client, sessions, settings):
    head = await sessions.headers("head")
    cases = [
        (b"%PDF-1.4 not an image", 415, "not_an_image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, 415, "signature_not_png"),
        (b"", 400, "photo_empty"),
    ]
    for content, status, code in cases:
        r = await client.post(
            "/api/interviews/signatures", files={"file": ("s.png", content, "image/png")}, headers=head
        )
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
    big = png() + b"\x00" * settings.photo_max_bytes
    r = await client.post(
        "/api/interviews/signatures", files={"file": ("s.png", big, "image/png")}, headers=head
    )
    assert r.status_code == 413
    r = await client.post(
        "/api/interviews/signatures", files={"other": ("s.png", png(), "image/png")}, headers=head
    )
    assert (r.status_code, r.json()["code"]) == (400, "file_required")
    # the same image twice: one stored signature
    a = await client.post(
        "/api/interviews/signatures", files={"file": ("s.png", png(), "image/png")}, headers=head
    )
    b = await client.post(
        "/api/interviews/signatures", files={"file": ("s.png", png(), "image/png")}, headers=head
    )
    assert (a.status_code, b.status_code) == (201, 200) and a.json()["id"] == b.json()["id"]
    assert len(a.json()["sha256"]) == 64


async def test_ratio_per_unit_and_period(client, sessions, seed, people):
    head = await sessions.headers("head")
    reds = [await true_warning(client, sessions, seed, level="high") for _ in range(2)]
    oranges = [await true_warning(client, sessions, seed, level="medium") for _ in range(2)]
    await seed.warning("E0005", level="high")  # not verified: not counted
    r = await client.post(
        "/api/interviews", json=await record_body(client, head, people, [reds[0], oranges[0]]), headers=head
    )
    assert r.status_code == 201, r.text
    period = datetime.now(SHANGHAI).strftime("%Y-%m")
    r = await client.get(
        f"/api/interviews/ratio?period={period}", headers=await sessions.headers("inspector")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    (unit,) = body["units"]
    assert unit["unit_id"] == (await seed.person("E0005"))[1]
    assert unit["red"] == {"true_warnings": 2, "interviewed": 1, "ratio": 0.5, "goal": 0.8, "met": False}
    assert unit["orange_yellow"] == {
        "true_warnings": 2,
        "interviewed": 1,
        "ratio": 0.5,
        "goal": 0.5,
        "met": True,
    }
    assert body["total"]["red"]["true_warnings"] == 2
    # another county's head sees none of it; a period long ago has nothing
    r = await client.get(f"/api/interviews/ratio?period={period}", headers=await sessions.headers("head2"))
    assert r.json()["units"] == [] and r.json()["total"]["red"]["ratio"] is None
    r = await client.get("/api/interviews/ratio?period=2001-Q1", headers=head)
    assert r.json()["units"] == []
    for bad in (
        "period=2026-13",
        "period=26-11",
        "raised_from=2026-02-30",
        "raised_from=2026-11-20&raised_to=2026-11-01",
    ):
        r = await client.get(f"/api/interviews/ratio?{bad}", headers=head)
        assert r.status_code == 400 and r.json()["code"] in {
            "invalid_period",
            "invalid_date",
            "invalid_range",
        }, bad
