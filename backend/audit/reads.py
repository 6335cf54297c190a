"""Reads of case content answered without a write transaction, recorded in the trail in batches.

The inbox list shows evidence, so each list answered is a read for the trail. Writing a trail
record inside every list request would make the phone's most frequent request a write (the trail's
chain takes one lock): instead the request notes the read here (no I/O) and a task appends the
noted reads every ``read_trail_seconds`` in one transaction (``AuditTrail.record_many``), each
with its own actor, request id and time. The app flushes what is left when it stops. A crash of the
process loses at most the reads noted since the last flush (never a change: changes are recorded
in their own transaction); a failed flush keeps the reads and tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from backend.audit.service import AuditTrail, Entry
from backend.kernel.access import Actor
from backend.kernel.db import Database
from backend.kernel.timeutil import utcnow

log = logging.getLogger(__name__)

#: beyond this many unwritten reads (the database refusing writes for long), the oldest are
#: counted in the log and dropped rather than growing without bound
MAX_PENDING = 200_000
#: reads appended per statement within a flush
SLICE = 50


class ReadJournal:
    def __init__(self, db: Database, trail: AuditTrail, every_seconds: float) -> None:
        self.db = db
        self.trail = trail
        self.every = every_seconds
        self._pending: list[Entry] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def note(self, actor: Actor, action: str, object_type: str, ids: Sequence[int], **new: object) -> None:
        """A read of ``ids`` (of ``object_type``) by ``actor``, now; written with the next flush.
        Nothing shown (no ids), nothing read."""
        if not ids:
            return
        self._pending.append(
            Entry(
                actor,
                action,
                object_type,
                new={"ids": list(ids), **new},
                power="case.read",
                at=utcnow(),
            )
        )
        if len(self._pending) > MAX_PENDING:
            dropped = len(self._pending) - MAX_PENDING
            del self._pending[:dropped]
            log.error("trail of reads: %d reads dropped, the database refused them for too long", dropped)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Write every noted read now (one transaction). Returns how many were written."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                written = 0
                async with self.db.session() as session:
                    # in slices, one transaction: each slice's hashing and row building is a few
                    # milliseconds of the loop, so requests answered meanwhile are not held up
                    for start in range(0, len(batch), SLICE):
                        written += await self.trail.record_many(session, batch[start : start + SLICE])
                        await asyncio.sleep(0)
                    await session.commit()
            except BaseException:
                self._pending[:0] = batch  # kept, in order, for the next flush
                raise
            return written

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="trail-of-reads")

    async def stop(self) -> None:
        """Stop the task and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                # shielded: a stop during the write lets it finish (stop's own flush waits for it)
                await asyncio.shield(self.flush())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("trail of reads: flush failed; %d reads kept for the next one", self.pending)
