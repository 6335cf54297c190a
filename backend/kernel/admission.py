"""Requests working with the database at once, per process.

Under more load than one process answers, every request admitted at once shares the event loop:
a writing transaction that holds SQLite's write turn (``backend/kernel/turns.py``) is resumed only
once every other admitted request has had its go, so the turn is held many times longer than its
work and the writers queued behind it ran out of time (503 ``server_busy`` at 500 simulated
people). Here a request waits for admission before it takes a database session, in arrival order,
and at most ``max_active_requests`` work at once: what waits does so before holding anything, and
what is admitted finishes quickly. A request that waits longer than the pool timeout is answered
503 ``server_busy`` with Retry-After, as when no pooled connection is free in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import TimeoutError as PoolTimeout


class Admission:
    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(limit)

    @property
    def active(self) -> int:
        return self.limit - self._slots._value

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolTimeout(f"not admitted within {self.wait_seconds:g} s") from None
        try:
            yield
        finally:
            self._slots.release()
