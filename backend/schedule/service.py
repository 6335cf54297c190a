"""The scheduler: each periodic job runs once per due time, whatever the number of processes.

Every job has a row in the ``schedule`` table (``backend/schedule/models.py``): its next due time,
the lease of the process running it, and what its last run did. A process that runs jobs (the
``scheduler`` and ``all`` roles) looks every ``schedule_poll_seconds`` for jobs that are due and
claims each one with one conditional statement::

    UPDATE schedule SET lease_token = :token, lease_until = :now + lease, …
    WHERE name = :name AND next_due_at <= :now AND (lease_until IS NULL OR lease_until < :now)
    RETURNING next_due_at

PostgreSQL re-checks the condition on the row once a concurrent claim commits, SQLite writes one
transaction at a time: either way one process gets the row and the others none, so a due job runs
once. While it runs its lease is renewed (every third of ``schedule_lease_seconds``); when it ends,
the same process (still holding the token) writes the next due time and clears the lease.

* The next due time follows the *due time*, not the end of the run: ``due + k × every`` with the
  smallest ``k`` that lies in the future, so due times do not drift and slots missed while the job
  ran or while no process was up are skipped (the job runs once for them, not once per slot).
  A daily job (``Job.daily_at``) is due each day at a local time (``settings.timezone``).
* A restart changes nothing: the row persists. A job already run is not run again before its next
  due time; one whose due time passed while nothing ran runs once, at once.
* A process that dies mid-run leaves its lease; once it lapses another process claims the job and
  runs it again for the same due time. Jobs are idempotent (``backend/kernel/jobs.py``): what they
  tell people is keyed by what it is about, so nobody is told twice.
* A failed run is logged and recorded (``last_error``); the job runs again at its next due time.

Why a table and not a scheduling library: the processes already share the operational database,
and a row with a conditional claim is the whole of "exactly one process per due time" on SQLite and
PostgreSQL alike, with its state (next due time, last run, error) visible and surviving restarts;
an in-process scheduler would run every job once per process, and a distributed one would bring a
broker or a lock service the deployment does not have.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.kernel.db import Database
from backend.kernel.jobs import Job
from backend.kernel.settings import Settings
from backend.kernel.timeutil import as_utc, utcnow
from backend.schedule.models import Schedule

log = logging.getLogger("probity.schedule")

SCHEDULE: Table = Schedule.__table__  # type: ignore[attr-defined]
Clock = Callable[[], datetime]
DAY = timedelta(days=1)


def _daily_slot_after(job: Job, settings: Settings, after: datetime) -> datetime:
    """The first local ``job.daily_at`` strictly after ``after``."""
    assert job.daily_at is not None
    zone = ZoneInfo(settings.timezone)
    at = job.daily_at(settings)
    day = as_utc(after).astimezone(zone).date()
    while True:
        slot = datetime.combine(day, at, zone)
        if slot > after:
            return as_utc(slot)
        day += DAY


def first_due(job: Job, settings: Settings, now: datetime) -> datetime:
    """When a job never scheduled is first due."""
    if job.daily_at is not None:
        return _daily_slot_after(job, settings, now)
    return now + timedelta(seconds=job.first_after_seconds)


def next_due(job: Job, settings: Settings, due: datetime, now: datetime) -> datetime:
    """The slot after ``due`` that is later than ``now`` (slots missed meanwhile are skipped)."""
    if job.daily_at is not None:
        return _daily_slot_after(job, settings, max(due, now))
    every = timedelta(seconds=job.every_seconds)
    k = max(1, math.floor((now - due) / every) + 1)
    return due + k * every


@dataclass(frozen=True)
class Claim:
    job: Job
    token: str
    #: the due time this run is for
    due_at: datetime


def _insert_ignoring(dialect: str) -> Any:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(SCHEDULE).on_conflict_do_nothing(index_elements=["name"])


class Scheduler:
    """Runs ``jobs`` when due, as one of any number of processes on one database.

    ``clock`` is injectable (tests drive time); :meth:`tick` claims and runs what is due now and
    returns when those runs have ended; :meth:`start` / :meth:`stop` run ticks in the background.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        jobs: list[Job],
        *,
        clock: Clock = utcnow,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.jobs = jobs
        self.clock = clock
        self.owner = (owner or f"{socket.gethostname()}:{os.getpid()}")[:128]
        self.lease = timedelta(seconds=settings.schedule_lease_seconds)
        self._ready = False
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._stop = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    # --- the table -------------------------------------------------------------------------------
    async def ensure(self) -> None:
        """A row for every job that has none (due at its first due time); rows there are kept."""
        if not self.jobs:
            return
        now = self.clock()
        rows = [
            {"name": j.name, "next_due_at": first_due(j, self.settings, now), "runs": 0} for j in self.jobs
        ]
        async with self.db.engine.begin() as conn:
            await conn.execute(_insert_ignoring(conn.dialect.name), rows)
        self._ready = True

    async def claim(self, job: Job, now: datetime) -> Claim | None:
        """The job's lease if it is due and nobody holds a live lease on it, else None."""
        token = secrets.token_hex(16)
        stmt = (
            update(SCHEDULE)
            .where(
                SCHEDULE.c.name == job.name,
                SCHEDULE.c.next_due_at <= now,
                or_(SCHEDULE.c.lease_until.is_(None), SCHEDULE.c.lease_until < now),
            )
            .values(
                lease_token=token, lease_owner=self.owner, lease_until=now + self.lease, last_started_at=now
            )
            .returning(SCHEDULE.c.next_due_at)
        )
        async with self.db.engine.begin() as conn:
            due = (await conn.execute(stmt)).scalar_one_or_none()
        return None if due is None else Claim(job, token, as_utc(due))

    async def renew(self, claim: Claim) -> bool:
        """Extend the lease; False when it was lost (lapsed and claimed by another process)."""
        now = self.clock()
        async with self.db.engine.begin() as conn:
            result = await conn.execute(
                update(SCHEDULE)
                .where(SCHEDULE.c.name == claim.job.name, SCHEDULE.c.lease_token == claim.token)
                .values(lease_until=now + self.lease)
            )
        return bool(result.rowcount)

    async def finish(self, claim: Claim, *, result: str | None, error: str | None) -> bool:
        """Record the run, set the next due time from the due time, free the lease. False (nothing
        written) when the lease was lost meanwhile: the process that took it over records its run."""
        now = self.clock()
        values = {
            "next_due_at": next_due(claim.job, self.settings, claim.due_at, now),
            "lease_token": None,
            "lease_owner": None,
            "lease_until": None,
            "last_due_at": claim.due_at,
            "last_finished_at": now,
            "last_result": result,
            "last_error": error,
            "runs": SCHEDULE.c.runs + 1,
        }
        async with self.db.engine.begin() as conn:
            done = await conn.execute(
                update(SCHEDULE)
                .where(SCHEDULE.c.name == claim.job.name, SCHEDULE.c.lease_token == claim.token)
                .values(**values)
            )
        if not done.rowcount:
            log.warning("job %s: its lease was lost while it ran to another process", claim.job.name)
        return bool(done.rowcount)

    async def release(self, claim: Claim) -> None:
        """Give the lease back without a run recorded: the job is still due (a stop mid-run)."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(SCHEDULE)
                .where(SCHEDULE.c.name == claim.job.name, SCHEDULE.c.lease_token == claim.token)
                .values(lease_token=None, lease_owner=None, lease_until=None)
            )

    async def rows(self) -> dict[str, Schedule]:
        """The schedule as it stands, by job name (``probity`` diagnostics and tests)."""
        async with self.db.session() as session:
            found = (await session.execute(select(Schedule))).scalars().all()
        return {row.name: row for row in found}

    # --- running ---------------------------------------------------------------------------------
    async def run(self, claim: Claim) -> bool:
        """Run a claimed job, renewing its lease meanwhile; True when it ran without error."""
        job = claim.job
        keeper = asyncio.create_task(self._keep(claim), name=f"lease:{job.name}")
        result: str | None = None
        error: str | None = None
        try:
            result = str(await job.run(self.db, self.settings))[:2000]
            log.info("job %s (due %s): %s", job.name, claim.due_at.isoformat(), result)
        except asyncio.CancelledError:
            # stopped mid-run: the due time stays, the lease is freed for the next process
            await self.release(claim)
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.exception("job %s failed; it runs again at its next due time", job.name)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        await self.finish(claim, result=result, error=error)
        return error is None

    async def _keep(self, claim: Claim) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                if not await self.renew(claim):
                    log.warning("job %s: lease lost while running", claim.job.name)
                    return
            except Exception:
                log.exception("job %s: could not renew its lease (kept until it lapses)", claim.job.name)

    async def due(self) -> list[Claim]:
        """Claim every job due now that this process is not already running."""
        if not self._ready:
            await self.ensure()
        now = self.clock()
        claims = []
        for job in self.jobs:
            if job.name in self._running:
                continue
            claim = await self.claim(job, now)
            if claim is not None:
                claims.append(claim)
        return claims

    async def tick(self) -> list[str]:
        """Claim what is due and run it; returns the names of the jobs this process ran."""
        claims = await self.due()
        await asyncio.gather(*(self.run(c) for c in claims))
        return [c.job.name for c in claims]

    def start(self) -> Scheduler:
        self._stop.clear()
        self._loop = asyncio.create_task(self._forever(), name="scheduler")
        return self

    async def stop(self) -> None:
        """Stop looking for due jobs; runs under way are cancelled (their leases lapse and another
        process, or the next start, runs them again)."""
        self._stop.set()
        tasks = [t for t in (self._loop, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _ended(self, name: str, _task: asyncio.Task[Any]) -> None:
        self._running.pop(name, None)

    async def _forever(self) -> None:
        while not self._stop.is_set():
            try:
                for claim in await self.due():
                    task = asyncio.create_task(self.run(claim), name=f"job:{claim.job.name}")
                    self._running[claim.job.name] = task
                    task.add_done_callback(functools.partial(self._ended, claim.job.name))
            except Exception:
                log.exception("scheduler: could not read the schedule; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.settings.schedule_poll_seconds)
