"""Periodic background jobs, run by ``probity serve`` next to the API.

A feature declares ``JOBS: list[Job]`` in ``backend/<feature>/jobs.py``; the app starts one task
per job when workers are enabled (``PROBITY_WORKERS_ENABLED``; off in tests). A failing run is
logged and retried at the next interval: a job must be safe to run again (idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from backend.kernel.db import Database
from backend.kernel.settings import Settings

log = logging.getLogger("probity.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Database, Settings], Awaitable[object]]
    #: wait this long before the first run (e.g. reminders after a restart)
    first_after_seconds: float = 0.0


class JobRunner:
    def __init__(self, db: Database, settings: Settings, jobs: list[Job]) -> None:
        self.db = db
        self.settings = settings
        self.jobs = jobs
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(job), name=f"job:{job.name}") for job in self.jobs]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self, job: Job) -> bool:
        try:
            result = await job.run(self.db, self.settings)
        except Exception:
            log.exception("job %s failed; it runs again in %.0f s", job.name, job.every_seconds)
            return False
        log.info("job %s: %s", job.name, result)
        return True

    async def _loop(self, job: Job) -> None:
        if await self._wait(job.first_after_seconds):
            return
        while True:
            await self.run_once(job)
            if await self._wait(job.every_seconds):
                return

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True when asked to stop meanwhile."""
        if seconds <= 0:
            return self._stop.is_set()
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True


def discover_jobs() -> list[Job]:
    from backend.kernel.discovery import feature_modules

    return [job for module in feature_modules("jobs") for job in module.JOBS]
