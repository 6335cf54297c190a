"""Reads of case content answered without a write transaction, recorded in the trail in batches.

The inbox list shows evidence, so each list answered is a read for the trail. Writing a trail
record inside every list request would make the phone's most frequent request a write (on SQLite
one writer at a time): instead the request notes the read here (no I/O) and a task appends the
noted reads every ``read_trail_seconds`` in one transaction (``AuditTrail.record_many``).

Within one such interval, the same person reading the same items the same way again (a phone
refreshing its inbox) adds to one record rather than making another: the record keeps the first
time (its ``at``), the last time, how many times and every request id. A different page, view,
channel or account is a record of its own.

After a flush, the trail's head is checkpointed outside the database when it has grown and
``audit_checkpoint_seconds`` have passed (:class:`backend.audit.checkpoints.Checkpointer`), so
the head reached by every act, not only reads, is witnessed within that time while the app runs.

Per process, not scheduled: each process that answers HTTP (the ``all`` and ``api`` roles) notes
its own reads in its own memory and flushes them itself, so this is not a job of the schedule
table (``backend.schedule``), which runs a job in one process of many.

The app flushes what is left when it stops. A crash of the process loses at most the reads noted
since the last flush (never a change: changes are recorded in their own transaction); a failed
flush keeps the reads and tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.audit.checkpoints import Checkpointer, Checkpoints
from backend.audit.service import AuditTrail, Entry, jsonable
from backend.kernel.access import Actor
from backend.kernel.db import Database
from backend.kernel.timeutil import utcnow

log = logging.getLogger(__name__)

#: beyond this many unwritten records (the database refusing writes for long), the oldest are
#: counted in the log and dropped rather than growing without bound
MAX_PENDING = 100_000
#: records appended per statement within a flush
SLICE = 50


@dataclass
class _Read:
    actor: Actor
    action: str
    object_type: str
    new: dict[str, Any]
    first_at: datetime
    last_at: datetime
    request_ids: list[str | None] = field(default_factory=list)

    def entry(self) -> Entry:
        new = dict(self.new)
        if len(self.request_ids) > 1:
            new.update(
                times=len(self.request_ids),
                last_at=jsonable({"at": self.last_at})["at"],  # type: ignore[index]
                request_ids=self.request_ids,
            )
        ids = new.get("ids") or []
        one = ids[0] if len(ids) == 1 else None  # a look at one object is found by that object too
        return Entry(
            self.actor, self.action, self.object_type, one, new=new, power="case.read", at=self.first_at
        )


class ReadJournal:
    def __init__(self, db: Database, trail: AuditTrail, every_seconds: float) -> None:
        self.db = db
        self.trail = trail
        self.every = every_seconds
        settings = db.settings
        #: the trail's head, checkpointed outside the database after flushes (see checkpoints.py)
        self.checkpointer = Checkpointer(
            Checkpoints.in_dir(settings.data_dir, settings.secret_key.get_secret_value()),
            settings.audit_checkpoint_seconds,
            seal=trail.seal,
        )
        self._pending: dict[tuple[Any, ...], _Read] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def note(self, actor: Actor, action: str, object_type: str, ids: Sequence[int], **new: object) -> None:
        """A read of ``ids`` (of ``object_type``) by ``actor``, now; written with the next flush.
        Nothing shown (no ids), nothing read."""
        if not ids:
            return
        now = utcnow()
        values = {"ids": list(ids), **new}
        key = (actor.person_id, actor.account_id, actor.channel, action, object_type, repr(values))
        read = self._pending.get(key)
        if read is None:
            read = self._pending[key] = _Read(actor, action, object_type, values, now, now)
            if len(self._pending) > MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))
                log.error("trail of reads: a read dropped, the database refused them for too long")
        read.last_at = now
        read.request_ids.append(actor.request_id)

    @property
    def pending(self) -> int:
        """Records waiting for the next flush."""
        return len(self._pending)

    async def flush(self) -> int:
        """Write every noted read now (one transaction). Returns how many records were written."""
        async with self._lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return 0
            entries = [read.entry() for read in batch.values()]
            try:
                written = 0
                async with self.db.session() as session:
                    # in slices, one transaction: each slice's row building is a few milliseconds
                    # of the loop, so requests answered meanwhile are not held up
                    for start in range(0, len(entries), SLICE):
                        written += await self.trail.record_many(session, entries[start : start + SLICE])
                        await asyncio.sleep(0)
                    await session.commit()
            except BaseException:
                # kept for the next flush, first in order (reads noted meanwhile join theirs)
                for key, read in self._pending.items():
                    if key in batch:
                        batch[key].request_ids.extend(read.request_ids)
                        batch[key].last_at = read.last_at
                    else:
                        batch[key] = read
                self._pending = batch
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
        try:
            await self.checkpointer.maybe(self.db, force=True)
        except Exception:
            log.exception("trail of acts: the head could not be checkpointed at stop")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                # shielded: a stop during the write lets it finish (stop's own flush waits for it)
                await asyncio.shield(self.flush())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("trail of reads: flush failed; %d records kept for the next one", self.pending)
                continue
            try:
                await asyncio.shield(self.checkpointer.maybe(self.db))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("trail of acts: the head could not be checkpointed; tried again later")
