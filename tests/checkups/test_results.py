"""Who sees what: individual results for the person and inspectors of their unit only; B.2 for
inspectors; aggregates with small cells suppressed for heads and the committee; re-grading."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from backend.audit.models import AuditRecord
from tests.checkups.conftest import healthy_answers, risky_answers

B2_STANDARD = [
    "序号",
    "权限主题",
    "认知方式",
    "个性特征",
    "压力水平",
    "社会支持",
    "情绪意志",
    "岗位风险",
    "心理维度总分",
    "综合得分",
]


async def _unit_id(kit, code: str) -> int:
    units = (await kit.client.get("/api/units", headers=await kit.h("admin"))).json()
    return next(u["id"] for u in units if u["code"] == code)


async def test_individual_results_only_for_self_and_inspectors_of_the_unit(kit, db):
    cid = (await kit.open_campaign())["id"]
    mine = await kit.complete("manager", cid, risky_answers())
    theirs = await kit.complete("manager2", cid)
    me, other = mine["person_id"], theirs["person_id"]

    rows = (
        await kit.client.get(f"/api/checkups/campaigns/{cid}/results", headers=await kit.h("inspector"))
    ).json()
    by_person = {r["person_id"]: r for r in rows}
    assert other not in by_person  # manager2 (C02) is invisible to the inspector of C01
    assert by_person[me]["result"]["composite_grade"] == mine["composite_grade"]
    assert by_person[me]["name"] and by_person[me]["unit_name"] == "城关供电所"
    assert all(r["result"] is None for r in rows if r["person_id"] != me)  # nobody else answered yet

    rows2 = (
        await kit.client.get(f"/api/checkups/campaigns/{cid}/results", headers=await kit.h("inspector2"))
    ).json()
    assert {r["person_id"] for r in rows2 if r["result"]} == {other}

    def person(pid: int) -> str:
        return f"/api/checkups/campaigns/{cid}/people/{pid}/results"

    expected = {
        ("manager", me): 200,
        ("inspector", me): 200,
        ("inspector2", other): 200,
        ("manager2", other): 200,
        ("inspector", other): 404,
        ("inspector2", me): 404,
        ("head", me): 404,  # the manager's own head sees aggregates only
        ("committee", me): 404,
        ("admin", me): 404,
        ("manager2", me): 404,
        ("manager", other): 404,
        ("expert", me): 404,
    }
    for (user, pid), status in expected.items():
        r = await kit.client.get(person(pid), headers=await kit.h(user))
        assert r.status_code == status, (user, pid, r.text)
        if status == 404:
            assert r.json()["code"] == "result_not_found"
    for user in ("head", "committee", "admin", "manager"):
        r = await kit.client.get(f"/api/checkups/campaigns/{cid}/results", headers=await kit.h(user))
        assert r.status_code == 403, user
    # every read of individual data is an act in the trail, with who read it and whose it was
    async with db.session() as s:
        reads = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "checkup.result.read")
                )
            )
            .scalars()
            .all()
        )
    readers = sorted((r.actor_label, r.new_value["person_id"], r.new_value["reader"]) for r in reads)
    assert ("inspector", me, "inspector") in readers and ("manager", me, "self") in readers
    assert len(reads) == 4  # the four 200s above; refused reads show nothing, so record nothing


async def test_why_am_i_medium_and_regrading_makes_a_new_dated_result(kit):
    cid = (await kit.open_campaign())["id"]
    first = await kit.complete("manager", cid, {**healthy_answers(), "S1": 5, "S2": 5, "S3": 5, "S4": 1})
    why = first["why"]
    assert {f["factor"] for f in why["factors"]} == {"psychological", "post", "tenure"}
    assert why["composite_high"] == 65 and why["composite_medium"] == 45 and why["policy_version"] == 1
    assert abs(sum(f["contribution"] for f in why["factors"]) - first["composite"]) < 0.2
    assert first["dimensions"]["stress"] == 100.0 and first["psych_score"] == 20.0

    admin = await kit.h("admin")
    bad = {"psych_weight": 0.5, "post_weight": 0.5, "tenure_weight": 0.5}
    r = await kit.client.post("/api/checkups/policies", json=bad, headers=admin)
    assert r.status_code == 400 and r.json()["code"] == "weights_not_summing"
    assert len((await kit.client.get("/api/checkups/policies", headers=admin)).json()) == 1
    r = await kit.client.post(
        "/api/checkups/policies",
        json={
            "psych_weight": 0.2,
            "post_weight": 0.7,
            "tenure_weight": 0.1,
            "composite_high": 50,
            "composite_medium": 30,
        },
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["version"] == 2
    r = await kit.client.post(
        f"/api/checkups/campaigns/{cid}/regrade", json={}, headers=await kit.h("inspector")
    )
    assert r.status_code == 403
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/regrade", json={}, headers=admin)
    assert r.status_code == 200 and r.json()["count"] == 1
    history = (
        await kit.client.get(
            f"/api/checkups/campaigns/{cid}/people/{first['person_id']}/results",
            headers=await kit.h("inspector"),
        )
    ).json()
    new, old = history
    assert new["reason"] == "regrade" and new["why"]["policy_version"] == 2 and new["current"]
    assert new["graded_at"] >= old["graded_at"] and old["superseded_at"]
    assert {k: old[k] for k in ("composite", "composite_grade", "dimensions")} == {
        k: first[k] for k in ("composite", "composite_grade", "dimensions")
    }  # the stored grade was not rewritten
    assert new["dimensions"] == first["dimensions"] and new["post_risk"] == first["post_risk"]
    assert new["composite"] != first["composite"]
    assert "version 2" in new["why"]["text_en"]
    mine = (await kit.client.get(f"/api/checkups/mine/{cid}/result", headers=await kit.h("manager"))).json()
    assert mine["result_id"] == new["result_id"]
    r = await kit.client.post(f"/api/checkups/campaigns/{cid}/regrade", json={"policy_id": 99}, headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "policy_not_found"


async def test_b2_export_for_inspectors_of_the_unit(kit):
    cid = (await kit.open_campaign())["id"]
    manager = await kit.complete("manager", cid, risky_answers())
    await kit.complete("head", cid)
    await kit.complete("manager2", cid)
    r = await kit.client.get(f"/api/checkups/campaigns/{cid}/b2.xlsx", headers=await kit.h("inspector"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(r.content))["心理清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert "心理清单" in rows[0][0]
    assert list(rows[2][:10]) == B2_STANDARD
    data = rows[3:]
    assert len(data) == 2  # manager and head of C01-S1; manager2 is in C02
    by_no = {row[10]: row for row in data}
    m = by_no["E0005"]
    assert m[1] == "客户经理"
    assert list(m[2:7]) == [100.0] * 5
    assert m[7] == manager["post_risk"] and m[8] == 500.0 and m[9] == manager["composite"]
    assert m[16] == "高"
    # one unit inside the subtree, a unit outside it, and roles without the right
    s2 = await _unit_id(kit, "C01-S2")
    r = await kit.client.get(
        f"/api/checkups/campaigns/{cid}/b2.xlsx?unit_id={s2}", headers=await kit.h("inspector")
    )
    assert r.status_code == 200 and len(list(load_workbook(BytesIO(r.content)).active.iter_rows())) == 3
    c02 = await _unit_id(kit, "C02")
    r = await kit.client.get(
        f"/api/checkups/campaigns/{cid}/b2.xlsx?unit_id={c02}", headers=await kit.h("inspector")
    )
    assert r.status_code == 404
    for user in ("head", "committee", "admin", "manager"):
        r = await kit.client.get(f"/api/checkups/campaigns/{cid}/b2.xlsx", headers=await kit.h(user))
        assert r.status_code == 403, user


async def test_aggregates_suppress_cells_under_five(kit):
    cid = (await kit.open_campaign(units=("C01-S1", "C01-S2")))["id"]
    url = f"/api/checkups/campaigns/{cid}/aggregates"
    for user in ("manager", "head", "E0101"):
        await kit.complete(user, cid, risky_answers())
    head = (await kit.client.get(url, headers=await kit.h("head"))).json()
    assert head["min_cell"] == 5
    assert head["total"]["suppressed"] and head["total"]["people"] is None
    assert [c["suppressed"] for c in head["cells"]] == [True]
    assert all(c["dimensions"] is None and c["composite"] is None for c in head["cells"])

    for user in ("E0102", "E0103"):
        await kit.complete(user, cid, healthy_answers())
    head = (await kit.client.get(url, headers=await kit.h("head"))).json()
    (cell,) = head["cells"]
    assert cell["label"] == "城关供电所" and cell["people"] == 5 and not cell["suppressed"]
    assert cell["dimensions"]["stress"] == 60.0  # three at 100, two at 0
    assert all(v is None or v == 0 or v >= 5 for v in cell["grades"].values())

    # two people answer in C01-S2: that cell is suppressed, and so is C01-S1, whose figures with the
    # total shown would give C01-S2 away
    for user in ("E0109", "E0110"):
        await kit.complete(user, cid)
    committee = (await kit.client.get(url, headers=await kit.h("committee"))).json()
    assert committee["total"]["people"] == 7
    assert [c["suppressed"] for c in committee["cells"]] == [True, True]
    head = (await kit.client.get(url, headers=await kit.h("head"))).json()
    assert [c["label"] for c in head["cells"]] == ["城关供电所"]  # the head's own subtree only
    by_post = (await kit.client.get(url + "?by=post", headers=await kit.h("inspector"))).json()
    assert by_post["by"] == "post" and by_post["total"]["people"] == 7
    assert all(c["people"] is None or c["people"] >= 5 for c in by_post["cells"])
    r = await kit.client.get(url + "?by=person", headers=await kit.h("committee"))
    assert r.status_code == 400
    r = await kit.client.get(url, headers=await kit.h("manager"))
    assert r.status_code == 403
