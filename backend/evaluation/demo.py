# ruff: noqa: S608  -- demo indicator SQL from our own constants
"""Demo of the "1+3" evaluation (``probity demo``): the business-expansion category (业扩报装) with
its library, work orders as business data, the station's staff as subjects, tags filed over two
quarters and the two rounds. Synthetic; safe to run twice (it stops where the category exists)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.data.models import ColumnSpec, RowsPush, TableDeclare
from backend.data.service import DataService
from backend.evaluation.models import EvalCategory
from backend.evaluation.rounds import RoundService
from backend.evaluation.schemas import CategoryCreate, LibraryContent, RoundCreate, SubjectCreate, TagFile
from backend.kernel.access import Actor, Channel, Principal, Role
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.org.models import Person, Unit

ORDER = 60
#: the business-expansion category (业扩报装)
CATEGORY = "yk"

WORK_ORDERS = TableDeclare(
    name="expansion_orders",
    title="业扩报装工单",
    source="营销业务应用系统",
    columns=[
        ColumnSpec(name="order_no", type="VARCHAR", required=True, label="工单编号"),
        ColumnSpec(name="employee_no", type="VARCHAR", required=True, label="受理人工号"),
        ColumnSpec(name="accepted_on", type="DATE", required=True, label="受理日期"),
        ColumnSpec(name="days_taken", type="INTEGER", required=True, label="办理天数"),
        ColumnSpec(name="irregular", type="BOOLEAN", required=True, label="流程异常"),
    ],
    key=["order_no"],
    owner_unit_code="C01-YX",
)

PERIOD = "accepted_on BETWEEN $period_start AND $period_end"


def library() -> dict[str, Any]:
    """The first version of the business-expansion library (also the tests' fixture)."""
    return {
        "base_points": 60,
        "alert_below": 55,
        "drop_alert": 5,
        "indicators": [
            {
                "code": "volume",
                "name": "受理工单数",
                "unit": "件",
                "coefficient": 0.5,
                "direction": "plus",
                "sql": f"SELECT employee_no, count(*) AS value FROM expansion_orders WHERE {PERIOD} "
                "GROUP BY employee_no",
            },
            {
                "code": "overdue",
                "name": "超时限工单",
                "unit": "件",
                "coefficient": 2,
                "direction": "minus",
                "sql": f"SELECT employee_no, count(*) AS value FROM expansion_orders WHERE {PERIOD} "
                "AND days_taken > 15 GROUP BY employee_no",
            },
            {
                "code": "irregular",
                "name": "流程异常工单",
                "unit": "件",
                "coefficient": 5,
                "direction": "minus",
                "sql": f"SELECT employee_no, count(*) AS value FROM expansion_orders WHERE {PERIOD} "
                "AND irregular GROUP BY employee_no",
            },
        ],
        "tags": [
            {
                "code": "refused_gift",
                "name": "主动拒收礼品礼金",
                "dimension": "behaviour",
                "coefficient": 5,
                "direction": "plus",
                "filers": ["head", "inspector"],
            },
            {
                "code": "praised",
                "name": "获客户书面表扬",
                "dimension": "behaviour",
                "coefficient": 3,
                "direction": "plus",
                "filers": ["head"],
            },
            {
                "code": "study",
                "name": "积极参加廉洁教育",
                "dimension": "awareness",
                "coefficient": 2,
                "direction": "plus",
                "filers": ["head", "inspector"],
            },
            {
                "code": "late_report",
                "name": "重大事项未及时报告",
                "dimension": "awareness",
                "coefficient": 4,
                "direction": "minus",
                "filers": ["head", "inspector"],
            },
            {
                "code": "process_breach",
                "name": "违规办理业扩流程",
                "dimension": "problems",
                "coefficient": 6,
                "direction": "minus",
                "evidence_required": True,
                "filers": ["head", "inspector"],
            },
            {
                "code": "complaint",
                "name": "廉洁投诉查实",
                "dimension": "problems",
                "coefficient": 10,
                "direction": "minus",
                "evidence_required": True,
                "filers": ["inspector"],
                "confidential": True,
            },
        ],
    }


def principal_of(person: Person, roles: tuple[Role, ...], subtree: frozenset[int]) -> Principal:
    return Principal(
        account_id=0,
        session_id="demo",
        person_id=person.id or 0,
        unit_id=person.unit_id,
        roles=frozenset(roles),
        subtree_unit_ids=subtree,
        username="probity demo",
        channel=Channel.cli,
    )


async def load_demo(db: Database, settings: Settings, progress: Callable[[str], None]) -> str:
    trail = AuditTrail(settings.secret_key.get_secret_value())
    actor = Actor.system(Channel.cli, "probity demo")
    async with db.session() as session:
        if (
            await session.execute(select(col(EvalCategory.id)).where(col(EvalCategory.code) == CATEGORY))
        ).first():
            return "category 业扩报装 already there"
        units = {u.code: u for u in (await session.execute(select(Unit))).scalars()}
        people = {p.employee_no: p for p in (await session.execute(select(Person))).scalars()}
        station = units["C01-S1"]
        county = units["C01"]
        subtree = frozenset(u.id for u in units.values() if f"/{county.id}/" in f"{u.path}{u.id}/" and u.id)
        station_tree = frozenset({station.id or 0})
        inspector = principal_of(people["E0003"], (Role.inspector,), subtree)
        head = principal_of(people["E0004"], (Role.head,), station_tree)
        staff = sorted(
            (p for p in people.values() if p.unit_id == station.id and "head" not in p.roles),
            key=lambda p: p.employee_no,
        )[:6]
        data = DataService(session, trail, settings)
        if "expansion_orders" not in await data.table_names():
            await data.declare(WORK_ORDERS, actor)
        rows = []
        for n, p in enumerate(staff):
            for k in range(8 + n):
                day = date(2026, 7, 1) + timedelta(days=(k * 11 + n * 3) % 150)
                rows.append(
                    {
                        "order_no": f"YK{p.employee_no}{k:03d}",
                        "employee_no": p.employee_no,
                        "accepted_on": day.isoformat(),
                        "days_taken": 5 + (k * 7 + n) % 12,
                        "irregular": (k + n) % 9 == 0,
                    }
                )
        await data.import_rows("expansion_orders", RowsPush(rows=rows, source="demo"), actor)
        ev = RoundService(session, trail, settings)
        category = await ev.create_category(
            inspector,
            CategoryCreate(
                code=CATEGORY,
                name="业扩报装",
                description="高压业扩报装关键岗位人员",
                library=LibraryContent.model_validate(library()),
            ),
        )
        for p in staff:
            await ev.add_subject(
                inspector,
                category.id,
                SubjectCreate(
                    person_id=p.id or 0, evaluator_ids=[people["E0004"].id or 0, people["E0003"].id or 0]
                ),
            )
        filings = [
            (head, 0, "refused_gift", date(2026, 8, 12), "客户赠送购物卡，当场退回并报告"),
            (head, 1, "study", date(2026, 8, 20), "参加廉洁教育专题学习"),
            (head, 2, "late_report", date(2026, 9, 3), "亲属承揽业扩工程未及时报告"),
            (inspector, 2, "complaint", date(2026, 9, 18), "客户反映索要好处，经核查属实"),
            (head, 3, "praised", date(2026, 10, 9), "客户送来表扬信"),
            (head, 2, "process_breach", date(2026, 10, 22), "未经现场勘查即出具供电方案"),
            (head, 0, "study", date(2026, 11, 5), "参加警示教育大会"),
        ]
        for n, (who, index, code, day, note) in enumerate(filings):
            person = staff[index % len(staff)]
            await ev.file_tag(
                who,
                TagFile(
                    client_id=f"demo-eval-tag-{n:03d}",
                    category_id=category.id,
                    person_id=person.id or 0,
                    tag_code=code,
                    occurred_on=day,
                    note=note,
                ),
            )
        await ev.create_round(
            inspector,
            category.id,
            RoundCreate(name="2026年第三季度", period_start=date(2026, 7, 1), period_end=date(2026, 9, 30)),
        )
        await ev.create_round(
            inspector,
            category.id,
            RoundCreate(name="2026年第四季度", period_start=date(2026, 10, 1), period_end=date(2026, 12, 31)),
        )

    return f"category 业扩报装 (library v1), {len(staff)} people, {len(filings)} tags, 2 rounds"
