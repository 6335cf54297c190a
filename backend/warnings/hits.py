"""Hits of rule runs into the warning table: one warning per (topic, object, period).

``INSERT … ON CONFLICT (topic_id, object_key, period_key) DO UPDATE`` on SQLite and
PostgreSQL: a later run hitting the same thing updates the warning (level, evidence, last hit,
hit count) instead of adding one, and two runs racing cannot create two.

The verdicts of verification replies (属实 / 不属实) are read back here for the validation report
(appendix D) and the true rate of each topic, the rule's precision.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.kernel.timeutil import utcnow
from backend.warnings.models import Finding, Level, Verification, Warning, WarningState

CHUNK = 2000
RANK = {Level.high: 3, Level.medium: 2, Level.low: 1}


@dataclass(frozen=True)
class Hit:
    topic_id: int
    topic_code: str
    rule_version_id: int
    specialty: str | None
    level: Level
    trial: bool
    person_id: int
    unit_id: int
    object_key: str
    period_key: str
    evidence: dict[str, Any]


@dataclass
class Stored:
    created: int = 0
    updated: int = 0
    #: ids of the warnings this call inserted (for immediate delivery: ``routing.announce``)
    created_ids: list[int] = field(default_factory=list)


def _dedupe(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per key (the highest level wins), so one statement never touches a row twice."""
    best: dict[tuple[int, str, str], Hit] = {}
    for hit in hits:
        key = (hit.topic_id, hit.object_key, hit.period_key)
        if key not in best or RANK[hit.level] > RANK[best[key].level]:
            best[key] = hit
    return list(best.values())


async def store_hits(
    session: AsyncSession, hits: Sequence[Hit], run_id: int, now: datetime | None = None
) -> Stored:
    """Upsert the hits in the caller's transaction (the caller commits)."""
    now = now or utcnow()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stored = Stored()
    unique = _dedupe(hits)
    rows = [
        {
            "topic_id": h.topic_id,
            "topic_code": h.topic_code,
            "rule_version_id": h.rule_version_id,
            "specialty": h.specialty,
            "level": h.level.value,
            "trial": h.trial,
            "person_id": h.person_id,
            "unit_id": h.unit_id,
            "object_key": h.object_key[:128],
            "period_key": h.period_key[:32],
            "evidence": h.evidence,
            "state": "raised",
            "raised_at": now,
            "last_hit_at": now,
            "hit_count": 1,
            "last_run_id": run_id,
        }
        for h in unique
    ]
    if not rows:
        return stored
    stmt = insert(Warning)
    upsert = stmt.on_conflict_do_update(
        index_elements=["topic_id", "object_key", "period_key"],
        set_={
            "level": stmt.excluded.level,
            "evidence": stmt.excluded.evidence,
            "trial": stmt.excluded.trial,
            "last_hit_at": stmt.excluded.last_hit_at,
            "last_run_id": stmt.excluded.last_run_id,
            "hit_count": col(Warning.hit_count) + 1,
        },
    ).returning(col(Warning.id), col(Warning.hit_count))
    # one compiled statement, executed in batches (SQLAlchemy "insertmanyvalues")
    for start in range(0, len(rows), CHUNK):
        for warning_id, count in (await session.execute(upsert, rows[start : start + CHUNK])).all():
            if count == 1:
                stored.created += 1
                stored.created_ids.append(warning_id or 0)
            else:
                stored.updated += 1
    return stored


async def trial_summary(session: AsyncSession, topic_id: int) -> dict[str, dict[str, int]]:
    """Warnings of a topic by level and state, split into trial and live (for the validation report)."""
    rows = await session.execute(
        select(col(Warning.trial), col(Warning.level), col(Warning.state), func.count())
        .where(col(Warning.topic_id) == topic_id)
        .group_by(col(Warning.trial), col(Warning.level), col(Warning.state))
    )
    out: dict[str, dict[str, int]] = {}
    for trial, level, state, count in rows.all():
        bucket = out.setdefault("trial" if trial else "live", {})
        bucket[f"level:{level}"] = bucket.get(f"level:{level}", 0) + int(count)
        bucket[f"state:{state}"] = bucket.get(f"state:{state}", 0) + int(count)
    return out


