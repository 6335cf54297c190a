"""Throttling of password guesses, per username and per client address.

State lives in the operational database (``login_throttle``), not in memory: every process of a
deployment (``serve --role api`` × N) sees the same counts, and a restart does not forget them.
Each failure is counted by one conditional upsert (``INSERT … ON CONFLICT DO UPDATE … WHERE not
blocked … RETURNING``) on SQLite and PostgreSQL alike: concurrent failures each add one, and one
that arrives while the key is blocked counts nothing and is told so (no row returned).

* A username (known or not: the same answers, so throttling does not tell which exist): after
  ``login_max_failures`` wrong passwords, each further attempt waits 1 s, 2 s, 4 s … at most
  ``login_lock_minutes``. Attempts while waiting are refused without counting, so nobody can
  push someone else's wait past that cap; a sign-in resets the count, and so do
  ``login_failure_memory_hours`` without a wrong password (``window_ends_at`` holds when).
* A client address: ``login_address_max_failures`` wrong passwords (whatever the usernames)
  within ``login_address_window_minutes`` block it until the window ends (password spraying).
  A sign-in does not reset it.

Rows neither blocked nor inside their window any more are deleted by :func:`purge_throttle` (the
daily retention pass), so attempts with made-up usernames do not pile up.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.auth.models import LoginThrottle
from backend.kernel.db import UTCDateTime
from backend.kernel.settings import Settings
from backend.kernel.timeutil import as_utc

TABLE = LoginThrottle.__table__  # type: ignore[attr-defined]


def name_key(username: str) -> str:
    return "name:" + username.strip().lower()[:190]


def address_key(address: str) -> str:
    return "addr:" + address[:190]


def client_address(scope: Any, settings: Settings) -> str:
    """The caller's IP: the peer's, or, when the peer is a trusted proxy, the nearest address in
    ``X-Forwarded-For`` that is not one of them."""
    client = scope.get("client") if hasattr(scope, "get") else None
    peer = str(client[0]) if client else "unknown"
    networks = settings.trusted_proxy_networks
    if not networks or not _within(peer, networks):
        return peer
    headers = dict(scope.get("headers") or ())
    hops = [h.strip() for h in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, networks):
            return hop if _is_ip(hop) else peer
    return peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: Any) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


@dataclass(frozen=True)
class Blocked:
    """A key refused until ``until``."""

    key: str
    until: datetime

    def seconds(self, now: datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds()))

    @property
    def is_address(self) -> bool:
        return self.key.startswith("addr:")


_NULL_TIME: ColumnElement[Any] = literal(None, UTCDateTime())


def _at(value: datetime) -> ColumnElement[Any]:
    return literal(value, UTCDateTime())


def _upsert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _not_blocked(now: datetime) -> ColumnElement[bool]:
    return or_(TABLE.c.blocked_until.is_(None), TABLE.c.blocked_until <= _at(now))


def _window_over(now: datetime) -> ColumnElement[bool]:
    """The failures counted so far no longer count (an address's window, a username's memory)."""
    return or_(TABLE.c.window_ends_at.is_(None), TABLE.c.window_ends_at <= _at(now))


async def purge_throttle(session: AsyncSession, now: datetime) -> int:
    """Delete the counts that no longer matter: not blocked and past their window (commit stays
    with the caller). Returns how many."""
    result = await session.execute(delete(LoginThrottle).where(_not_blocked(now), _window_over(now)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Throttle:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def blocked(self, keys: list[str], now: datetime) -> Blocked | None:
        """The first of ``keys`` refused now (the address first), if any."""
        found = [Blocked(k, u) for k, u in (await self.blocked_keys(keys, now)).items()]
        found.sort(key=lambda b: not b.is_address)
        return found[0] if found else None

    def _wait_for(self, failures: ColumnElement[Any] | int, now: datetime) -> Any:
        """When a username with ``failures`` wrong passwords may try again (NULL: at once):
        1 s at the limit, doubling with each failure after it, at most ``login_lock_minutes``."""
        limit = self.settings.login_max_failures
        cap = self.settings.login_lock_minutes * 60
        waits: list[int] = []
        while not waits or waits[-1] < cap:
            waits.append(min(2 ** len(waits), cap))
        if isinstance(failures, int):
            if failures < limit:
                return None
            return now + timedelta(seconds=waits[min(failures - limit, len(waits) - 1)])
        whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = [(failures < limit, _NULL_TIME)]
        whens += [(failures == limit + i, _at(now + timedelta(seconds=w))) for i, w in enumerate(waits)]
        return case(*whens, else_=_at(now + timedelta(seconds=cap)))

    async def fail_name(self, key: str, now: datetime) -> tuple[int, datetime | None] | None:
        """Count a wrong password for a username: (failures, blocked until), or ``None`` when the
        key was blocked (the failure was not counted: the attempt must be refused)."""
        forgotten = now + timedelta(hours=self.settings.login_failure_memory_hours)
        failures = case((_window_over(now), 1), else_=TABLE.c.failures + 1)
        stmt = (
            _upsert(self.session)(LoginThrottle)
            .values(key=key, failures=1, blocked_until=self._wait_for(1, now), window_ends_at=forgotten)
            .on_conflict_do_update(
                index_elements=[TABLE.c.key],
                set_={
                    "failures": failures,
                    "blocked_until": self._wait_for(failures, now),
                    "window_ends_at": _at(forgotten),
                },
                where=_not_blocked(now),
            )
            .returning(TABLE.c.failures, TABLE.c.blocked_until)
        )
        row = (await self.session.execute(stmt)).first()
        if row is None:
            return None
        return int(row[0]), as_utc(row[1]) if row[1] is not None else None

    async def fail_address(self, key: str, now: datetime) -> bool:
        """Count a wrong password from a client address; False when it was blocked."""
        limit = self.settings.login_address_max_failures
        window_end = now + timedelta(minutes=self.settings.login_address_window_minutes)
        expired = _window_over(now)
        failures = case((expired, 1), else_=TABLE.c.failures + 1)
        ends = case((expired, _at(window_end)), else_=TABLE.c.window_ends_at)
        stmt = (
            _upsert(self.session)(LoginThrottle)
            .values(
                key=key,
                failures=1,
                window_ends_at=window_end,
                blocked_until=window_end if limit <= 1 else None,
            )
            .on_conflict_do_update(
                index_elements=[TABLE.c.key],
                set_={
                    "failures": failures,
                    "window_ends_at": ends,
                    "blocked_until": case((failures >= limit, ends), else_=_NULL_TIME),
                },
                where=_not_blocked(now),
            )
            .returning(TABLE.c.failures)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def clear_name(self, key: str, now: datetime) -> Blocked | None:
        """A right password: forget the username's failures, unless it has been blocked in the
        meantime (concurrent wrong guesses reached the limit first) — then that block."""
        await self.session.execute(delete(LoginThrottle).where(TABLE.c.key == key, _not_blocked(now)))
        return await self.blocked([key], now)

    async def reset(self, key: str) -> None:
        """An administrator set a new password: the username may try again at once."""
        await self.session.execute(delete(LoginThrottle).where(TABLE.c.key == key))

    async def blocked_keys(self, keys: list[str], now: datetime) -> dict[str, datetime]:
        """Each of ``keys`` refused now, with until when."""
        rows = (
            await self.session.execute(
                select(col(LoginThrottle.key), col(LoginThrottle.blocked_until)).where(
                    col(LoginThrottle.key).in_(keys), col(LoginThrottle.blocked_until) > _at(now)
                )
            )
        ).all()
        return {str(k): as_utc(u) for k, u in rows if u is not None}
