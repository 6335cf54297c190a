"""The scheduler: each periodic job runs once per due time, whatever the number of processes.

Two or three ``Scheduler`` objects on their own ``Database`` (their own connection pool) stand for
as many processes; time is a clock the test moves (no real minutes pass).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from backend.kernel.db import Database
from backend.kernel.jobs import Job, discover_jobs
from backend.kernel.settings import Settings
from backend.schedule.service import Claim, Scheduler, next_due


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def move(self, **delta: float) -> None:
        self.at += timedelta(**delta)


T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


class Counted:
    """A job body that counts its runs (and can wait at a barrier or fail)."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    async def __call__(self, db: Database, settings: Settings) -> str:
        self.runs.append("ran")
        return f"run {len(self.runs)}"


class Racing(Scheduler):
    """A scheduler whose claim waits until every racer has reached it (the interleaving forced)."""

    def __init__(self, *args, barrier: asyncio.Barrier, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.barrier = barrier

    async def claim(self, job: Job, now: datetime) -> Claim | None:
        await self.barrier.wait()
        return await super().claim(job, now)


def test_features_declare_their_jobs():
    names = {job.name for job in discover_jobs()}
    assert {"rules.run_due", "warnings.sweep", "checkups.remind", "ladder.sweep", "problems.remind"} <= names


async def test_every_job_runs_on_the_demo_database(db, settings):
    clock = Clock(T0)
    scheduler = Scheduler(db, settings, discover_jobs(), clock=clock)
    await scheduler.ensure()
    clock.move(days=2)  # everything is due, the daily reminders included
    ran = await scheduler.tick()
    rows = await scheduler.rows()
    assert set(ran) == {job.name for job in discover_jobs()}
    for name in ran:
        assert rows[name].last_error is None, f"job {name} failed: {rows[name].last_error}"
        assert rows[name].runs == 1 and rows[name].lease_token is None


async def test_two_processes_racing_for_a_due_job_run_it_once(settings):
    job_body = Counted()
    job = Job("test.race", every_seconds=300, run=job_body)
    clock = Clock(T0)
    barrier = asyncio.Barrier(2)
    first, second = Database(settings), Database(settings)
    try:
        a = Racing(first, settings, [job], clock=clock, owner="a", barrier=barrier)
        b = Racing(second, settings, [job], clock=clock, owner="b", barrier=barrier)
        await a.ensure()
        await b.ensure()  # the row is there: kept as it is
        ran = await asyncio.gather(a.tick(), b.tick())
        assert sorted(len(r) for r in ran) == [0, 1]
        assert job_body.runs == ["ran"]
        row = (await a.rows())["test.race"]
        assert row.runs == 1 and row.lease_token is None
        assert row.next_due_at == T0 + timedelta(seconds=300)
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_restart_neither_repeats_nor_skips_a_run(settings):
    job_body = Counted()
    job = Job("test.restart", every_seconds=600, run=job_body)
    clock = Clock(T0)
    db = Database(settings)
    try:
        assert await Scheduler(db, settings, [job], clock=clock).tick() == ["test.restart"]
        clock.move(seconds=30)
        # a new process (a restart) on the same database: the job ran, it is not due again yet
        assert await Scheduler(db, settings, [job], clock=clock).tick() == []
        assert len(job_body.runs) == 1
        # down over two due times (10 and 20 minutes): after a restart it runs once, at once
        clock.move(minutes=25)
        restarted = Scheduler(db, settings, [job], clock=clock)
        assert await restarted.tick() == ["test.restart"]
        assert await restarted.tick() == []
        assert len(job_body.runs) == 2
        # the next due time keeps to the slots (T0 + 30 min), it does not start from the restart
        assert (await restarted.rows())["test.restart"].next_due_at == T0 + timedelta(minutes=30)
    finally:
        await db.dispose()


async def test_three_processes_run_each_job_once_per_due_time(settings):
    fast, slow = Counted(), Counted()
    jobs = [Job("test.fast", every_seconds=60, run=fast), Job("test.slow", every_seconds=180, run=slow)]
    clock = Clock(T0)
    databases = [Database(settings) for _ in range(3)]
    try:
        schedulers = [
            Scheduler(d, settings, jobs, clock=clock, owner=f"p{i}") for i, d in enumerate(databases)
        ]
        ran: list[str] = []
        for _ in range(9):  # nine minutes, every process looking each minute
            for names in await asyncio.gather(*(s.tick() for s in schedulers)):
                ran += names
            clock.move(minutes=1)
        assert ran.count("test.fast") == 9 and len(fast.runs) == 9
        assert ran.count("test.slow") == 3 and len(slow.runs) == 3
        rows = await schedulers[0].rows()
        assert rows["test.fast"].runs == 9 and rows["test.slow"].runs == 3
    finally:
        for d in databases:
            await d.dispose()


async def test_a_crash_mid_run_leaves_a_lease_that_lapses_then_the_job_runs_again(db, settings):
    job_body = Counted()
    job = Job("test.crash", every_seconds=3600, run=job_body)
    clock = Clock(T0)
    crashed = Scheduler(db, settings, [job], clock=clock, owner="crashed")
    claims = await crashed.due()  # claimed, then the process dies before it finishes
    assert [c.job.name for c in claims] == ["test.crash"]
    other = Scheduler(db, settings, [job], clock=clock, owner="other")
    assert await other.tick() == []  # the lease is live
    clock.move(seconds=settings.schedule_lease_seconds + 1)
    assert await other.tick() == ["test.crash"]  # lapsed: run again for the same due time
    row = (await other.rows())["test.crash"]
    assert row.last_due_at == T0 and row.next_due_at == T0 + timedelta(hours=1)
    # the crashed run's late finish writes nothing: its lease is gone
    assert await crashed.finish(claims[0], result="late", error=None) is False


async def test_a_failing_run_is_recorded_and_the_job_runs_at_its_next_due_time(db, settings):
    calls: list[int] = []

    async def flaky(_db: Database, _settings: Settings) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return "ok"

    clock = Clock(T0)
    scheduler = Scheduler(db, settings, [Job("test.flaky", every_seconds=60, run=flaky)], clock=clock)
    await scheduler.tick()
    row = (await scheduler.rows())["test.flaky"]
    assert row.last_error == "RuntimeError: boom" and row.lease_token is None
    assert await scheduler.tick() == []
    clock.move(minutes=1)
    await scheduler.tick()
    row = (await scheduler.rows())["test.flaky"]
    assert row.last_error is None and row.last_result == "ok" and row.runs == 2


async def test_the_background_loop_runs_due_jobs_and_stops(db, settings):
    job_body = Counted()
    fast = settings.model_copy(update={"schedule_poll_seconds": 0.01})
    scheduler = Scheduler(db, fast, [Job("test.loop", every_seconds=3600, run=job_body)]).start()
    for _ in range(500):  # bounded wait
        if job_body.runs:
            break
        await asyncio.sleep(0.01)
    await scheduler.stop()
    assert job_body.runs == ["ran"]


@pytest.mark.parametrize(
    ("due", "now", "expected"),
    [
        # a run that ends before the next slot: the next slot
        ("10:00", "10:01", "10:05"),
        # a run that took longer than the interval: the slot it overran is skipped
        ("10:00", "10:07", "10:10"),
        # down for an hour: one run, then the next slot on the grid
        ("10:00", "11:02", "11:05"),
    ],
)
def test_the_next_due_time_follows_the_due_time_not_the_end_of_the_run(settings, due, now, expected):
    def at(hm: str) -> datetime:
        h, m = map(int, hm.split(":"))
        return datetime(2026, 3, 2, h, m, tzinfo=UTC)

    job = Job("x", every_seconds=300, run=Counted())
    assert next_due(job, settings, at(due), at(now)) == at(expected)


def test_a_daily_job_is_due_at_its_local_time(settings):
    job = Job("x", every_seconds=86400, run=Counted(), daily_at=lambda s: time(9, 0))
    due = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    # ran at 09:00 and ended at 09:20 (Shanghai): next 09:00 tomorrow
    assert next_due(job, settings, due, due + timedelta(minutes=20)) == due + timedelta(days=1)
    # down for three days: the next 09:00 after now, once
    late = due + timedelta(days=3, hours=2)
    assert next_due(job, settings, due, late) == due + timedelta(days=4)
    # the check-up reminders are such a job, at PROBITY_CHECKUP_REMINDER_AT
    (reminders,) = [j for j in discover_jobs() if j.name == "checkups.remind"]
    assert reminders.daily_at is not None and reminders.daily_at(settings) == settings.checkup_reminder_at