@dataclass
class Verdicts:
    """Warnings of a topic and what their verifications found.

    A warning is *checked* when its latest reply stands: submitted or confirmed, not returned to
    be answered again. The true rate is true / checked (None before anything is checked).
    """

    warnings: int = 0
    checked: int = 0
    true: int = 0
    not_true: int = 0
    #: the latest reply was returned: a new one is awaited, so no verdict yet
    returned: int = 0

    @property
    def true_rate(self) -> float | None:
        return round(self.true / self.checked, 4) if self.checked else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "warnings": self.warnings,
            "checked": self.checked,
            "true": self.true,
            "not_true": self.not_true,
            "returned": self.returned,
            "true_rate": self.true_rate,
        }


async def verdicts(session: AsyncSession, topic_ids: Sequence[int], *, trial: bool) -> dict[int, Verdicts]:
    """Per topic: its trial (or live) warnings and the verdicts of their latest verification."""
    out = {topic_id: Verdicts() for topic_id in topic_ids}
    if not out:
        return out
    mine = and_(col(Warning.topic_id).in_(list(out)), col(Warning.trial).is_(trial))
    for topic_id, count in (
        await session.execute(
            select(col(Warning.topic_id), func.count()).where(mine).group_by(col(Warning.topic_id))
        )
    ).all():
        out[topic_id].warnings = int(count)
    latest = (
        select(col(Verification.warning_id), func.max(Verification.round).label("round"))
        .group_by(col(Verification.warning_id))
        .subquery()
    )
    rows = await session.execute(
        select(col(Warning.topic_id), col(Verification.result), col(Verification.decision), func.count())
        .join(latest, latest.c.warning_id == col(Warning.id))
        .join(
            Verification,
            and_(
                col(Verification.warning_id) == latest.c.warning_id,
                col(Verification.round) == latest.c.round,
            ),
        )
        .where(mine)
        .group_by(col(Warning.topic_id), col(Verification.result), col(Verification.decision))
    )
    for topic_id, result, decision, count in rows.all():
        found = out[topic_id]
        if decision == WarningState.returned.value:
            found.returned += int(count)
            continue
        found.checked += int(count)
        if result == Finding.true.value:
            found.true += int(count)
        elif result == Finding.not_true.value:
            found.not_true += int(count)
    return out


async def trial_warnings(
    session: AsyncSession, topic_id: int, limit: int, offset: int
) -> tuple[list[tuple[Warning, Verification | None]], int]:
    """A topic's trial warnings, highest level first, each with its latest verification (the clue sheet)."""
    mine = and_(col(Warning.topic_id) == topic_id, col(Warning.trial).is_(True))
    total = (await session.execute(select(func.count()).where(mine))).scalar_one()
    highest_first = case({level.value: -rank for level, rank in RANK.items()}, value=col(Warning.level))
    warnings = list(
        (
            await session.execute(
                select(Warning)
                .where(mine)
                .order_by(highest_first, col(Warning.object_key), col(Warning.period_key))
                .limit(limit)
                .offset(offset)
            )
        ).scalars()
    )
    latest: dict[int, Verification] = {}
    ids = [w.id for w in warnings if w.id is not None]
    if ids:
        for verification in (
            await session.execute(
                select(Verification)
                .where(col(Verification.warning_id).in_(ids))
                .order_by(col(Verification.round))
            )
        ).scalars():
            latest[verification.warning_id] = verification
    return [(w, latest.get(w.id or 0)) for w in warnings], int(total)


async def record_verdict(
    session: AsyncSession, warning: Warning, person_id: int, result: Finding, note: str, channel: str
) -> Verification:
    """A topic expert's verdict on a trial warning, checked offline (clue sheet B.6), as its next reply.

    Trial warnings never reach their responsible person, so the lifecycle's replies cannot
    check them; the expert's verdict is stored the same way, and the latest one counts.
    """
    assert warning.id is not None
    last = (
        await session.execute(
            select(func.max(Verification.round)).where(col(Verification.warning_id) == warning.id)
        )
    ).scalar_one()
    body = {"warning_id": warning.id, "result": result.value, "note": note, "trial": True}
    verification = Verification(
        client_id=f"trial-{uuid.uuid4().hex}",
        warning_id=warning.id,
        person_id=person_id,
        round=int(last or 0) + 1,
        result=result.value,
        cause=note,
        body_hash=hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
        channel=channel,
    )
    session.add(verification)
    warning.finding = result.value
    await session.flush()
    return verification
