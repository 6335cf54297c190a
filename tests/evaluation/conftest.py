"""A business-expansion category over declared work orders, two people of 城关供电所 evaluated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.data.models import RowsPush
from backend.evaluation.demo import WORK_ORDERS, library
from backend.org.models import Person
from tests.data.factories import ACTOR, service

#: (order, employee, accepted on, days taken, irregular) — see test_scores for the sums
ORDERS = [
    ("Q3-1", "E0005", "2026-07-05", 5, False),
    ("Q3-2", "E0005", "2026-07-10", 20, False),
    ("Q3-3", "E0005", "2026-08-01", 9, False),
    ("Q3-4", "E0005", "2026-09-20", 3, False),
    ("Q4-1", "E0005", "2026-10-08", 6, False),
    ("Q4-2", "E0005", "2026-11-11", 7, False),
]


@dataclass
class Setup:
    category_id: int
    manager: int
    other: int
    other_no: str
    manager2: int


async def people(db: Any) -> dict[str, Person]:
    async with db.session() as s:
        return {
            p.employee_no: p for p in (await s.execute(select(Person).order_by(col(Person.id)))).scalars()
        }


def tag(category_id: int, person_id: int, code: str, day: str, note: str = "", **over: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "category_id": category_id,
        "person_id": person_id,
        "tag_code": code,
        "occurred_on": day,
        "note": note,
        **over,
    }


@pytest.fixture
async def setup(client, sessions, db, settings) -> Setup:
    return await make_setup(client, sessions, db, settings)


async def make_setup(client: Any, sessions: Any, db: Any, settings: Any) -> Setup:
    found = await people(db)
    station = found["E0005"].unit_id
    other = next(
        p
        for no, p in found.items()
        if p.unit_id == station and no not in ("E0004", "E0005") and p.roles == ["employee"]
    )
    rows = [
        *ORDERS,
        ("Q3-5", other.employee_no, "2026-07-15", 4, True),
        ("Q3-6", other.employee_no, "2026-08-15", 4, False),
    ]
    async with db.session() as session:
        data = service(session, settings)
        await data.declare(WORK_ORDERS, ACTOR)
        keys = ["order_no", "employee_no", "accepted_on", "days_taken", "irregular"]
        await data.import_rows(
            "expansion_orders", RowsPush(rows=[dict(zip(keys, r, strict=True)) for r in rows]), ACTOR
        )
    inspector = await sessions.headers("inspector")
    r = await client.post(
        "/api/evaluation/categories",
        json={"code": "yk", "name": "业扩报装", "library": library()},
        headers=inspector,
    )
    assert r.status_code == 201, r.text
    category_id = r.json()["id"]
    for person in (found["E0005"], other):
        r = await client.post(
            f"/api/evaluation/categories/{category_id}/subjects",
            json={"person_id": person.id, "evaluator_ids": [found["E0004"].id]},
            headers=inspector,
        )
        assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/evaluation/categories/{category_id}/subjects",
        json={"person_id": found["E0006"].id},
        headers=await sessions.headers("committee"),
    )
    assert r.status_code == 200, r.text
    return Setup(
        category_id, found["E0005"].id or 0, other.id or 0, other.employee_no, found["E0006"].id or 0
    )
