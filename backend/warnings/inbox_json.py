"""The employee inbox as JSON bytes: the phone's most frequent request, kept short.

:func:`own_inbox_json` answers ``GET /api/warnings`` (view *mine*) with the bytes of an
``InboxPage``. On SQLite, unfiltered or filtered by level only (what the phone asks), the one
statement of :func:`backend.warnings.service.own_inbox_values` is compiled once and run on a plain
``sqlite3`` connection on the loop's thread (``read_stored``); the values go into the JSON as stored
(the evidence as its stored JSON text, not parsed and re-encoded), with no SQLAlchemy result
processing per row. Anything else (other filters, PostgreSQL) takes ``own_inbox_values``. Both
give the same JSON (tested against each other and against the unit view's models).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.serialization import encode_json
from msgspec import Raw
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.kernel.access import Principal
from backend.kernel.db import is_inline, read_stored
from backend.kernel.timeutil import SHANGHAI, utcnow
from backend.warnings.models import OPEN_STATES
from backend.warnings.service import (
    CASE_ROLES,
    LEVELS,
    InboxFilters,
    own_inbox_values,
    own_statement_for,
)

#: fields of a WarningSummary shown in local time (LocalDateTime)
LOCAL_FIELDS = ("raised_at", "due_at")
_OPEN = frozenset(s.value for s in OPEN_STATES)
_EMPTY = Raw(b"{}")


def inbox_json(page: dict[str, Any]) -> bytes:
    """An InboxPage's JSON straight from ``own_inbox_values`` (no models)."""
    for item in page["items"]:
        for name in LOCAL_FIELDS:
            if item[name] is not None:
                item[name] = item[name].astimezone(SHANGHAI).isoformat()
    return encode_json(page)


#: Asia/Shanghai has kept +08:00 all year since 1992: later times are shifted, not looked up
_EIGHT = timedelta(hours=8)
_FIXED_SINCE = datetime(1992, 1, 1)


def _local(stored: str | None) -> tuple[datetime, str] | None:
    """A stored naive-UTC SQLite timestamp: (aware UTC datetime, local ISO 8601 text)."""
    if stored is None:
        return None
    naive = datetime.fromisoformat(stored)
    utc = naive.replace(tzinfo=UTC)
    if naive >= _FIXED_SINCE:
        return utc, (naive + _EIGHT).isoformat() + "+08:00"
    return utc, utc.astimezone(SHANGHAI).isoformat()


def _item(r: Sequence[Any], now: datetime) -> dict[str, Any]:
    """One WarningSummary from a raw row (the statement's columns: 3 counts, then INBOX_COLUMNS)."""
    raised, due, state, evidence = _local(r[14]), _local(r[15]), r[8], r[13]
    is_open = state in _OPEN
    return {
        "id": r[3],
        "topic_id": r[4],
        "topic_code": r[5],
        "specialty": r[6],
        "level": r[7],
        "state": state,
        "person_id": r[9],
        "unit_id": r[10],
        "object_key": r[11],
        "period_key": r[12],
        "evidence": Raw(evidence) if evidence and evidence != "null" else _EMPTY,
        "raised_at": raised[1] if raised else None,
        "due_at": due[1] if due else None,
        "due_on": due[1][:10] if due else None,
        "deadline_provisional": bool(r[16]),
        "overdue": due is not None and is_open and due[0] < now,
        "open": is_open,
        "finding": r[17] or None,
        "submissions": r[18] or 0,
        "hit_count": int(r[19]),
    }


async def _stored_page(
    engine: AsyncEngine, principal: Principal, filters: InboxFilters, limit: int, offset: int
) -> dict[str, Any]:
    params: dict[str, Any] = {"person_id": principal.person_id, "limit": limit, "offset": offset}
    if filters.level:
        params["level"] = filters.level.value
    rows = await read_stored(engine, own_statement_for(filters.level is not None), params)
    now = utcnow()
    counts = {name: int(rows[0][i]) for i, name in enumerate(LEVELS)}
    return {
        "items": [_item(r, now) for r in rows if r[3] is not None],
        "total": counts[filters.level.value] if filters.level else sum(counts.values()),
        "counts": counts,
        "limit": limit,
        "offset": offset,
    }


def _only_level(filters: InboxFilters) -> bool:
    return filters == InboxFilters(level=filters.level)


async def own_inbox_json(
    engine: AsyncEngine, principal: Principal, filters: InboxFilters, *, limit: int = 20, offset: int = 0
) -> bytes:
    """The caller's own inbox page as JSON (an ``InboxPage``)."""
    if is_inline(engine) and _only_level(filters) and principal.has(*CASE_ROLES):
        return encode_json(await _stored_page(engine, principal, filters, limit, offset))
    return inbox_json(await own_inbox_values(engine, principal, filters, limit=limit, offset=offset))
