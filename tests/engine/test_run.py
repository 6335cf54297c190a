from __future__ import annotations

import asyncio

import duckdb
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from backend.audit.models import AuditRecord
from backend.cli import main
from backend.data.store import BusinessStore
from backend.engine import service as engine_service
from backend.engine.models import RuleRun
from backend.engine.service import EngineService, is_due
from backend.org.models import Person, Unit
from backend.topics.models import Period, RuleVersion, TopicState
from backend.warnings.models import Warning
from tests.data.factories import ACTOR
from tests.engine.helpers import HOSTILE_SQL, SCENARIO, load_rows, month_rows, run, trail, zero_usage_topic


async def warnings_by_object(db) -> dict[str, Warning]:
    async with db.session() as s:
        return {w.object_key: w for w in (await s.execute(select(Warning))).scalars()}


async def person(db, employee_no: str) -> tuple[int, str]:
    async with db.session() as s:
        p = (await s.execute(select(Person).where(Person.employee_no == employee_no))).scalar_one()
        unit = await s.get(Unit, p.unit_id)
        return p.id, unit.code


async def test_run_raises_warnings_of_the_right_level_for_the_right_person(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)
    (record,) = await run(db, settings)
    assert record.status == "done"
    assert (record.hits_high, record.hits_medium, record.hits_low, record.hits_none) == (2, 1, 1, 1)
    assert (record.warnings_created, record.warnings_updated, record.unassigned) == (3, 0, 1)
    assert "E9999" in record.error
    assert record.rows_scanned == len(SCENARIO)
    found = await warnings_by_object(db)
    assert {k: w.level for k, w in found.items()} == {"A001": "high", "A002": "medium", "A003": "low"}
    manager_id, manager_unit = await person(db, "E0005")
    manager2_id, manager2_unit = await person(db, "E0006")
    assert (found["A001"].person_id, manager_unit) == (manager_id, "C01-S1")
    assert (found["A002"].person_id, manager2_unit) == (manager2_id, "C02-S1")
    assert found["A001"].evidence["value"] == 3 and found["A001"].evidence["bound"] == 3
    assert found["A001"].evidence["values"]["total_kwh"] == 5
    assert found["A001"].period_key == "2026-10" and not found["A001"].trial
    async with db.session() as s:
        version = await s.get(RuleVersion, found["A001"].rule_version_id)
        trail_rows = (
            (
                await s.execute(
                    select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "rule.run")
                )
            )
            .scalars()
            .all()
        )
    assert version.raised
    assert trail_rows and trail_rows[-1].new_value["created"] == 3


async def test_a_later_run_updates_the_same_warning(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)
    await run(db, settings)
    first = await warnings_by_object(db)
    await load_rows(
        db, settings, tmp_path, [r for r in SCENARIO if r[0] != "A002"] + month_rows("A002", "E0006", 4)
    )
    (again,) = await run(db, settings)
    assert (again.warnings_created, again.warnings_updated) == (0, 3)
    second = await warnings_by_object(db)
    assert set(second) == set(first)
    assert {k: w.id for k, w in second.items()} == {k: w.id for k, w in first.items()}
    assert second["A002"].level == "high" and second["A002"].hit_count == 2
    assert second["A002"].last_run_id == again.id


async def test_concurrent_runs_keep_one_warning_per_hit(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)

    async def one() -> None:
        async with db.session() as session:
            await EngineService(session, trail(), settings).run_codes(["MK-ZERO"], ACTOR)

    await asyncio.gather(one(), one(), one())
    async with db.session() as s:
        count = (await s.execute(select(func.count()).select_from(Warning))).scalar_one()
        hits = (await s.execute(select(func.sum(Warning.hit_count)))).scalar_one()
    assert count == 3 and hits == 9


async def test_validating_topic_raises_trial_warnings(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, state=TopicState.validating)
    assert await run(db, settings) == []  # only online topics run by default
    (record,) = await run(db, settings, "MK-ZERO")
    assert record.trial
    assert all(w.trial for w in (await warnings_by_object(db)).values())
    async with db.session() as session:
        report = await EngineService(session, trail(), settings).validation_report(topic_id)
    assert report["trial_runs"] == 1 and report["warnings"] == 3
    assert report["by_level"] == {"high": 1, "medium": 1, "low": 1}


