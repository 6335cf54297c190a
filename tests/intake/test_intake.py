"""Public intake: anyone reports without an account (a proof of work, rate limits, size and type
limits, a receipt code to follow it), inspectors and the committee read and triage; the words
are sealed at rest and every read is in the trail."""

from __future__ import annotations

import hashlib
import itertools

from sqlalchemy import select, text
from sqlmodel import col

from backend.audit.models import AuditRecord
from backend.intake.service import leading_zero_bits
from tests.pwa.helpers import png

BODY = "抄表员王某多次向用户索要好处费，称不给就估抄电量。2026年11月在幸福小区发生。"


def solve(challenge: str, bits: int) -> str:
    for n in itertools.count():
        if leading_zero_bits(hashlib.sha256(f"{challenge}:{n}".encode()).digest()) >= bits:
            return str(n)
    raise AssertionError("unreachable")


async def fresh(client) -> dict[str, str]:
    got = (await client.get("/api/public/reports/challenge")).json()
    return {"challenge": got["challenge"], "nonce": solve(got["challenge"], got["bits"])}


async def send(client, *, work=None, files=(), **fields):
    form = {
        "category": "integrity",
        "subject": "抄表员索要好处费",
        "body": BODY,
        **(work or await fresh(client)),
    }
    form.update(fields)
    # multipart, as the page's FormData sends it (with or without files)
    parts = [(k, (None, str(v))) for k, v in form.items()]
    parts += [("files", (f"f{i}", content, "application/octet-stream")) for i, content in enumerate(files)]
    return await client.post("/api/public/reports", files=parts)


async def test_a_report_from_the_public_is_read_and_triaged_by_an_inspector(client, sessions, db):
    photo = png(40, 30)
    sent = await send(client, files=[photo], about="幸福小区抄表员", contact="13800000000")
    assert sent.status_code == 201, sent.text
    receipt = sent.json()["receipt"]
    assert len(receipt) == 16
    looked = await client.post("/api/public/reports/status", json={"receipt": receipt.lower()})
    assert (
        looked.status_code == 200 and looked.json()["state"] == "received" and looked.json()["note"] is None
    )
    assert BODY not in looked.text

    manager = await sessions.headers("manager")
    assert (await client.get("/api/intake", headers=manager)).status_code == 403
    inspector = await sessions.headers("inspector")
    listed = (await client.get("/api/intake", headers=inspector)).json()
    assert [(r["subject"], r["anonymous"], r["files"]) for r in listed] == [("抄表员索要好处费", False, 1)]
    detail = (await client.get(f"/api/intake/{listed[0]['id']}", headers=inspector)).json()
    assert (detail["body"], detail["about"], detail["contact"]) == (BODY, "幸福小区抄表员", "13800000000")
    attachment = detail["attachments"][0]
    assert attachment["content_type"] == "image/png"
    got = await client.get(f"/api/intake/{detail['id']}/files/{attachment['id']}", headers=inspector)
    assert got.content == photo

    triaged = await client.post(
        f"/api/intake/{detail['id']}/triage",
        headers=inspector,
        json={"state": "referred", "public_note": "已受理，正在核查", "internal_note": "转纪检线索"},
    )
    assert triaged.status_code == 200 and triaged.json()["state"] == "referred"
    looked = (await client.post("/api/public/reports/status", json={"receipt": receipt})).json()
    assert (looked["state"], looked["note"]) == ("referred", "已受理，正在核查")
    assert "转纪检线索" not in str(looked)

    async with db.session() as s:
        stored = (await s.execute(text("SELECT sealed FROM public_report"))).scalar_one()
        actions = [
            a
            for a in (await s.execute(select(AuditRecord.action).order_by(col(AuditRecord.id)))).scalars()
            if a.startswith("intake.")
        ]
    assert BODY not in stored and "13800000000" not in stored and stored.startswith("v1:")
    assert actions == ["intake.receive", "intake.list", "intake.view", "intake.file_view", "intake.triage"]


async def test_abuse_is_refused(client):
    work = await fresh(client)
    assert (await send(client, work=work)).status_code == 201
    replay = await send(client, work=work)
    assert replay.status_code == 400 and replay.json()["code"] == "intake_challenge_spent"
    lazy = await client.get("/api/public/reports/challenge")
    unsolved = await send(client, work={"challenge": lazy.json()["challenge"], "nonce": "x"})
    assert unsolved.status_code == 400 and unsolved.json()["code"] == "intake_bad_challenge"
    forged = await send(client, work={"challenge": "1765000000.abcd.0000", "nonce": "1"})
    assert forged.status_code == 400 and forged.json()["code"] == "intake_bad_challenge"

    big = await send(client, files=[b"\xff\xd8\xff" + b"0" * 5_000_000])
    assert big.status_code == 413 and big.json()["code"] == "intake_file_too_large"
    script = await send(client, files=[b"<script>alert(1)</script>"])
    assert script.status_code == 415 and script.json()["code"] == "intake_file_type"
    many = await send(client, files=[png(2, 2)] * 4)
    assert many.status_code == 400 and many.json()["code"] == "intake_too_many_files"
    empty = await send(client, body="   ")
    assert empty.status_code == 400 and (empty.json()["code"], empty.json()["field"]) == ("required", "body")

    # three reports an hour from one address: the first above, then two more, then refused
    assert (await send(client)).status_code == 201
    assert (await send(client)).status_code == 201
    fourth = await send(client)
    assert fourth.status_code == 429 and fourth.json()["code"] == "intake_rate_limited"


async def test_receipt_codes_cannot_be_guessed(client):
    assert (await send(client)).status_code == 201
    answers = [
        await client.post("/api/public/reports/status", json={"receipt": f"GUESS{n:011d}"}) for n in range(31)
    ]
    assert {a.status_code for a in answers[:30]} == {404}
    assert answers[30].status_code == 429
