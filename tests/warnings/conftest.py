"""Factories: warnings seeded straight into the table (as a rule run would) and announced."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.events.models import Event, EventRecipient
from backend.org.service import OrgService
from backend.warnings.models import Level, Warning
from backend.warnings.routing import announce
from tests.conftest import TEST_SECRET

_seq = itertools.count(1)
TRAIL = AuditTrail(TEST_SECRET)


class Seeder:
    def __init__(self, db: Any) -> None:
        self.db = db
        self.people: dict[str, tuple[int, int]] = {}

    async def person(self, employee_no: str) -> tuple[int, int]:
        if employee_no not in self.people:
            async with self.db.session() as s:
                p = await OrgService(s, TRAIL).person_by_no(employee_no)
                assert p is not None and p.id is not None
                self.people[employee_no] = (p.id, p.unit_id)
        return self.people[employee_no]

    async def warning(
        self,
        employee_no: str = "E0005",
        *,
        level: str = "high",
        topic_code: str = "T01",
        topic_id: int = 1,
        specialty: str | None = "marketing",
        raised_at: datetime | None = None,
        object_key: str | None = None,
        deliver: bool = True,
        **extra: Any,
    ) -> int:
        person_id, unit_id = await self.person(employee_no)
        n = next(_seq)
        values: dict[str, Any] = {
            "topic_id": topic_id,
            "topic_code": topic_code,
            "rule_version_id": 1,
            "specialty": specialty,
            "level": Level(level),
            "person_id": person_id,
            "unit_id": unit_id,
            "object_key": object_key or f"CUST-{n:05d}",
            "period_key": "2026-11",
            "evidence": {"usage_before": 120.5, "usage_after": 0, "meter": f"M{n}"},
            **extra,
        }
        if raised_at is not None:
            values["raised_at"] = raised_at
        async with self.db.session() as s:
            w = Warning(**values)
            s.add(w)
            await s.flush()
            assert w.id is not None
            if deliver:
                await announce(s, TRAIL, [w.id])
            await s.commit()
            return w.id


async def told(db: Any, kind: str) -> dict[int, str]:
    """Who was told of events of ``kind``: {person_id: reason}."""
    async with db.session() as s:
        rows = await s.execute(
            select(EventRecipient.person_id, EventRecipient.reason)
            .join(Event, col(Event.id) == col(EventRecipient.event_id))
            .where(col(Event.kind) == kind)
        )
        return {int(p): str(r) for p, r in rows.all()}


@pytest.fixture
def seed(db: Any) -> Seeder:
    return Seeder(db)
