"""A marketing topic over the readings table: zero-usage days per account and month."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from backend.audit.service import AuditTrail
from backend.engine.evaluate import Outcome
from backend.engine.models import RuleRun
from backend.engine.service import EngineService
from backend.topics.models import RuleDraft, Thresholds, TopicCreate, TopicState, Transition
from backend.topics.service import TopicService
from tests.conftest import TEST_SECRET
from tests.data.factories import ACTOR, declare_readings, readings_csv, service

ZERO_DAYS_SQL = """
SELECT employee_no, account_no AS object_key, month AS period_key,
       count(*) FILTER (WHERE kwh <= $max_kwh) AS zero_days, sum(kwh) AS total_kwh
FROM readings GROUP BY ALL
"""
#: rule SQL that writes, reads files or the environment: refused on every engine, with the reason
HOSTILE_SQL = [
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT * FROM '/etc/passwd'", "unknown table"),
    ("COPY (SELECT 1) TO '/tmp/out.csv'", "single SELECT"),
    (
        "SELECT employee_no, 1 AS object_key, 2 AS period_key, 3 AS m FROM readings; DROP TABLE readings",
        "SELECT",
    ),
    ("SELECT getenv('HOME') AS employee_no", "getenv"),
    ("ATTACH '/tmp/other.db'", "single SELECT"),
]
THRESHOLDS = Thresholds(measure="zero_days", direction="above", high=3, medium=2, low=1)


def month_rows(
    account: str, employee: str, zero_days: int, month: str = "2026-10", days: int = 4
) -> list[Any]:
    return [
        (account, f"{month}-{day:02d}", month, 0 if day <= zero_days else 5, employee)
        for day in range(1, days + 1)
    ]


#: A001 (manager) high, A002 (manager2) medium, A003 (E0101) low, A004 (manager) none,
#: A005 (unknown person) high
SCENARIO = [
    *month_rows("A001", "E0005", 3),
    *month_rows("A002", "E0006", 2),
    *month_rows("A003", "E0101", 1),
    *month_rows("A004", "E0005", 0),
    *month_rows("A005", "E9999", 4),
]


def drain(outcome: Outcome) -> list[dict[str, Any]]:
    """Every hit of an outcome, page by page (the outcome is closed)."""
    import json

    out: list[dict[str, Any]] = []
    try:
        while outcome.pages is not None and (page := outcome.pages.next()) is not None:
            out.extend(json.loads(page))
    finally:
        outcome.close()
    return out


def trail() -> AuditTrail:
    return AuditTrail(TEST_SECRET)


async def load_rows(db: Any, settings: Any, tmp_path: Path, rows: list[Any], name: str = "r.csv") -> None:
    path = tmp_path / name
    path.write_text(readings_csv(rows))
    async with db.session() as session:
        record = await service(session, settings).import_file("readings", path, name, ACTOR)
    assert record.status == "done", record.error


async def zero_usage_topic(
    db: Any,
    settings: Any,
    tmp_path: Path,
    state: TopicState = TopicState.online,
    rows: list[Any] | None = None,
    sql: str = ZERO_DAYS_SQL,
) -> int:
    await declare_readings(db, settings)
    if rows != []:
        await load_rows(db, settings, tmp_path, SCENARIO if rows is None else rows)
    async with db.session() as session:
        topics = TopicService(session, trail(), settings)
        topic = await topics.create(
            TopicCreate(
                code="MK-ZERO",
                name="Zero usage days",
                specialty="marketing",
                stars=4,
                monitoring_period="daily",
                rule=RuleDraft(sql=sql, params={"max_kwh": 0}, thresholds=THRESHOLDS),
            ),
            ACTOR,
        )
        topic_id = topic.id
        assert topic_id is not None
        await topics.transition(topic_id, Transition(to=TopicState.validating), ACTOR)
        if state == TopicState.online:
            await topics.transition(topic_id, Transition(to=TopicState.online), ACTOR)
    return topic_id


async def run(db: Any, settings: Any, *codes: str) -> list[Any]:
    async with db.session() as session:
        return await EngineService(session, trail(), settings).run_codes(list(codes), ACTOR)


async def add_runs(db, topic_id: int, *runs: tuple[datetime, str], trial: bool = False, **hits: int) -> None:
    async with db.session() as s:
        for started_at, status in runs:
            s.add(
                RuleRun(
                    topic_id=topic_id,
                    topic_code="MK-ZERO",
                    version_id=1,
                    trigger="schedule",
                    trial=trial,
                    status=status,
                    started_at=started_at,
                    **hits,
                )
            )
        await s.commit()
