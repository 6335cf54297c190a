"""The rule schedule (job ``rules.run_due``) and the exit proposal, for daily, weekly and monthly topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend.engine.jobs import JOBS
from backend.engine.models import RuleRun, RunStatus
from backend.engine.service import EngineService, months_before
from backend.kernel.timeutil import utcnow
from backend.topics.models import Decision, Topic, TopicRequest, TopicState, Transition
from backend.topics.service import TopicService
from tests.data.factories import ACTOR
from tests.engine.helpers import add_runs, trail, zero_usage_topic


def at(text: str) -> datetime:
    """A moment written in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def set_period(db, topic_id: int, period: str) -> None:
    async with db.session() as s:
        topic = await s.get(Topic, topic_id)
        topic.monitoring_period = period
        await s.commit()


async def due(db, settings, now: datetime) -> list[str]:
    async with db.session() as session:
        return [t.code for t in await EngineService(session, trail(), settings).due_topics(now)]


async def retire(db, settings, now: datetime | None = None) -> list[int]:
    async with db.session() as session:
        return await EngineService(session, trail(), settings).propose_retirements(now)


async def test_a_weekly_topic_runs_once_per_iso_week_in_shanghai(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, rows=[])
    await set_period(db, topic_id, "weekly")
    assert await due(db, settings, at("2026-11-23 02:00")) == ["MK-ZERO"]  # never ran
    await add_runs(db, topic_id, (at("2026-11-23 02:00"), RunStatus.done))  # Monday 10:00 Shanghai
    assert await due(db, settings, at("2026-11-26 09:00")) == []
    assert await due(db, settings, at("2026-11-29 15:59")) == []  # Sunday 23:59 Shanghai
    assert await due(db, settings, at("2026-11-29 16:01")) == ["MK-ZERO"]  # Monday 00:01 Shanghai


async def test_a_monthly_topic_follows_the_shanghai_month_not_the_utc_one(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, rows=[])
    await set_period(db, topic_id, "monthly")
    # 1 October 00:30 in Shanghai is still 30 September in UTC
    await add_runs(db, topic_id, (at("2026-09-30 16:30"), RunStatus.done))
    assert await due(db, settings, at("2026-10-15 04:00")) == []
    assert await due(db, settings, at("2026-10-31 15:59")) == []
    assert await due(db, settings, at("2026-10-31 16:01")) == ["MK-ZERO"]  # 1 November in Shanghai


async def test_a_failed_run_is_retried_after_an_hour_not_at_the_next_period(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, rows=[])
    await set_period(db, topic_id, "monthly")
    await add_runs(
        db,
        topic_id,
        (at("2026-10-01 02:00"), RunStatus.done),
        (at("2026-11-01 02:00"), RunStatus.failed),
    )
    assert await due(db, settings, at("2026-11-01 02:30")) == []
    assert await due(db, settings, at("2026-11-01 03:01")) == ["MK-ZERO"]
    await add_runs(db, topic_id, (at("2026-11-01 03:02"), RunStatus.done))
    assert await due(db, settings, at("2026-11-20 03:00")) == []


async def test_a_topic_put_online_runs_live_at_once(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, state=TopicState.validating, rows=[])
    await set_period(db, topic_id, "monthly")
    await add_runs(db, topic_id, (at("2026-11-02 02:00"), RunStatus.done), trial=True)
    assert await due(db, settings, at("2026-11-10 02:00")) == []
    async with db.session() as session:
        await TopicService(session, trail(), settings).transition(
            topic_id, Transition(to=TopicState.online), ACTOR
        )
    assert await due(db, settings, at("2026-11-10 02:00")) == ["MK-ZERO"]


async def test_the_job_runs_due_topics_once_per_period(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)
    (job,) = [j for j in JOBS if j.name == "rules.run_due"]
    assert await job.run(db, settings) == "1 topic run(s)"
    assert await job.run(db, settings) == "0 topic run(s)"
    async with db.session() as s:
        runs = (await s.execute(select(RuleRun))).scalars().all()
    assert [(r.trigger, r.status, r.warnings_created) for r in runs] == [("schedule", "done", 3)]


async def test_a_monthly_topic_low_for_six_months_is_proposed_once_and_again_after_a_rejection(
    db, settings, tmp_path
):
    topic_id = await zero_usage_topic(db, settings, tmp_path, rows=[])
    await set_period(db, topic_id, "monthly")
    now = utcnow()
    monthly = [(months_before(now, m), RunStatus.done) for m in range(7, 0, -1)]
    await add_runs(db, topic_id, *monthly, hits_low=4)
    (filed,) = await retire(db, settings, now)
    assert await retire(db, settings, now + timedelta(days=1)) == []  # pending: not filed twice
    async with db.session() as session:
        await TopicService(session, trail(), settings).decide(filed, Decision(approve=False), ACTOR)
    assert await retire(db, settings, now + timedelta(days=40)) == []  # rejected: six months again
    later = now + timedelta(days=190)
    await add_runs(db, topic_id, *[(later - timedelta(days=30 * m), RunStatus.done) for m in range(6)])
    (again,) = await retire(db, settings, later)
    assert again != filed
    async with db.session() as s:
        kinds = (await s.execute(select(TopicRequest.kind, TopicRequest.state))).all()
    assert sorted(kinds) == [("exit", "open"), ("exit", "rejected")]


async def test_trial_runs_and_medium_hits_keep_a_topic(db, settings, tmp_path):
    topic_id = await zero_usage_topic(db, settings, tmp_path, rows=[])
    now = utcnow()
    # validated for a year, online for a month: too early to judge
    await add_runs(db, topic_id, (now - timedelta(days=365), RunStatus.done), trial=True)
    await add_runs(db, topic_id, (now - timedelta(days=30), RunStatus.done), hits_low=2)
    assert await retire(db, settings, now) == []
    # online for seven months, one orange hit two months ago
    await add_runs(db, topic_id, (now - timedelta(days=210), RunStatus.done))
    await add_runs(db, topic_id, (now - timedelta(days=60), RunStatus.done), hits_medium=1)
    assert await retire(db, settings, now) == []


def test_months_before_clamps_the_day():
    assert months_before(at("2026-08-31 10:00"), 6) == at("2026-02-28 10:00")
    assert months_before(at("2026-03-15 10:00"), 6) == at("2025-09-15 10:00")
    assert months_before(at("2028-08-31 10:00"), 6) == at("2028-02-29 10:00")
