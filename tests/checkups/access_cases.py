"""Check-up routes in the shared access matrix. The matrix runs on the bare demo organisation (no
campaign yet), so roles with the right get 404 for a campaign that does not exist; the same routes
with real campaigns, results and care measures are covered in ``test_roles.py``."""

from __future__ import annotations

from typing import Any

from tests.access.matrix import ROLES, Case, Ids, everyone

FIGURES = {"admin": 404, "committee": 404, "inspector": 404, "head": 404}
C = "/api/checkups"


def _campaign(i: Ids) -> dict[str, Any]:
    return {
        "year": 2026,
        "title": "matrix",
        "questionnaire_id": 1,
        "opens_at": "2026-01-01T00:00:00+08:00",
        "closes_at": "2026-12-31T00:00:00+08:00",
        "unit_codes": ["C01"],
    }


def _questionnaire(i: Ids) -> dict[str, Any]:
    from backend.checkups.content import first_questionnaire

    return first_questionnaire().model_dump(mode="json")


def _care(i: Ids) -> dict[str, Any]:
    return {
        "person_id": i.person["manager"],
        "risk_type": "post",
        "kind": "controls",
        "assignee_person_id": i.person["head"],
        "due_date": "2099-01-01",
    }


CASES = [
    Case("GET", f"{C}/mine", lambda i: f"{C}/mine", everyone(200)),
    Case("GET", f"{C}/mine/{{campaign_id:int}}", lambda i: f"{C}/mine/1", everyone(404)),
    Case(
        "PUT",
        f"{C}/mine/{{campaign_id:int}}/answers",
        lambda i: f"{C}/mine/1/answers",
        everyone(404),
        body=lambda i: {"answers": {"C1": 2}},
    ),
    Case("POST", f"{C}/mine/{{campaign_id:int}}/submit", lambda i: f"{C}/mine/1/submit", everyone(404)),
    Case("GET", f"{C}/mine/{{campaign_id:int}}/result", lambda i: f"{C}/mine/1/result", everyone(404)),
    Case("GET", f"{C}/notices", lambda i: f"{C}/notices", everyone(200)),
    Case("POST", f"{C}/notices/{{notice_id:int}}/read", lambda i: f"{C}/notices/1/read", everyone(404)),
    Case("GET", f"{C}/questionnaires", lambda i: f"{C}/questionnaires", {"admin": 200}),
    Case("POST", f"{C}/questionnaires", lambda i: f"{C}/questionnaires", {"admin": 201}, body=_questionnaire),
    Case(
        "GET",
        f"{C}/questionnaires/{{questionnaire_id:int}}",
        lambda i: f"{C}/questionnaires/1",
        {"admin": 404},
    ),
    Case("GET", f"{C}/policies", lambda i: f"{C}/policies", everyone(200)),
    Case(
        "POST",
        f"{C}/policies",
        lambda i: f"{C}/policies",
        {"admin": 201},
        body=lambda i: {"psych_weight": 0.4, "post_weight": 0.4, "tenure_weight": 0.2},
    ),
    Case(
        "POST",
        f"{C}/campaigns",
        lambda i: f"{C}/campaigns",
        {"admin": 400},
        body=_campaign,
        note="no questionnaire yet: unknown_questionnaire",
    ),
    Case("GET", f"{C}/campaigns", lambda i: f"{C}/campaigns", dict.fromkeys(FIGURES, 200)),
    Case("GET", f"{C}/campaigns/{{campaign_id:int}}", lambda i: f"{C}/campaigns/1", FIGURES),
    Case(
        "GET", f"{C}/campaigns/{{campaign_id:int}}/progress", lambda i: f"{C}/campaigns/1/progress", FIGURES
    ),
    Case(
        "POST",
        f"{C}/campaigns/{{campaign_id:int}}/remind",
        lambda i: f"{C}/campaigns/1/remind",
        {"admin": 404, "inspector": 404},
    ),
    Case(
        "POST",
        f"{C}/campaigns/{{campaign_id:int}}/participants/sync",
        lambda i: f"{C}/campaigns/1/participants/sync",
        {"admin": 404},
    ),
    Case(
        "POST",
        f"{C}/campaigns/{{campaign_id:int}}/reopen",
        lambda i: f"{C}/campaigns/1/reopen",
        {"admin": 404},
        body=lambda i: {
            "person_id": i.person["manager"],
            "reason": "matrix",
            "until": "2099-01-01T00:00:00+08:00",
        },
    ),
    Case(
        "POST",
        f"{C}/campaigns/{{campaign_id:int}}/regrade",
        lambda i: f"{C}/campaigns/1/regrade",
        {"admin": 404},
        body=lambda i: {},
    ),
    Case(
        "GET",
        f"{C}/campaigns/{{campaign_id:int}}/results",
        lambda i: f"{C}/campaigns/1/results",
        {"inspector": 404},
    ),
    Case(
        "GET",
        f"{C}/campaigns/{{campaign_id:int}}/people/{{person_id:int}}/results",
        lambda i: f"{C}/campaigns/1/people/{i.person['manager']}/results",
        dict.fromkeys(ROLES, 404),
    ),
    Case(
        "GET",
        f"{C}/campaigns/{{campaign_id:int}}/b2.xlsx",
        lambda i: f"{C}/campaigns/1/b2.xlsx",
        {"inspector": 404},
    ),
    Case(
        "GET",
        f"{C}/campaigns/{{campaign_id:int}}/aggregates",
        lambda i: f"{C}/campaigns/1/aggregates",
        FIGURES,
    ),
    Case("POST", f"{C}/care", lambda i: f"{C}/care", {"inspector": 201}, body=_care),
    Case("GET", f"{C}/care", lambda i: f"{C}/care", everyone(200)),
    Case(
        "POST",
        f"{C}/care/{{care_id:int}}/outcome",
        lambda i: f"{C}/care/1/outcome",
        everyone(404),
        body=lambda i: {"status": "done", "outcome": "matrix"},
    ),
]
