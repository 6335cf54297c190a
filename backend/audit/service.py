"""Append to and verify the trail of acts.

A record is written in the caller's transaction, atomic with the change it records, with a
``mac``: HMAC-SHA256 of its content (a key of its own derived from ``PROBITY_SECRET_KEY``). It
does not touch the chain head, so writing requests never wait for one another on the trail. A
sealer chains it moments later (``backend/audit/sealing.py``): its ``seq`` and ``hash``,
HMAC-SHA256 over its content, seq and the previous record's hash. Anyone editing, deleting or
inserting records behind the application's back breaks the chain (or a pending record's mac),
and :func:`verify` names the first bad record.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.checkpoints import Checkpoint, Checkpoints, covering
from backend.audit.hashing import (
    GENESIS,
    canonical,
    chain_key,
    compute_hash,
    compute_mac,
    record_key,
)
from backend.audit.models import AuditChain, AuditRecord
from backend.audit.sealing import seal_pending
from backend.kernel.access import Actor, Principal
from backend.kernel.db import Database
from backend.kernel.timeutil import as_utc, utcnow

#: the trail is kept at least this long: `probity audit purge` refuses anything later
RETENTION_DAYS = 184
RECORD: Table = AuditRecord.__table__  # type: ignore[attr-defined]


def _plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(type(v) in _SCALARS for v in value)
    return type(value) in _SCALARS


#: values JSON keeps exactly as they are (bool is not int here: type() is exact)
_SCALARS = frozenset({str, int, bool, type(None)})


def jsonable(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Make a value dict JSON-safe and stable (dates as ISO strings, sets sorted)."""
    if values is None:
        return None
    if all(_plain(v) for v in values.values()):  # already what JSON gives back (a read's ids)
        return dict(values)
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, datetime):
            out[name] = canonical(value)
        elif hasattr(value, "isoformat"):
            out[name] = value.isoformat()
        elif isinstance(value, set | frozenset):
            out[name] = sorted(value)
        elif isinstance(value, str | int | float | bool | list | dict) or value is None:
            out[name] = value
        else:
            out[name] = str(value)
    return json.loads(json.dumps(out, ensure_ascii=False, default=str))


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the fields whose value changed: (old values, new values)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


@dataclass(frozen=True)
class Entry:
    """One record for :meth:`AuditTrail.record_many` (the arguments of :meth:`AuditTrail.record`)."""

    actor: Actor
    action: str
    object_type: str
    object_id: object | None = None
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None
    power: str | None = None
    #: when the act happened, if not when it is written (reads recorded in batches)
    at: datetime | None = None

    def fields(self, at: datetime) -> dict[str, Any]:
        """The record's content (``at`` unless the entry has its own time): what its mac covers."""
        actor = self.actor
        return {
            "at": self.at or at,
            "actor_person_id": actor.person_id,
            "actor_account_id": actor.account_id,
            "actor_unit_id": actor.unit_id,
            "actor_label": actor.label,
            "actor_post": actor.post_name,
            "channel": actor.channel.value,
            "request_id": actor.request_id,
            "object_type": self.object_type,
            "object_id": None if self.object_id is None else str(self.object_id),
            "action": self.action,
            "power": self.power,
            "old_value": jsonable(self.old),
            "new_value": jsonable(self.new),
        }


