"""Factories shared by the data, topics and engine tests: a declared meter-reading table and files."""

from __future__ import annotations

from typing import Any

from backend.audit.service import AuditTrail
from backend.data.models import ColumnSpec, TableDeclare
from backend.data.service import DataService
from backend.kernel.access import Actor, Channel
from tests.conftest import TEST_SECRET

ACTOR = Actor.system(Channel.cli, "test")

READINGS = TableDeclare(
    name="readings",
    title="Meter readings",
    source="marketing system",
    columns=[
        ColumnSpec(name="account_no", type="VARCHAR", required=True, label="户号"),
        ColumnSpec(name="reading_date", type="DATE", required=True),
        ColumnSpec(name="month", type="VARCHAR", required=True),
        ColumnSpec(name="kwh", type="DOUBLE", required=True),
        ColumnSpec(name="employee_no", type="VARCHAR"),
    ],
    key=["account_no", "reading_date"],
    period_column="month",
    owner_unit_code="C01-YX",
)


def service(session: Any, settings: Any) -> DataService:
    return DataService(session, AuditTrail(TEST_SECRET), settings)


async def declare_readings(db: Any, settings: Any) -> None:
    async with db.session() as session:
        await service(session, settings).declare(READINGS, ACTOR)


def readings_csv(
    rows: list[tuple[str, str, str, Any, str]], header: str = "户号,reading_date,month,kwh,employee_no"
) -> str:
    return header + "\n" + "".join(",".join(str(c) for c in row) + "\n" for row in rows)


GOOD = [
    ("A001", "2026-10-01", "2026-10", 12.5, "E0005"),
    ("A001", "2026-10-02", "2026-10", 0, "E0005"),
    ("A002", "2026-10-01", "2026-10", 7, "E0006"),
]
