"""The personal integrity archive: who opens it, what each viewer sees of it, the one PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import func, select

from backend.audit.models import AuditRecord
from tests.evaluation.conftest import tag


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_the_check_up_grade_shows_only_to_the_person_and_their_inspectors(kit, client, sessions, db):
    cid = (await kit.open_campaign())["id"]
    result = await kit.complete("manager", cid)
    manager = result["person_id"]
    seen = {}
    for who in ("manager", "inspector", "head", "committee"):
        r = await client.get(f"/api/dossier/{manager}", headers=await sessions.headers(who))
        assert r.status_code == 200, r.text
        body = r.json()
        seen[who] = ([c["composite_grade"] for c in body["checkups"]], body["checkups_hidden"])
        assert body["person"]["name"] and body["posts"][0]["post_name"] == "客户经理"
    grade = result["composite_grade"]
    assert seen == {
        "manager": ([grade], False),
        "inspector": ([grade], False),
        "head": ([], True),
        "committee": ([], True),
    }
    r = await client.get(f"/api/dossier/{manager}", headers=await sessions.headers("manager2"))
    assert r.status_code == 404
    head_pdf = await client.get(f"/api/dossier/{manager}/pdf", headers=await sessions.headers("head"))
    inspector_pdf = await client.get(
        f"/api/dossier/{manager}/pdf", headers=await sessions.headers("inspector")
    )
    assert head_pdf.headers["content-type"] == "application/pdf"
    head_text, inspector_text = text_of(head_pdf.content), text_of(inspector_pdf.content)
    assert "廉洁档案" in head_text and "仅本人和本单位纪检监察人员可见" in head_text
    assert "综合等级" not in head_text and "综合等级" in inspector_text
    async with db.session() as s:
        exports = (
            await s.execute(select(func.count()).where(AuditRecord.action == "dossier.export"))
        ).scalar_one()
    assert exports == 2


async def test_the_archive_holds_evaluation_results_and_tags_as_far_as_the_viewer_may_see(
    client, sessions, setup
):
    c, m = setup.category_id, setup.manager
    r = await client.post(
        "/api/evaluation/tags",
        json=tag(c, m, "refused_gift", "2026-08-12"),
        headers=await sessions.headers("head"),
    )
    assert r.status_code == 201
    r = await client.post(
        "/api/evaluation/tags",
        json=tag(c, m, "complaint", "2026-09-10", "属实"),
        headers=await sessions.headers("inspector"),
    )
    assert r.status_code == 201
    r = await client.post(
        f"/api/evaluation/categories/{c}/rounds",
        json={"name": "2026年第三季度", "period_start": "2026-07-01", "period_end": "2026-09-30"},
        headers=await sessions.headers("committee"),
    )
    assert r.status_code == 201
    own = (await client.get(f"/api/dossier/{m}", headers=await sessions.headers("manager"))).json()
    inspector = (await client.get(f"/api/dossier/{m}", headers=await sessions.headers("inspector"))).json()
    assert [t["tag_name"] for t in own["tags"]] == ["主动拒收礼品礼金"]
    assert sorted(t["tag_name"] for t in inspector["tags"]) == ["主动拒收礼品礼金", "廉洁投诉查实"]
    # 60 + 0.5×4 − 2×1 = 60, +5 behaviour, −10 problems: the person's own view leaves the
    # confidential complaint out (65), the inspector's holds it (55)
    assert [(e["round_name"], e["total"]) for e in own["evaluation"]] == [("2026年第三季度", 65)]
    assert [(e["round_name"], e["total"]) for e in inspector["evaluation"]] == [("2026年第三季度", 55)]
    pdf = await client.get(f"/api/dossier/{m}/pdf", headers=await sessions.headers("manager"))
    text = text_of(pdf.content)
    assert "主动拒收礼品礼金" in text and "廉洁投诉查实" not in text and "2026年第三季度" in text