class AuditTrail:
    """Writes records in the caller's transaction (commit stays with the caller); seals them."""

    def __init__(self, secret_key: str) -> None:
        self._key = chain_key(secret_key)
        self._mac_key = record_key(secret_key)
        #: pending records this process found not matching their mac (logged once each)
        self.refused: set[int] = set()

    async def record(
        self,
        session: AsyncSession,
        actor: Actor,
        *,
        action: str,
        object_type: str,
        object_id: object | None = None,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
        power: str | None = None,
    ) -> AuditRecord:
        """Add a pending record to ``session``: inserted with the caller's next flush or commit
        (as late as the change allows: on SQLite a transaction writes as briefly as it can)."""
        fields = Entry(actor, action, object_type, object_id, old, new, power).fields(utcnow())
        rec = AuditRecord(**fields, mac=compute_mac(self._mac_key, fields))
        session.add(rec)
        return rec

    async def record_many(self, session: AsyncSession, entries: Sequence[Entry]) -> int:
        """Append ``entries`` in order as :meth:`record` would one by one, with one executemany.
        Returns how many."""
        if not entries:
            return 0
        at = utcnow()
        rows: list[dict[str, Any]] = []
        for entry in entries:
            fields = entry.fields(at)
            rows.append({**fields, "mac": compute_mac(self._mac_key, fields)})
        await session.execute(insert(RECORD), rows)
        return len(rows)

    async def seal(self, db: Database) -> int:
        """Chain every pending record now (see ``backend/audit/sealing.py``). Returns how many."""
        async with db.session() as session:
            return await self.seal_pending(session)

    async def seal_pending(self, session: AsyncSession) -> int:
        """:meth:`seal` in ``session``, which must hold nothing uncommitted (each batch commits)."""
        return await seal_pending(session, self._key, self._mac_key, self.refused)

    async def verify(self, session: AsyncSession, checkpoints: Sequence[Checkpoint] = ()) -> VerifyResult:
        """Walk the chain, then compare it with ``checkpoints`` (kept outside the database): a
        record missing up to a checkpointed seq is a cut or a wipe, a different hash a rewrite."""
        await _repeatable_read(session)
        purges = covering(checkpoints)
        wanted = {c.seq for c in checkpoints}
        seen: dict[int, str] = {}
        expected_seq: int | None = None
        prev = GENESIS
        checked = 0
        async for seq, rec in _stream(session):
            where = f"record seq {seq} (id {rec.id}, {rec.action} on {rec.object_type} {rec.object_id})"
            if expected_seq is None:  # the first record: seq 1, or right after a purge
                expected_seq = seq
                if seq > 1:
                    cut = purges.get(seq - 1)
                    if cut is None or cut.hash != rec.prev_hash:
                        return VerifyResult(
                            False,
                            checked,
                            f"{_missing(1, seq - 1)}: deleted behind the application's back "
                            f"(no purge of them is recorded); the trail starts at {where}",
                        )
                    prev = cut.hash
            if seq < expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    f"{where}: duplicate sequence number, inserted behind the application's back",
                )
            if seq > expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    f"{_missing(expected_seq, seq - 1)}: deleted behind the application's back "
                    f"(next is {where})",
                )
            if rec.prev_hash != prev:
                return VerifyResult(
                    False,
                    checked,
                    f"{where}: does not follow the previous record, "
                    "inserted or re-chained behind the application's back",
                )
            if compute_hash(self._key, rec.model_dump()) != rec.hash:
                return VerifyResult(
                    False,
                    checked,
                    f"{where}: content does not match its hash, "
                    "edited or inserted behind the application's back",
                )
            if seq in wanted:
                seen[seq] = rec.hash
            prev = rec.hash
            expected_seq += 1
            checked += 1
        if expected_seq is None:  # no records: none ever, or all purged
            last = max(purges, default=0)
            prev = purges[last].hash if last else GENESIS
        else:
            last = expected_seq - 1
        beyond = max(checkpoints, key=lambda c: c.seq, default=None)
        if beyond is not None and beyond.seq > last:
            how = (
                "the trail was wiped (no records are left)"
                if expected_seq is None and not purges
                else f"the trail was cut after record {last}"
            )
            return VerifyResult(
                False,
                checked,
                f"{_missing(last + 1, beyond.seq)}; {how}: {beyond.described()} saw record {beyond.seq}",
            )
        for checkpoint in checkpoints:
            if checkpoint.seq in seen and seen[checkpoint.seq] != checkpoint.hash:
                return VerifyResult(
                    False,
                    checked,
                    f"record seq {checkpoint.seq} is not the record {checkpoint.described()} saw: "
                    "the trail was rewritten behind the application's back",
                )
        head = await session.get(AuditChain, 1)
        if head is not None and (head.seq != last or head.last_hash != prev):
            if head.seq > last:
                return VerifyResult(
                    False,
                    checked,
                    f"{_missing(last + 1, head.seq)}: the last {head.seq - last} record(s) "
                    "were deleted behind the application's back",
                )
            return VerifyResult(
                False,
                checked,
                f"chain head (seq {head.seq}) does not match the last record (seq {last}): tampered",
            )
        pending = 0
        for row in await _pending(session):  # written, not sealed yet: present, checked by their mac
            if row.mac is None or compute_mac(self._mac_key, row._mapping) != row.mac:
                return VerifyResult(
                    False,
                    checked,
                    f"pending record id {row.id} ({row.action} on {row.object_type} {row.object_id}): "
                    "content does not match its mac, inserted or edited behind the application's back",
                )
            pending += 1
        purged = f", records 1–{max(purges)} purged" if purges else ""
        against = f", {len(checkpoints)} checkpoint(s) agree" if checkpoints else ""
        waiting = f", {pending} more written and waiting to be sealed" if pending else ""
        return VerifyResult(
            True, checked, f"{checked} records, chain intact{purged}{against}{waiting}", last, prev
        )

    async def purge(
        self,
        db: Database,
        checkpoints: Checkpoints,
        before: datetime,
        actor: Actor,
        *,
        now: datetime | None = None,
    ) -> PurgeResult:
        """Delete the records made before ``before`` (at least ``RETENTION_DAYS`` ago), oldest
        first up to the first one made later. The trail must verify first; a signed ``purge``
        checkpoint (first and last seq, hash at the cut) is written before the delete, and the
        purge itself is a record of the trail. Pending records are sealed first (asked or not)."""
        await self.seal(db)
        limit = (now or utcnow()) - timedelta(days=RETENTION_DAYS)
        if as_utc(before) > limit:
            raise PurgeRefused(
                f"the trail is kept at least {RETENTION_DAYS} days: --before must be "
                f"{limit:%Y-%m-%d} or earlier"
            )
        kept, bad = checkpoints.read()
        async with db.session() as session:
            checked = await self.verify(session, kept)
        if bad or not checked.ok:
            raise PurgeRefused(f"the trail does not verify, nothing purged: {(bad or [checked.message])[0]}")
        async with db.session() as session:
            first = (await session.execute(select(func.min(col(AuditRecord.seq))))).scalar_one_or_none()
            later = (
                await session.execute(
                    select(func.min(col(AuditRecord.seq))).where(col(AuditRecord.at) >= as_utc(before))
                )
            ).scalar_one_or_none()
            last = (
                (later - 1)
                if later is not None
                else (await session.execute(select(func.max(col(AuditRecord.seq))))).scalar_one_or_none()
            )
            if first is None or last is None or last < first:
                return PurgeResult(0, None)
            digest = str(
                (
                    await session.execute(select(col(AuditRecord.hash)).where(col(AuditRecord.seq) == last))
                ).scalar_one()
            )
            cut = checkpoints.sign(Checkpoint("purge", last, digest, _stamp(utcnow()), first=first))
            checkpoints.append(cut)  # before the delete: a crash between leaves records, never a gap
            await session.execute(delete(AuditRecord).where(col(AuditRecord.seq) <= last))
            await self.record(
                session,
                actor,
                action="audit.purged",
                object_type="audit_trail",
                new={"first_seq": first, "last_seq": last, "hash": digest, "before": as_utc(before)},
                power="audit.purge",
            )
            await session.commit()
        await self.seal(db)
        return PurgeResult(last - first + 1, cut)

    async def list(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        object_type: str | None,
        object_id: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[AuditRecord], int]:
        stmt = select(AuditRecord)
        units = principal.case_unit_ids()
        if units is not None:
            stmt = stmt.where(col(AuditRecord.actor_unit_id).in_(sorted(units)))
        if object_type:
            stmt = stmt.where(col(AuditRecord.object_type) == object_type)
        if object_id:
            stmt = stmt.where(col(AuditRecord.object_id) == object_id)
        total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
        # by id: the order records were written (a pending one has no seq yet)
        rows = await session.execute(stmt.order_by(col(AuditRecord.id).desc()).limit(limit).offset(offset))
        return list(rows.scalars()), int(total)


