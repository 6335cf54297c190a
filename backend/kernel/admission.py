"""Requests working with the database at once, per process.

Under more load than one process answers, every request admitted at once shares the event loop:
a writing transaction that holds SQLite's write turn (``backend/kernel/turns.py``) is resumed only
once every other admitted request has had its go, so the turn is held many times longer than its
work and the writers queued behind it ran out of time (503 ``server_busy`` at 500 simulated
people). Here a request waits for admission before it takes a database session, and at most
``max_active_requests`` work at once: what waits does so before holding anything, and what is
admitted finishes quickly. A request that waits longer than the pool timeout is answered 503
``server_busy`` with Retry-After, as when no pooled connection is free in time.

Who waits is admitted in arrival order, acts first: a request that changes something (a reply
sent from the field, a head's decision, marking read: every method but GET, HEAD and OPTIONS)
goes before the reads waiting with it. Past capacity the person who pressed "send" is answered
first and the lists (which the PWA shows from what it kept meanwhile) wait; acts are about a
quarter of what people do, so reads still move.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import TimeoutError as PoolTimeout

#: methods that only read: admitted after the acts waiting with them
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Ticket:
    """An admitted block's hold on its slot (:meth:`Admission.stepped_out` lets go of it)."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held = True


class Admission:
    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._active = 0
        #: waiting acts, then waiting reads (each in arrival order): a future set when a slot is
        #: handed to it
        self._acts: deque[asyncio.Future[None]] = deque()
        self._reads: deque[asyncio.Future[None]] = deque()

    @property
    def active(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return sum(not f.done() for f in self._acts) + sum(not f.done() for f in self._reads)

    @asynccontextmanager
    async def admitted(self, act: bool = False) -> AsyncIterator[Ticket]:
        """Hold one of the slots while the block runs; ``act``: a request that changes something
        (admitted before the reads waiting)."""
        await self._take(act)
        ticket = Ticket()
        try:
            yield ticket
        finally:
            if ticket.held:
                self._release()

    @asynccontextmanager
    async def stepped_out(self, ticket: Ticket) -> AsyncIterator[None]:
        """Within an admitted block: its slot given back while it waits on something outside the
        process (a messenger's API), and taken again after, before the reads waiting. A slow
        service then holds no slot; if the slot cannot be taken again in time, 503 as for any
        wait (and the block gives back nothing it does not hold)."""
        if not ticket.held:
            yield
            return
        ticket.held = False
        self._release()
        try:
            yield
        finally:
            await self._take(act=True)
            ticket.held = True

    async def _take(self, act: bool) -> None:
        if self._active < self.limit and not self.waiting:
            self._active += 1
        else:
            await self._wait(self._acts if act else self._reads)

    async def _wait(self, queue: deque[asyncio.Future[None]]) -> None:
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(slot)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await slot
        except BaseException as exc:  # timed out or cancelled
            if slot.done() and not slot.cancelled():
                # the slot was handed over before the waiter resumed: pass it on, never lose it
                self._release()
            else:
                slot.cancel()
            if isinstance(exc, TimeoutError):
                raise PoolTimeout(f"not admitted within {self.wait_seconds:g} s") from None
            raise

    def _release(self) -> None:
        """Hand the slot to the next waiter, acts first; free it when nobody waits."""
        for queue in (self._acts, self._reads):
            while queue:
                slot = queue.popleft()
                if not slot.done():
                    slot.set_result(None)
                    return
        self._active -= 1
