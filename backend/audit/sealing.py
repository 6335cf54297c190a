"""Sealing: the trail's pending records chained, moments after they were written.

A request writes its record (content and ``mac``) in its own transaction, atomic with the change,
and never touches the chain head: writing requests do not wait for one another on the trail
(before, each took the one ``audit_chain`` row for the rest of its transaction, so on PostgreSQL
every writing request ran one at a time). A sealer then, in a short transaction of its own:

1. takes the head: an ``UPDATE`` of the ``audit_chain`` row (a row lock on PostgreSQL, the write
   lock on SQLite). A second sealer waits here until the first commits, and then reads what the
   first wrote: the head is the guard that nothing is chained twice;
2. reads the pending records (``seq IS NULL``) in id order, at most ``SEAL_BATCH``, and checks
   each one's mac: one that does not match (written or edited behind the application's back) is
   left pending, logged, and named by ``probity audit verify``;
3. gives them the next seqs and their hashes in ONE statement that only changes rows still
   pending: if it changes fewer rows than it read, someone else chained them, and the batch is
   rolled back (:class:`ChainConflict`), never chained twice;
4. advances the head and commits.

PostgreSQL ids come from a sequence and may commit out of order: a record committed after a
higher id was sealed is sealed by the next pass, with a later seq. The chain's order is the order
of sealing; a record is never skipped (it stays pending until sealed) nor chained twice.

Every process of ``probity serve`` seals every ``audit_seal_seconds`` (:class:`Sealer`, and when it
stops); ``probity audit verify``, ``head`` and ``purge`` seal first. A pending record is not yet
covered by the chain: for those moments (like the newest records between two checkpoints of the
head) its deletion is not detected; an edit or a forged one is (the mac).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Row, Select, Table, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.hashing import GENESIS, compute_hash, compute_mac
from backend.audit.models import AuditChain, AuditRecord
from backend.kernel.db import Database
from backend.kernel.onehop import quick_writes

log = logging.getLogger(__name__)

#: records chained per transaction (each takes the head once)
SEAL_BATCH = 200
RECORD: Table = AuditRecord.__table__  # type: ignore[attr-defined]
CHAIN: Table = AuditChain.__table__  # type: ignore[attr-defined]


class ChainConflict(RuntimeError):
    """Some records of a batch were sealed by someone else meanwhile: the batch is rolled back."""


async def take_head(session: AsyncSession) -> tuple[int, str]:
    """Lock the chain head for the rest of the transaction: (last seq, last hash)."""
    lock = (
        update(CHAIN).where(CHAIN.c.id == 1).values(seq=CHAIN.c.seq).returning(CHAIN.c.seq, CHAIN.c.last_hash)
    )
    row = (await session.execute(lock)).one_or_none()
    if row is None:  # the first record ever (or a wiped trail)
        genesis = {"id": 1, "seq": 0, "last_hash": GENESIS}
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(pg_insert(CHAIN).values(**genesis).on_conflict_do_nothing())
        else:
            await session.execute(sqlite_insert(CHAIN).values(**genesis).on_conflict_do_nothing())
        row = (await session.execute(lock)).one()
    return int(row[0]), str(row[1])


def pending_query(after: int, limit: int) -> Select[Any]:
    """Pending records after id ``after``, in id order: read through the index of the pending
    ones alone (``ix_audit_pending``), however long the sealed trail before them."""
    return (
        select(RECORD).where(RECORD.c.seq.is_(None), RECORD.c.id > after).order_by(RECORD.c.id).limit(limit)
    )


async def read_pending(session: AsyncSession, after: int, limit: int) -> Sequence[Row[Any]]:
    """Pending records after id ``after``, in id order."""
    return (await session.execute(pending_query(after, limit))).all()


async def seal_pending(
    session: AsyncSession, key: bytes, mac_key: bytes, refused: set[int], limit: int = SEAL_BATCH
) -> int:
    """Chain the pending records in batches, each its own transaction (``session`` must hold
    nothing uncommitted). Returns how many were sealed."""
    sealed = 0
    after = 0
    while True:
        if not await read_pending(session, after, 1):  # nothing to do: no lock taken
            await session.rollback()
            return sealed
        try:
            done, after, full = await _seal_batch(session, key, mac_key, refused, after, limit)
        except BaseException:
            await session.rollback()
            raise
        sealed += done
        if not full:
            return sealed


async def _seal_batch(
    session: AsyncSession, key: bytes, mac_key: bytes, refused: set[int], after: int, limit: int
) -> tuple[int, int, bool]:
    """One transaction: (records sealed, last id read, whether the batch was full)."""
    seq, prev = await take_head(session)
    rows = await read_pending(session, after, limit)
    chained: dict[int, tuple[int, str, str]] = {}  # id -> seq, prev_hash, hash
    for row in rows:
        fields = dict(row._mapping)
        if fields["mac"] is None or compute_mac(mac_key, fields) != fields["mac"]:
            if row.id not in refused:
                refused.add(row.id)
                log.error(
                    "trail of acts: pending record id %s (%s on %s %s) does not match its mac: "
                    "not sealed (written or edited behind the application's back)",
                    row.id,
                    row.action,
                    row.object_type,
                    row.object_id,
                )
            continue
        seq += 1
        digest = compute_hash(key, {**fields, "seq": seq, "prev_hash": prev})
        chained[row.id] = (seq, prev, digest)
        prev = digest
    if chained:
        ids = RECORD.c.id
        result = await session.execute(
            update(RECORD)
            .where(ids.in_(list(chained)), RECORD.c.seq.is_(None))
            .values(
                seq=case({i: v[0] for i, v in chained.items()}, value=ids),
                prev_hash=case({i: v[1] for i, v in chained.items()}, value=ids),
                hash=case({i: v[2] for i, v in chained.items()}, value=ids),
            )
        )
        if result.rowcount != len(chained):  # type: ignore[attr-defined]
            raise ChainConflict(
                f"{len(chained) - result.rowcount} of {len(chained)} records were "  # type: ignore[attr-defined]
                "sealed by someone else meanwhile: nothing sealed in this batch"
            )
        await session.execute(update(CHAIN).where(CHAIN.c.id == 1).values(seq=seq, last_hash=prev))
    await session.commit()
    return len(chained), (rows[-1].id if rows else after), len(rows) == limit


class Sealer:
    """This process's sealer: seals every ``every_seconds`` and when it stops."""

    def __init__(
        self, db: Database, seal: Callable[[Database], Awaitable[int]], every_seconds: float
    ) -> None:
        self.db = db
        self._seal = seal
        self.every = every_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="trail-sealer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self._seal(self.db)
        except Exception:
            log.exception("trail of acts: pending records could not be sealed at stop")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                with quick_writes():  # a batch is at most SEAL_BATCH records: backend/kernel/onehop.py
                    await asyncio.shield(self._seal(self.db))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("trail of acts: sealing failed; tried again later")