async def test_a_rule_that_runs_too_long_is_stopped_and_recorded(db, settings, tmp_path):
    rows = [(f"T{i:04d}", "2026-10-01", "2026-10", i, "E0005") for i in range(1500)]
    await zero_usage_topic(db, settings, tmp_path, rows=rows)
    async with db.session() as session:
        version = (await session.execute(select(RuleVersion))).scalar_one()
        version.sql = (
            "SELECT a.employee_no, a.account_no AS object_key, a.month AS period_key, count(*) AS zero_days "
            "FROM readings a, readings b, readings c WHERE a.kwh + b.kwh + c.kwh > $max_kwh GROUP BY ALL"
        )
        await session.commit()
    settings.rule_timeout_seconds = 0.3
    (record,) = await run(db, settings)
    assert record.status == "failed"
    assert "stopped after" in record.error
    async with db.session() as s:
        failed = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "rule.run_failed")
                )
            )
            .scalars()
            .all()
        )
        assert (await s.execute(select(func.count()).select_from(Warning))).scalar_one() == 0
    assert failed and failed[-1].actor_label == "test"


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        *HOSTILE_SQL,
        ("SELECT employee_no FROM readings", "object_key"),
        # keys whose text would depend on DuckDB's version or time zone: refused when saved
        (
            "SELECT employee_no, CAST('2026-01-01 08:00:00+08' AS TIMESTAMPTZ) AS object_key, "
            "'p' AS period_key, 3 AS m FROM readings",
            "the key column object_key is TIMESTAMP WITH TIME ZONE; cast it to VARCHAR",
        ),
        (
            "SELECT employee_no, 'o' AS object_key, INTERVAL 3 DAY AS period_key, 3 AS m FROM readings",
            "the key column period_key is INTERVAL",
        ),
    ],
)
async def test_rules_that_write_or_read_files_are_rejected_with_a_reason(
    client, sessions, db, settings, sql, reason
):
    from tests.data.factories import declare_readings

    await declare_readings(db, settings)
    body = {
        "code": "BAD-1",
        "name": "Bad",
        "specialty": "marketing",
        "rule": {"sql": sql, "thresholds": {"measure": "m", "high": 1}},
    }
    response = await client.post("/api/topics", json=body, headers=await sessions.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "rule_rejected"
    assert reason in response.json()["detail"]
    assert (await client.get("/api/topics", headers=await sessions.headers("admin"))).json() == []
    async with db.session() as s:
        tried = (
            (
                await s.execute(
                    select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "rule.rejected")
                )
            )
            .scalars()
            .all()
        )
    assert tried and tried[-1].actor_label == "admin" and tried[-1].new_value["sql"] == sql


async def test_the_store_itself_refuses_files_and_settings(settings):
    store = BusinessStore.for_settings(settings)
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "SET enable_external_access = true",
        "INSTALL httpfs",
    ):
        with pytest.raises(duckdb.Error):
            store.run(lambda cur, q=sql: cur.execute(q).fetchall())


async def test_run_endpoint_and_cli(client, sessions, db, settings, tmp_path, monkeypatch):
    await zero_usage_topic(db, settings, tmp_path)
    response = await client.post(
        "/api/rules/run", json={"topics": ["MK-ZERO"]}, headers=await sessions.headers("inspector")
    )
    assert response.status_code == 200
    assert response.json()[0]["warnings_created"] == 3
    refused = await client.post(
        "/api/rules/run", json={"topics": []}, headers=await sessions.headers("manager")
    )
    assert refused.status_code == 403
    for name, value in {
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(settings.data_dir),
        "PROBITY_SECRET_KEY": settings.secret_key.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    BusinessStore.close_all()
    result = await asyncio.to_thread(CliRunner().invoke, main, ["rules", "run", "MK-ZERO"])
    assert result.exit_code == 0, result.output
    assert "hits high 2, medium 1, low 1" in result.output and "created 0, updated 3" in result.output
    BusinessStore.close_all()


def test_schedule_follows_the_monitoring_period():
    from datetime import UTC, datetime

    monday = datetime(2026, 11, 23, 2, tzinfo=UTC)
    tuesday = datetime(2026, 11, 24, 2, tzinfo=UTC)
    december = datetime(2026, 12, 1, 2, tzinfo=UTC)
    assert is_due(Period.daily, None, monday)
    assert not is_due(Period.daily, monday, monday)
    assert is_due(Period.daily, monday, tuesday)
    assert not is_due(Period.weekly, monday, tuesday)
    assert not is_due(Period.monthly, monday, tuesday)
    assert is_due(Period.monthly, monday, december)


@pytest.mark.parametrize(
    ("step", "patched", "said"),
    [
        ("announce", "announce", "announcing the new warnings failed (RuntimeError)"),
        ("link", "evaluate_run", "evaluating linked warnings failed (RuntimeError)"),
        ("announce", "announce", "announcing the new warnings failed (OperationalError)"),
    ],
)
async def test_a_failure_after_the_run_is_recorded_keeps_the_hits_and_is_reported(
    db, settings, tmp_path, monkeypatch, caplog, step, patched, said
):
    """Announcing and linking run after the run commits: whatever they raise, the stored
    warnings stay, the traceback is logged and the run (and the trail) says which step failed."""
    error = (
        RuntimeError("forced") if "RuntimeError" in said else OperationalError("SELECT 1", {}, Exception())
    )

    async def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(engine_service, patched, fail)
    await zero_usage_topic(db, settings, tmp_path)
    (record,) = await run(db, settings)
    assert record.status == "done" and record.warnings_created == 3
    assert "E9999" in record.error and said in record.error
    assert len(await warnings_by_object(db)) == 3
    async with db.session() as s:
        stored = await s.get(RuleRun, record.id)
        noted = (
            await s.execute(
                select(AuditRecord)
                .order_by(AuditRecord.id)
                .where(AuditRecord.action == "rule.run_step_failed")
            )
        ).scalar_one()
        assert (await trail().verify(s)).ok
    assert stored.status == "done" and said in stored.error
    assert noted.object_id == str(record.id) and noted.new_value["step"] == step
    logged = [r for r in caplog.records if r.name == "probity.rules" and r.exc_info]
    assert logged and logged[0].exc_info[1] is error