class PurgeRefused(ValueError):
    """A purge asked too early, or of a trail that does not verify."""


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    checkpoint: Checkpoint | None


def _stamp(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    message: str
    #: the last record's seq and hash (when the trail verified)
    head_seq: int = 0
    head_hash: str = GENESIS


def _missing(first: int, last: int) -> str:
    return f"record seq {first}: missing" if first == last else f"records {first}–{last} are missing"


async def _repeatable_read(session: AsyncSession) -> None:
    """One snapshot for the whole walk on PostgreSQL (records appended meanwhile are not seen, and
    the head row read last matches); SQLite's read transaction is one snapshot already."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def _pending(session: AsyncSession) -> Sequence[Any]:
    """The records written and not sealed yet, in id order."""
    return (await session.execute(select(RECORD).where(RECORD.c.seq.is_(None)).order_by(RECORD.c.id))).all()


async def _stream(session: AsyncSession) -> AsyncIterator[tuple[int, AuditRecord]]:
    """The sealed records in seq order, with their seq."""
    last = 0
    while True:
        batch = (
            (
                await session.execute(
                    select(AuditRecord)
                    .where(col(AuditRecord.seq) > last)
                    .order_by(col(AuditRecord.seq))
                    .limit(1000)
                )
            )
            .scalars()
            .all()
        )
        if not batch:
            return
        for rec in batch:
            last = int(rec.seq or 0)
            yield last, rec
