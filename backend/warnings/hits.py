"""Hits of rule runs into the warning table: one warning per (topic, object, period).

``INSERT … SELECT … ON CONFLICT (topic_id, object_key, period_key) DO UPDATE`` on SQLite and
PostgreSQL, over the run's hits handed over as one JSON array (no hit is a Python object): a
later run hitting the same thing updates the warning (level, evidence, last hit, hit count)
instead of adding one, and two runs racing cannot create two.

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

from sqlalchemy import and_, bindparam, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.kernel.db import UTCDateTime
from backend.kernel.timeutil import utcnow
from backend.org.models import Person
from backend.warnings.models import Finding, Level, Verification, Warning, WarningState

RANK = {Level.high: 3, Level.medium: 2, Level.low: 1}


@dataclass
class Stored:
    created: int = 0
    updated: int = 0
    #: ids of the warnings this call inserted (for immediate delivery: ``routing.announce``)
    created_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class RunInfo:
    """What every warning of one run shares."""

    run_id: int
    topic_id: int
    topic_code: str
    rule_version_id: int
    specialty: str | None
    trial: bool


#: the JSON array of hits as rows (e employee number, o object, p period, l level, v evidence)
_ROWS = {
    "sqlite": """
    SELECT json_extract(j.value, '$.e') AS e, json_extract(j.value, '$.o') AS o,
           json_extract(j.value, '$.p') AS p, json_extract(j.value, '$.l') AS l,
           json_extract(j.value, '$.v') AS v
    FROM json_each(:payload) AS j""",
    "postgresql": """
    SELECT h.e, h.o, h.p, h.l, h.v
    FROM json_to_recordset(CAST(CAST(:payload AS TEXT) AS json))
         AS h(e text, o text, p text, l text, v json)""",
}
#: typed parameters (asyncpg wants them; SQLite stores what it is given)
_PARAMS = {
    "sqlite": dict.fromkeys(("topic_id", "topic_code", "version", "specialty", "trial", "now", "run_id"), ""),
    "postgresql": {
        "topic_id": "INTEGER",
        "topic_code": "VARCHAR",
        "version": "INTEGER",
        "specialty": "VARCHAR",
        "trial": "BOOLEAN",
        "now": "TIMESTAMPTZ",
        "run_id": "INTEGER",
    },
}


#: a live hit on a trial warning (the topic went live) starts it afresh, as if raised now: a hit
#: count of 1 (so the run announces it, like a new one), the go-live day as its raised time (its
#: deadline counts from there), and none of the trial's verdict or lifecycle as the person's
#: (the experts' verdicts stay on it, kept out of the person's replies). SET expressions read the
#: row as it was before the update, on SQLite and PostgreSQL alike.
_PROMOTED = "warning.trial AND NOT excluded.trial"
_GO_LIVE = ",\n    ".join(
    [f"hit_count = CASE WHEN {_PROMOTED} THEN 1 ELSE warning.hit_count + 1 END"]
    + [
        f"{column} = CASE WHEN {_PROMOTED} THEN {fresh} ELSE warning.{column} END"
        for column, fresh in (
            ("raised_at", "excluded.raised_at"),
            ("state", "'raised'"),
            ("finding", "NULL"),
            ("due_at", "NULL"),
            ("deadline_provisional", "excluded.deadline_provisional"),
            ("delivered_at", "NULL"),
            ("read_at", "NULL"),
            ("submitted_at", "NULL"),
            ("first_submitted_at", "NULL"),
            ("confirmed_at", "NULL"),
            ("closed_at", "NULL"),
            ("submissions", "0"),
            ("chase_stage", "0"),
        )
    ]
)
#: the client id of an expert's verdict on a trial warning (``record_verdict``)
TRIAL_VERDICT_PREFIX = "trial-"


def _upsert_sql(dialect: str) -> str:
    p = {k: f"CAST(:{k} AS {t})" if t else f":{k}" for k, t in _PARAMS[dialect].items()}
    return f"""
WITH hits AS ({_ROWS[dialect]}
), ranked AS (
    SELECT hits.o, hits.p, hits.l, hits.v, person.id AS person_id, person.unit_id,
           row_number() OVER (
               PARTITION BY hits.o, hits.p
               ORDER BY CASE hits.l WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END DESC, hits.e
           ) AS n
    FROM hits JOIN person ON person.employee_no = hits.e
)
INSERT INTO warning (topic_id, topic_code, rule_version_id, specialty, level, trial, person_id, unit_id,
                     object_key, period_key, evidence, state, raised_at, last_hit_at, hit_count, last_run_id)
SELECT {p["topic_id"]}, {p["topic_code"]}, {p["version"]}, {p["specialty"]}, ranked.l, {p["trial"]},
       ranked.person_id, ranked.unit_id, ranked.o, ranked.p, ranked.v, 'raised', {p["now"]}, {p["now"]}, 1,
       {p["run_id"]}
FROM ranked WHERE ranked.n = 1
ORDER BY ranked.o, ranked.p
ON CONFLICT (topic_id, object_key, period_key) DO UPDATE SET
    level = excluded.level, evidence = excluded.evidence,
    trial = (warning.trial AND excluded.trial),  -- a trial run never turns a live warning into a trial one
    last_hit_at = excluded.last_hit_at, last_run_id = excluded.last_run_id,
    {_GO_LIVE}
RETURNING id, hit_count
"""  # noqa: S608 - no value is formatted in, only the dialect's casts


async def store_payload(
    session: AsyncSession, payload: str | None, run: RunInfo, now: datetime | None = None
) -> Stored:
    """Upsert a run's hits, given as one JSON array, in one statement (the caller commits).

    Each element: ``e`` employee number, ``o`` object, ``p`` period, ``l`` level, ``v`` evidence.
    Hits naming nobody known are left out (the caller reports them); of hits with the same
    object and period the highest level wins. ``INSERT … SELECT … ON CONFLICT DO UPDATE`` on the
    unique key: a later run updates the warning, and concurrent runs cannot insert it twice
    (rows go in key order, so two runs over the same hits wait for each other, not deadlock).
    """
    stored = Stored()
    if not payload:
        return stored
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    stmt = text(_upsert_sql(dialect)).bindparams(bindparam("now", type_=UTCDateTime()))
    result = await session.execute(
        stmt,
        {
            "payload": payload,
            "topic_id": run.topic_id,
            "topic_code": run.topic_code,
            "version": run.rule_version_id,
            "specialty": run.specialty,
            "trial": run.trial,
            "now": now or utcnow(),
            "run_id": run.run_id,
        },
    )
    counts = result.all()
    stored.created_ids = [int(i) for i, count in counts if count == 1]
    stored.created = len(stored.created_ids)
    stored.updated = len(counts) - stored.created
    return stored


async def known_employees(session: AsyncSession, employee_nos: Sequence[str]) -> set[str]:
    """The employee numbers that name a person (one query per 1000 numbers)."""
    nos = sorted(set(employee_nos))
    known: set[str] = set()
    for start in range(0, len(nos), 1000):
        rows = await session.execute(
            select(col(Person.employee_no)).where(col(Person.employee_no).in_(nos[start : start + 1000]))
        )
        known.update(rows.scalars())
    return known


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
        client_id=f"{TRIAL_VERDICT_PREFIX}{uuid.uuid4().hex}",
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
