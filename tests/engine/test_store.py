"""How a run stores its hits (one JSON array from DuckDB, one upsert) and announces them (a few
statements for all of them): evidence values, duplicate keys, and every announced warning's
event, timeline and trail records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from backend.audit.models import AuditRecord
from backend.events.models import Event, EventRecipient
from backend.topics.models import RuleVersion
from backend.warnings.models import Warning, WarningStep
from tests.engine.helpers import SCENARIO, month_rows, run, trail, zero_usage_topic


async def topic_with(db: Any, settings: Any, tmp_path: Path, sql: str, rows: list[Any]) -> None:
    await zero_usage_topic(db, settings, tmp_path, rows=rows, sql=sql)


async def stored(db: Any) -> dict[str, Warning]:
    async with db.session() as s:
        return {w.object_key: w for w in (await s.execute(select(Warning))).scalars()}


async def test_evidence_holds_dates_decimals_and_times_in_iso_form(db, settings, tmp_path):
    sql = """
    SELECT employee_no, account_no AS object_key, month AS period_key,
           count(*) FILTER (WHERE kwh <= $max_kwh) AS zero_days,
           max(reading_date) AS last_day,
           CAST(sum(kwh) AS DECIMAL(10, 2)) AS kwh,
           TIMESTAMP '2026-10-05 08:30:00' AS seen_at,
           TIMESTAMP '2026-10-05 08:30:00.25' AS seen_at_fraction,
           CAST('nan' AS DOUBLE) AS not_a_number,
           'text ''quoted'' 王' AS note
    FROM readings GROUP BY ALL
    """
    await topic_with(db, settings, tmp_path, sql, month_rows("A001", "E0005", 3))
    (record,) = await run(db, settings)
    assert record.status == "done" and record.warnings_created == 1, record.error
    evidence = (await stored(db))["A001"].evidence
    assert evidence["measure"] == "zero_days" and evidence["value"] == 3 and evidence["bound"] == 3
    assert evidence["direction"] == "above" and evidence["employee_no"] == "E0005"
    assert evidence["rule_version"] == 1
    assert evidence["values"] == {
        "zero_days": 3,
        "last_day": "2026-10-04",
        "kwh": 5.0,
        "seen_at": "2026-10-05T08:30:00",
        "seen_at_fraction": "2026-10-05T08:30:00.250000",
        "not_a_number": None,
        "note": "text 'quoted' 王",
    }


async def test_the_same_object_twice_in_one_run_keeps_the_highest_level(db, settings, tmp_path):
    sql = """
    SELECT employee_no, account_no AS object_key, month AS period_key,
           count(*) FILTER (WHERE kwh <= $max_kwh) AS zero_days
    FROM readings GROUP BY ALL
    UNION ALL
    SELECT employee_no, account_no, month, 1 FROM readings WHERE account_no = 'A001' GROUP BY ALL
    """
    await topic_with(db, settings, tmp_path, sql, SCENARIO)
    (record,) = await run(db, settings)
    assert record.status == "done"
    assert (record.hits_high, record.hits_low) == (2, 2)  # A001 high and low, A005 (unknown) high
    assert (record.warnings_created, record.unassigned) == (3, 1)
    assert {k: w.level for k, w in (await stored(db)).items()} == {
        "A001": "high",
        "A002": "medium",
        "A003": "low",
    }


async def test_many_new_warnings_are_announced_each_with_event_steps_and_trail(db, settings, tmp_path):
    rows = [r for i in range(120) for r in month_rows(f"B{i:03d}", "E0005" if i % 2 else "E0006", 1 + i % 3)]
    await topic_with(
        db,
        settings,
        tmp_path,
        """SELECT employee_no, account_no AS object_key, month AS period_key,
                  count(*) FILTER (WHERE kwh <= $max_kwh) AS zero_days FROM readings GROUP BY ALL""",
        rows,
    )
    (record,) = await run(db, settings)
    assert record.status == "done" and record.warnings_created == 120
    async with db.session() as s:
        states = (await s.execute(select(Warning.state, func.count()).group_by(Warning.state))).all()
        events = (await s.execute(select(Event).where(Event.kind == "warning.raised"))).scalars().all()
        told = (await s.execute(select(EventRecipient.event_id, EventRecipient.reason))).all()
        steps = (
            await s.execute(
                select(WarningStep.warning_id, WarningStep.kind, WarningStep.data).order_by(WarningStep.id)
            )
        ).all()
        trail_rows = (
            await s.execute(
                select(AuditRecord.object_id, AuditRecord.action)
                .where(AuditRecord.object_type == "warning")
                .order_by(AuditRecord.id)
            )
        ).all()
        verified = await trail().verify(s)
    assert states == [("delivered", 120)]
    assert len(events) == len({e.subject_id for e in events}) == 120
    assert all(e.data["due_at"] and e.data["warning_id"] == e.subject_id for e in events)
    by_event: dict[int, set[str]] = {}
    for event_id, reason in told:
        by_event.setdefault(event_id, set()).add(reason)
    levels = {e.id: e.level for e in events}
    assert {event_id: "inspector" in reasons for event_id, reasons in by_event.items()} == {
        event_id: level == "high" for event_id, level in levels.items()
    }
    assert all("subject" in reasons for reasons in by_event.values())
    kinds: dict[int, list[str]] = {}
    for warning_id, kind, data in steps:
        kinds.setdefault(warning_id, []).append(kind)
        if kind == "delivered":
            assert levels[data["event_id"]] and data["recipients"][0]["tier"] == "subject"
    assert set(map(tuple, kinds.values())) == {("raised", "delivered")} and len(kinds) == 120
    actions: dict[str, list[str]] = {}
    for object_id, action in trail_rows:
        actions.setdefault(object_id, []).append(action)
    assert set(map(tuple, actions.values())) == {("warning.raised", "warning.delivered")}
    assert verified.ok, verified.message


async def test_a_trial_run_never_turns_a_live_warning_into_a_trial_one(db, settings, tmp_path):
    import json

    from backend.warnings.hits import RunInfo, store_payload

    await zero_usage_topic(db, settings, tmp_path, rows=month_rows("A001", "E0005", 3))
    (record,) = await run(db, settings)
    assert record.status == "done" and record.warnings_created == 1, record.error
    live = (await stored(db))["A001"]
    assert live.trial is False
    hit = {"e": "E0005", "o": "A001", "p": live.period_key, "l": "high", "v": {"value": 4}}
    info = RunInfo(
        run_id=live.last_run_id or 0,
        topic_id=live.topic_id,
        topic_code=live.topic_code,
        rule_version_id=live.rule_version_id,
        specialty=live.specialty,
        trial=True,
    )
    async with db.session() as s:
        await store_payload(s, json.dumps([hit]), info)
        await s.commit()
    again = (await stored(db))["A001"]
    assert again.id == live.id and again.hit_count == live.hit_count + 1
    assert again.trial is False and again.level == "high"


async def test_keys_are_stored_as_python_printed_them_and_other_key_types_fail_the_run(
    db, settings, tmp_path
):
    sql = """
    SELECT employee_no, account_no = 'A001' AS object_key,
           CAST(max(reading_date) AS TIMESTAMP) + INTERVAL 500 MILLISECOND AS period_key,
           count(*) FILTER (WHERE kwh <= $max_kwh) AS zero_days
    FROM readings GROUP BY employee_no, account_no
    """
    await topic_with(db, settings, tmp_path, sql, month_rows("A001", "E0005", 3))
    (record,) = await run(db, settings)
    assert record.status == "done" and record.warnings_created == 1, record.error
    (warning,) = (await stored(db)).values()
    assert (warning.object_key, warning.period_key) == ("True", "2026-10-04 00:00:00.500000")


async def test_a_key_of_a_type_with_no_stable_text_fails_the_run_and_says_so(db, settings, tmp_path):
    """Saving such a rule is refused now (test_run); a rule saved before that check still fails
    its run, naming the column."""
    sql = """
    SELECT employee_no, account_no AS object_key, CAST(max(reading_date) AS {kind}) AS period_key,
           count(*) FILTER (WHERE kwh <= $max_kwh) AS zero_days
    FROM readings GROUP BY ALL
    """
    await topic_with(db, settings, tmp_path, sql.format(kind="VARCHAR"), month_rows("A001", "E0005", 3))
    async with db.session() as s:  # as an older version of Probity let it be saved
        await s.execute(update(RuleVersion).values(sql=sql.format(kind="TIMESTAMPTZ")))
        await s.commit()
    (record,) = await run(db, settings)
    assert record.status == "failed" and not await stored(db)
    assert "period_key is TIMESTAMP WITH TIME ZONE" in record.error and "VARCHAR" in record.error
