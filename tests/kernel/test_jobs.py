from __future__ import annotations

import asyncio

from backend.kernel.jobs import Job, JobRunner, discover_jobs


def test_features_declare_their_jobs():
    names = {job.name for job in discover_jobs()}
    assert {"rules.run_due", "warnings.sweep", "checkups.remind"} <= names


async def test_every_job_runs_once_on_the_demo_database(db, settings):
    runner = JobRunner(db, settings, discover_jobs())
    for job in runner.jobs:
        assert await runner.run_once(job), f"job {job.name} failed"


async def test_a_failing_job_is_logged_and_retried_and_stop_ends_the_loop(db, settings, caplog):
    calls: list[int] = []

    async def flaky(_db, _settings):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return "ok"

    runner = JobRunner(db, settings, [Job("flaky", every_seconds=0.01, run=flaky)])
    runner.start()
    for _ in range(200):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    assert len(calls) >= 3
    assert "job flaky failed" in caplog.text
    settled = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == settled
