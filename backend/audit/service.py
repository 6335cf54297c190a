"""Append to and verify the trail of acts.

Each record's ``hash`` is HMAC-SHA256 (key derived from ``PROBITY_SECRET_KEY``) over its
content and the previous record's hash. Anyone editing, deleting or inserting records behind
the application's back breaks the chain, and :func:`verify` names the first bad record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.checkpoints import Checkpoint, Checkpoints, covering
from backend.audit.models import AuditChain, AuditRecord
from backend.kernel.access import Actor, Principal
from backend.kernel.db import Database
from backend.kernel.timeutil import as_utc, utcnow

GENESIS = "0" * 64
#: the trail is kept at least this long: `probity audit purge` refuses anything later
RETENTION_DAYS = 184
RECORD: Table = AuditRecord.__table__  # type: ignore[attr-defined]
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_person_id",
    "actor_account_id",
    "actor_unit_id",
    "actor_label",
    "actor_post",
    "channel",
    "request_id",
    "object_type",
    "object_id",
    "action",
    "power",
    "old_value",
    "new_value",
    "prev_hash",
)


def chain_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"probity/audit-chain/v1", hashlib.sha256).digest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def compute_hash(key: bytes, fields: Mapping[str, Any]) -> str:
    body = {name: _canonical(fields.get(name)) for name in HASHED_FIELDS}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


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
            out[name] = _canonical(value)
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

    def fields(self, seq: int, at: datetime, prev_hash: str) -> dict[str, Any]:
        """The record's columns but its hash (``at`` unless the entry has its own time)."""
        actor = self.actor
        return {
            "seq": seq,
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
            "prev_hash": prev_hash,
        }


class AuditTrail:
    """Writes records in the caller's transaction (commit stays with the caller)."""

    def __init__(self, secret_key: str) -> None:
        self._key = chain_key(secret_key)

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
        seq, prev_hash = await self._advance(session)
        entry = Entry(actor, action, object_type, object_id, old, new, power)
        fields = entry.fields(seq, utcnow(), prev_hash)
        digest = compute_hash(self._key, fields)
        rec = AuditRecord(**fields, hash=digest)
        session.add(rec)
        await session.execute(update(AuditChain).where(col(AuditChain.id) == 1).values(last_hash=digest))
        await session.flush()
        return rec

    async def record_many(self, session: AsyncSession, entries: Sequence[Entry]) -> int:
        """Append ``entries`` in order as :meth:`record` would one by one, in a few statements:
        the chain advanced once, the records inserted with one executemany. Returns how many."""
        if not entries:
            return 0
        last, prev_hash = await self._advance(session, len(entries))
        at = utcnow()
        rows: list[dict[str, Any]] = []
        for seq, entry in enumerate(entries, start=last - len(entries) + 1):
            fields = entry.fields(seq, at, prev_hash)
            prev_hash = compute_hash(self._key, fields)
            rows.append({**fields, "hash": prev_hash})
        await session.execute(insert(RECORD), rows)
        await session.execute(update(AuditChain).where(col(AuditChain.id) == 1).values(last_hash=prev_hash))
        return len(rows)

    async def _advance(self, session: AsyncSession, count: int = 1) -> tuple[int, str]:
        """Take the chain's lock (an UPDATE, on both SQLite and PostgreSQL) and the next seq
        (the last of ``count`` taken), with the hash the first of them follows."""
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        ins = pg_insert(AuditChain) if dialect == "postgresql" else sqlite_insert(AuditChain)
        await session.execute(ins.values(id=1, seq=0, last_hash=GENESIS).on_conflict_do_nothing())
        row = (
            await session.execute(
                update(AuditChain)
                .where(col(AuditChain.id) == 1)
                .values(seq=col(AuditChain.seq) + count)
                .returning(col(AuditChain.seq), col(AuditChain.last_hash))
            )
        ).one()
        return int(row[0]), str(row[1])

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
        async for rec in _stream(session):
            where = f"record seq {rec.seq} (id {rec.id}, {rec.action} on {rec.object_type} {rec.object_id})"
            if expected_seq is None:  # the first record: seq 1, or right after a purge
                expected_seq = rec.seq
                if rec.seq > 1:
                    cut = purges.get(rec.seq - 1)
                    if cut is None or cut.hash != rec.prev_hash:
                        return VerifyResult(
                            False,
                            checked,
                            f"{_missing(1, rec.seq - 1)}: deleted behind the application's back "
                            f"(no purge of them is recorded); the trail starts at {where}",
                        )
                    prev = cut.hash
            if rec.seq < expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    f"{where}: duplicate sequence number, inserted behind the application's back",
                )
            if rec.seq > expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    f"{_missing(expected_seq, rec.seq - 1)}: deleted behind the application's back "
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
            if rec.seq in wanted:
                seen[rec.seq] = rec.hash
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
        purged = f", records 1–{max(purges)} purged" if purges else ""
        against = f", {len(checkpoints)} checkpoint(s) agree" if checkpoints else ""
        return VerifyResult(True, checked, f"{checked} records, chain intact{purged}{against}", last, prev)

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
        purge itself is a record of the trail."""
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
            digest = (
                await session.execute(select(col(AuditRecord.hash)).where(col(AuditRecord.seq) == last))
            ).scalar_one()
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
        rows = await session.execute(stmt.order_by(col(AuditRecord.seq).desc()).limit(limit).offset(offset))
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


async def _stream(session: AsyncSession) -> AsyncIterator[AuditRecord]:
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
            yield rec
        last = batch[-1].seq
