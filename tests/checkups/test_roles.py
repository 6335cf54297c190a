"""Every check-up route in the role matrix: 401 without a token, 403 for roles without the right,
anything else (done, 404 out of scope, 409 …) for roles with it."""

from __future__ import annotations

from datetime import date, timedelta

from backend.checkups.content import default_policy, first_questionnaire
from tests.checkups.conftest import iso

USERS = ["admin", "committee", "inspector", "head", "manager", "manager2", "inspector2", "head2", "expert"]
ALL = set(USERS)
FIGURES = {"admin", "committee", "inspector", "head", "inspector2", "head2", "expert"}
ADMIN = {"admin"}
INSPECTORS = {"inspector", "inspector2"}


async def test_role_matrix(kit):
    cid = (await kit.open_campaign())["id"]
    result = await kit.complete("manager", cid)
    me = result["person_id"]
    head = await kit.person_id("E0004")
    care = (
        await kit.client.post(
            "/api/checkups/care",
            json={
                "person_id": me,
                "risk_type": "post",
                "kind": "controls",
                "assignee_person_id": head,
                "due_date": (date.today() + timedelta(days=3)).isoformat(),
            },
            headers=await kit.h("inspector"),
        )
    ).json()
    notice = (await kit.client.get("/api/checkups/notices", headers=await kit.h("manager"))).json()[0]["id"]
    q = first_questionnaire().model_dump(mode="json")
    campaign = {
        "year": 2026,
        "title": "m",
        "questionnaire_id": kit.questionnaire_id,
        "opens_at": iso(timedelta(0)),
        "closes_at": iso(timedelta(days=2)),
        "unit_codes": ["C02-S2"],
    }
    reopen = {"person_id": me, "reason": "matrix check", "until": iso(timedelta(days=1))}
    routes: list[tuple[str, str, object, set[str]]] = [
        ("GET", "/api/checkups/mine", None, ALL),
        ("GET", f"/api/checkups/mine/{cid}", None, ALL),
        ("PUT", f"/api/checkups/mine/{cid}/answers", {"answers": {"C1": 2}}, ALL),
        ("POST", f"/api/checkups/mine/{cid}/submit", None, ALL),
        ("GET", f"/api/checkups/mine/{cid}/result", None, ALL),
        ("GET", "/api/checkups/notices", None, ALL),
        ("POST", f"/api/checkups/notices/{notice}/read", None, ALL),
        ("GET", "/api/checkups/questionnaires", None, ADMIN),
        ("POST", "/api/checkups/questionnaires", q, ADMIN),
        ("GET", f"/api/checkups/questionnaires/{kit.questionnaire_id}", None, ADMIN),
        ("GET", "/api/checkups/policies", None, ALL),
        ("POST", "/api/checkups/policies", default_policy().model_dump(mode="json"), ADMIN),
        ("POST", "/api/checkups/campaigns", campaign, ADMIN),
        ("GET", "/api/checkups/campaigns", None, FIGURES),
        ("GET", f"/api/checkups/campaigns/{cid}", None, FIGURES),
        ("GET", f"/api/checkups/campaigns/{cid}/progress", None, FIGURES),
        ("POST", f"/api/checkups/campaigns/{cid}/remind", None, ADMIN | INSPECTORS),
        ("POST", f"/api/checkups/campaigns/{cid}/participants/sync", None, ADMIN),
        ("POST", f"/api/checkups/campaigns/{cid}/reopen", reopen, ADMIN),
        ("POST", f"/api/checkups/campaigns/{cid}/regrade", {}, ADMIN),
        ("GET", f"/api/checkups/campaigns/{cid}/results", None, INSPECTORS),
        ("GET", f"/api/checkups/campaigns/{cid}/people/{me}/results", None, ALL),
        ("GET", f"/api/checkups/campaigns/{cid}/b2.xlsx", None, INSPECTORS),
        ("GET", f"/api/checkups/campaigns/{cid}/aggregates", None, FIGURES),
        (
            "POST",
            "/api/checkups/care",
            {
                "person_id": me,
                "risk_type": "tenure",
                "kind": "rotation",
                "assignee_person_id": head,
                "due_date": "2099-01-01",
            },
            INSPECTORS,
        ),
        ("GET", "/api/checkups/care", None, ALL),
        (
            "POST",
            f"/api/checkups/care/{care['id']}/outcome",
            {"status": "cancelled", "outcome": "matrix"},
            ALL,
        ),
    ]
    for method, url, body, allowed in routes:
        r = await kit.client.request(method, url, json=body)
        assert r.status_code == 401, (method, url)
        for user in USERS:
            r = await kit.client.request(method, url, json=body, headers=await kit.h(user))
            if user in allowed:
                assert r.status_code != 403 and r.status_code < 500, (method, url, user, r.text)
            else:
                assert r.status_code == 403, (method, url, user, r.status_code)
                assert r.json()["code"] == "role_required"
