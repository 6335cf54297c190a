"""A photo filed with a tag: uploaded first and stored by SHA-256 (the same photo again is the same
row), bound to the tag filed with it (once: a replayed filing stays one tag with one photo), read
only by those who may see the tag, and drawn in the integrity archive's PDF where tags are listed."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader
from sqlalchemy import func, select

from backend.audit.models import AuditRecord
from backend.evaluation.models import EvalTag, EvalTagPhoto
from tests.evaluation.conftest import Setup, tag
from tests.pwa.helpers import png


async def upload(client, sessions, who: str, content: bytes, status: int = 201) -> dict:
    r = await client.post(
        "/api/evaluation/photos",
        files={"file": ("photo.png", content, "image/png")},
        headers=await sessions.headers(who),
    )
    assert r.status_code == status, r.text
    return r.json()


async def test_a_tag_filed_with_a_photo_keeps_it_once_and_shows_it_to_who_sees_the_tag(
    client, sessions, db, setup: Setup
):
    c, m = setup.category_id, setup.manager
    picture = png(64, 48)
    first = await upload(client, sessions, "head", picture)
    again = await upload(client, sessions, "head", picture, status=200)  # a lost answer, sent again
    assert again["id"] == first["id"] and first["sha256"] == hashlib.sha256(picture).hexdigest()
    body = tag(c, m, "refused_gift", "2026-08-12", "当场退回购物卡", photo_id=first["id"])
    filed = await client.post("/api/evaluation/tags", json=body, headers=await sessions.headers("head"))
    assert filed.status_code == 201, filed.text
    replay = await client.post("/api/evaluation/tags", json=body, headers=await sessions.headers("head"))
    assert replay.status_code == 200 and replay.json()["id"] == filed.json()["id"]
    tag_id = filed.json()["id"]
    assert filed.json()["photo_id"] == first["id"]
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(EvalTag))).scalar_one() == 1
        (row,) = (await s.execute(select(EvalTagPhoto))).scalars()
        assert (row.tag_id, row.sha256, row.content_type) == (tag_id, first["sha256"], "image/png")

    for who in ("manager", "head", "inspector", "committee"):
        r = await client.get(f"/api/evaluation/tags/{tag_id}/photo", headers=await sessions.headers(who))
        assert r.status_code == 200 and r.content == picture, who
        assert r.headers["content-type"] == "image/png"
    for who in ("manager2", "head2", "inspector2"):
        r = await client.get(f"/api/evaluation/tags/{tag_id}/photo", headers=await sessions.headers(who))
        assert r.status_code == 404, who
    async with db.session() as s:
        reads = (
            await s.execute(
                select(func.count()).where(AuditRecord.action == "evaluation.photo.read")  # type: ignore[arg-type]
            )
        ).scalar_one()
        assert reads == 4

    # a photo goes with one tag only, and only the one who took it files it
    other = tag(c, setup.other, "refused_gift", "2026-08-12", photo_id=first["id"])
    r = await client.post("/api/evaluation/tags", json=other, headers=await sessions.headers("head"))
    assert r.status_code == 400 and r.json()["code"] == "invalid_photo"
    theirs = await upload(client, sessions, "inspector", png(32, 32))
    other["photo_id"] = theirs["id"]
    r = await client.post("/api/evaluation/tags", json=other, headers=await sessions.headers("head"))
    assert r.status_code == 400 and r.json()["code"] == "invalid_photo"
    r = await client.post(
        "/api/evaluation/photos",
        files={"file": ("x.txt", b"not a picture at all", "text/plain")},
        headers=await sessions.headers("head"),
    )
    assert r.status_code == 415
    r = await client.post(
        "/api/evaluation/photos",
        files={"file": ("p.png", picture, "image/png")},
        headers=await sessions.headers("manager"),
    )
    assert r.status_code == 403


async def test_the_confidential_tags_photo_stays_with_the_inspectors_and_the_archive_draws_the_photos(
    client, sessions, setup: Setup
):
    c, m = setup.category_id, setup.manager
    open_photo = await upload(client, sessions, "head", png(120, 80))
    secret_photo = await upload(client, sessions, "inspector", png(80, 120))
    await client.post(
        "/api/evaluation/tags",
        json=tag(c, m, "refused_gift", "2026-08-12", "退回礼品", photo_id=open_photo["id"]),
        headers=await sessions.headers("head"),
    )
    secret = await client.post(
        "/api/evaluation/tags",
        json=tag(c, m, "complaint", "2026-09-10", "客户反映属实", photo_id=secret_photo["id"]),
        headers=await sessions.headers("inspector"),
    )
    assert secret.status_code == 201, secret.text
    sid = secret.json()["id"]
    for who, status in (("manager", 404), ("head", 404), ("inspector", 200)):
        r = await client.get(f"/api/evaluation/tags/{sid}/photo", headers=await sessions.headers(who))
        assert r.status_code == status, who

    def pictures(pdf: bytes) -> int:
        return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)

    def text(pdf: bytes) -> str:
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)

    mine = await client.get(f"/api/dossier/{m}/pdf", headers=await sessions.headers("manager"))
    theirs = await client.get(f"/api/dossier/{m}/pdf", headers=await sessions.headers("inspector"))
    assert mine.status_code == theirs.status_code == 200
    assert pictures(mine.content) == 1 and pictures(theirs.content) == 2
    assert "附图1" in text(mine.content) and "附图2" not in text(mine.content)
    assert "附图2" in text(theirs.content)
    dossier = (await client.get(f"/api/dossier/{m}", headers=await sessions.headers("manager"))).json()
    assert [t["photo_id"] for t in dossier["tags"]] == [open_photo["id"]]
