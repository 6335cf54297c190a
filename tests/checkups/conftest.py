"""Check-up fixtures: a questionnaire and policy in place, campaigns opened through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from backend.checkups.content import ITEMS, default_policy, first_questionnaire
from backend.org.models import Person

ITEM_CODES = [code for code, *_ in ITEMS]
REVERSE = {code for code, _d, _zh, _en, rev in ITEMS if rev}


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def healthy_answers() -> dict[str, int]:
    """No sign of risk anywhere: disagree with risk statements, agree with protective ones."""
    return {c: (5 if c in REVERSE else 1) for c in ITEM_CODES}


def risky_answers() -> dict[str, int]:
    return {c: (1 if c in REVERSE else 5) for c in ITEM_CODES}


@dataclass
class Kit:
    client: Any
    sessions: Any
    db: Any
    questionnaire_id: int
    policy_id: int

    async def h(self, user: str) -> dict[str, str]:
        return await self.sessions.headers(user)

    async def open_campaign(
        self,
        units: tuple[str, ...] = ("C01", "C02"),
        opens: timedelta = timedelta(days=-1),
        closes: timedelta = timedelta(days=30),
        late: timedelta | None = None,
        year: int = 2026,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "year": year,
            "title": f"{year}年度廉洁体检",
            "questionnaire_id": self.questionnaire_id,
            "opens_at": iso(opens),
            "closes_at": iso(closes),
            "unit_codes": list(units),
        }
        if late is not None:
            body["late_until"] = iso(late)
        r = await self.client.post("/api/checkups/campaigns", json=body, headers=await self.h("admin"))
        assert r.status_code == 201, r.text
        return r.json()

    async def answer(self, user: str, cid: int, answers: dict[str, int], note: str | None = None) -> Any:
        body: dict[str, Any] = {"answers": answers}
        if note is not None:
            body["note"] = note
        return await self.client.put(
            f"/api/checkups/mine/{cid}/answers", json=body, headers=await self.h(user)
        )

    async def complete(self, user: str, cid: int, answers: dict[str, int] | None = None) -> dict[str, Any]:
        r = await self.answer(user, cid, answers or healthy_answers())
        assert r.status_code == 200, r.text
        r = await self.client.post(f"/api/checkups/mine/{cid}/submit", headers=await self.h(user))
        assert r.status_code == 200, r.text
        return r.json()

    async def person_id(self, employee_no: str) -> int:
        async with self.db.session() as s:
            person = (await s.execute(select(Person).where(Person.employee_no == employee_no))).scalar_one()
            assert person.id is not None
            return person.id


@pytest.fixture
async def kit(client, sessions, db) -> Kit:
    admin = await sessions.headers("admin")
    q = await client.post(
        "/api/checkups/questionnaires", json=first_questionnaire().model_dump(mode="json"), headers=admin
    )
    assert q.status_code == 201, q.text
    p = await client.post(
        "/api/checkups/policies", json=default_policy().model_dump(mode="json"), headers=admin
    )
    assert p.status_code == 201, p.text
    return Kit(client, sessions, db, q.json()["id"], p.json()["id"])
