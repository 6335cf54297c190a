"""The people's own standing in the risk portrait, counted by hand: education hours short of the
yearly target (imported from the training system, or a lesson marked studied — once), age from
the year of birth, and the check-up grade — which counts only for an inspector over the person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.kernel.timeutil import local, utcnow
from tests.checkups.conftest import Kit, risky_answers
from tests.checkups.conftest import kit as kit  # the fixture

ONLY = ("education_shortfall", "age", "checkup_grade")


async def only_standing(kit: Kit) -> None:
    """Every weight 0 but education (1 per hour short), age (0.1 a year) and the grade (2 a point)."""
    weights = (await kit.client.get("/api/portrait/weights", headers=await kit.h("admin"))).json()
    new = {w["factor"]: 0 for w in weights if w["factor"] not in ONLY} | {"age": 0.1}
    r = await kit.client.put("/api/portrait/weights", json={"weights": new}, headers=await kit.h("admin"))
    assert r.status_code == 200, r.text


async def people(kit: Kit, user: str) -> dict[str, Any]:
    r = await kit.client.get("/api/portrait?by=person&period=quarter", headers=await kit.h(user))
    assert r.status_code == 200, r.text
    return r.json()


def factors(row: dict[str, Any]) -> dict[str, float]:
    return {f["factor"]: f["value"] for f in row["factors"]}


async def test_education_age_and_grade(kit: Kit) -> None:
    await only_standing(kit)
    manager = await kit.person_id("E0005")
    this_year = local(utcnow()).date().year
    r = await kit.client.patch(
        f"/api/people/{manager}", json={"birth_year": this_year - 40}, headers=await kit.h("admin")
    )
    assert r.status_code == 200, r.text

    # the training system's file: a bad row refuses the whole file, with its reason
    recent = (local(utcnow()).date() - timedelta(days=20)).isoformat()
    old = (local(utcnow()).date() - timedelta(days=400)).isoformat()
    bad = f"employee_no,studied_on,hours,title\nE0005,{recent},6,廉洁专题课\nE9999,{recent},abc,\n"
    r = await kit.client.post(
        "/api/education/import",
        files={"data": ("hours.csv", bad.encode(), "text/csv")},
        headers=await kit.h("admin"),
    )
    assert r.status_code == 400 and r.json()["code"] == "import_refused"
    assert {(e["row"], e["column"]) for e in r.json()["errors"]} == {
        (3, "employee_no"),
        (3, "hours"),
        (3, "title"),
    }
    good = f"employee_no,studied_on,hours,title\nE0005,{recent},6,廉洁专题课\nE0005,{old},8,去年的课\n"
    r = await kit.client.post(
        "/api/education/import",
        files={"data": ("hours.csv", good.encode(), "text/csv")},
        headers=await kit.h("admin"),
    )
    assert r.status_code == 200 and r.json()["taken"] == 2

    # a lesson broadcast to the manager, marked studied twice: 1.5 hours, once
    r = await kit.client.post(
        "/api/broadcasts",
        json={
            "title": "廉洁教育第三课",
            "body": "请学习附件",
            "targets": {"person_ids": [manager]},
            "lesson_hours": 1.5,
        },
        headers=await kit.h("admin"),
    )
    assert r.status_code == 201, r.text
    lesson = r.json()["id"]
    for _ in range(2):
        r = await kit.client.post(f"/api/education/lessons/{lesson}", headers=await kit.h("manager"))
        assert r.status_code == 200 and r.json()["hours"] == 1.5
    for other in ("head", "admin"):  # not sent to them (the admin may read it, not study it)
        r = await kit.client.post(f"/api/education/lessons/{lesson}", headers=await kit.h(other))
        assert r.status_code == 404
    mine = (await kit.client.get("/api/education/mine", headers=await kit.h("manager"))).json()
    assert mine["hours"] == 7.5 and mine["required_hours"] == 8 and len(mine["records"]) == 3

    # the check-up grade: the manager answers as at risk (high)
    cid = (await kit.open_campaign(units=("C01-S1",)))["id"]
    await kit.complete("manager", cid, risky_answers())

    rows = {r["key"]: r for r in (await people(kit, "inspector"))["rows"]}
    row = factors(rows[str(manager)])
    # 8 − (6 + 1.5) = 0.5 hour short; 40 years; grade high = 2 points
    assert row["education_shortfall"] == 0.5 and row["age"] == 40 and row["checkup_grade"] == 2
    assert rows[str(manager)]["score"] == 0.5 * 1 + 40 * 0.1 + 2 * 2
    # someone who studied nothing is 8 hours short
    head = await kit.person_id("E0004")
    assert factors(rows[str(head)])["education_shortfall"] == 8

    committee = await people(kit, "committee")
    assert committee["missing_factors"] == ["checkup_grade"]
    assert committee["rows"] and not [r for r in committee["rows"] if "checkup_grade" in factors(r)]
    async with kit.db.session() as s:
        reads = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "checkup.grades.read")
                )
            )
            .scalars()
            .all()
        )
    assert [r.new_value["purpose"] for r in reads] == ["portrait"]
    assert manager in reads[0].new_value["person_ids"]
