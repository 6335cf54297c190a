"""One claimed batch on the wire: sent group by group, each outcome recorded as it finishes, the
batch's leases kept alive while it is in flight — so that a message is sent once.

Why each piece (issue 14, measured with ``kill -9`` of a worker in the middle of a broadcast):

- **Outcomes are written as messages finish**, not when the whole batch is done: a recorder task
  writes whatever finished since its last write (one transaction; more pile up meanwhile, so the
  writes batch themselves under load). A crash then leaves unrecorded only what was on the wire,
  at most ``delivery_concurrency`` messages, instead of every message of the batch.
- **No message is sent after its lease may have run out.** The batch's leases are renewed every
  quarter of ``delivery_lease_seconds`` while it is in flight; right before each send the worker
  checks that the lease it last wrote still holds for longer than the worst case of one send
  (:func:`worst_send_seconds`). A batch that waits for free send slots, or a renewal that fails
  (database unreachable), cannot make it send what another worker may already have claimed: such
  jobs are given back unsent (no attempt counted).
- **A stopping worker finishes what is on the wire and gives the rest back** (released, no attempt
  counted): a SIGTERM does not wait for a whole batch to be sent to a slow service, and what it
  gives back is claimed again at once, not when the lease runs out.
- **Every message carries its dedup key** where the channel can carry one (Web Push ``Topic``, the
  JSON gateway's ``Idempotency-Key``), so the few messages on the wire at a crash, sent again
  after the lease runs out, can be dropped by the receiver.

No SQL here: the outbox service owns every statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from backend.delivery.claimed import Job, Outcome
from backend.kernel.settings import Settings

log = logging.getLogger("probity.delivery")

#: one send at most: Web Push posts twice (again shrunk after a 413), each within the timeout
POSTS_PER_SEND = 2


def worst_send_seconds(settings: Settings) -> float:
    """The longest one message can take on the wire (every post of it timing out)."""
    return settings.delivery_timeout_seconds * POSTS_PER_SEND


class Leases:
    """Until when (``time.monotonic``) this worker surely holds each of its leases: the moment it
    asked for the lease (or its renewal) plus the lease's length — never later than the database's
    ``lease_until``, so no other worker can have claimed the row before then."""

    def __init__(self, settings: Settings) -> None:
        self.seconds = settings.delivery_lease_seconds
        self.margin = worst_send_seconds(settings)
        self._until: dict[str, float] = {}
        self._held: dict[str, set[int]] = {}

    def taken(self, lease: str, asked_at: float, delivery_ids: set[int]) -> None:
        """The database answered that ``lease`` holds ``delivery_ids`` (a claim or a renewal asked
        at ``asked_at``): a row it no longer holds is never trusted again under this lease."""
        self._until[lease] = max(self._until.get(lease, 0.0), asked_at + self.seconds)
        held = self._held.get(lease)
        self._held[lease] = set(delivery_ids) if held is None else held & delivery_ids

    def may_send(self, job: Job) -> bool:
        """True when a send of ``job`` started now ends (even timing out) while its lease holds."""
        return (
            job.delivery_id in self._held.get(job.lease, ())
            and self._until.get(job.lease, 0.0) - time.monotonic() > self.margin
        )

    def forget(self, leases: set[str]) -> None:
        for lease in leases:
            self._until.pop(lease, None)
            self._held.pop(lease, None)


@dataclass
class BatchResult:
    outcomes: list[Outcome] = field(default_factory=list)
    #: given back without being sent (their lease could not be trusted to hold)
    unsent: list[Job] = field(default_factory=list)
    messages: int = 0


Record = Callable[[Sequence[Outcome]], Awaitable[None]]
Renew = Callable[[str], Awaitable[set[int]]]
Release = Callable[[Sequence[Job]], Awaitable[None]]
SendGroup = Callable[[list[Job]], Awaitable[list[Outcome]]]


class Batch:
    """Send ``groups`` (jobs of one message each) ``concurrency`` at a time; record as they finish."""

    def __init__(
        self,
        groups: list[list[Job]],
        *,
        leases: Leases,
        slots: asyncio.Semaphore,
        send_group: SendGroup,
        record: Record,
        renew: Renew,
        release: Release,
        concurrency: int,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.groups = groups
        #: the process is stopping: messages not yet on the wire are given back, not sent
        self.stopping = stopping
        self.leases = leases
        self.slots = slots
        self.send_group = send_group
        self.record = record
        self.renew = renew
        self.release = release
        self.concurrency = concurrency
        self.result = BatchResult(messages=len(groups))
        #: outcomes sent but not yet written, each with the future its sender waits on
        self._finished: list[tuple[list[Outcome], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._sending_done = False

    async def run(self) -> BatchResult:
        lease_ids = {job.lease for group in self.groups for job in group}
        keeping = asyncio.create_task(self._keep(lease_ids))
        recording = asyncio.create_task(self._recorder())
        try:
            queue = iter(self.groups)

            async def sender() -> None:
                for group in queue:
                    await self._send(group)

            await asyncio.gather(*(sender() for _ in range(min(self.concurrency, len(self.groups)))))
        finally:
            self._sending_done = True
            self._wake.set()
            try:
                await recording
            finally:
                keeping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeping
                self.leases.forget(lease_ids)
        if self.result.unsent:
            try:
                await self.release(self.result.unsent)
            except Exception:  # they come back when their lease runs out
                log.exception("could not give back %d unsent deliveries", len(self.result.unsent))
        return self.result

    async def _send(self, group: list[Job]) -> None:
        """Send one message and hand its outcome to the recorder; the send slot is given back only
        once the outcome is written, so at most ``concurrency`` messages are ever sent but not yet
        recorded (what a crash can make the next worker send again)."""
        async with self.slots:
            if self.stopping() or not all(self.leases.may_send(job) for job in group):
                self.result.unsent.extend(group)
                return
            outcomes = await self.send_group(group)
            self.result.outcomes.extend(outcomes)
            written = asyncio.get_running_loop().create_future()
            self._finished.append((outcomes, written))
            self._wake.set()
            await written

    async def _recorder(self) -> None:
        """Write what finished since the last write, until everything sent is written."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._finished:
                taken, self._finished = self._finished, []
                outcomes = [o for done, _ in taken for o in done]
                try:
                    await self.record(outcomes)
                except Exception:
                    if any(self.leases.may_send(o.job) for o in outcomes):
                        log.warning("recording outcomes failed; trying again", exc_info=True)
                        self._finished = taken + self._finished
                        await asyncio.sleep(0.2)
                        continue
                    # their leases run out: claimed again (counted as lost attempts)
                    log.exception("outcomes of %d deliveries could not be recorded", len(outcomes))
                for _, written in taken:
                    if not written.done():
                        written.set_result(None)
            if self._sending_done and not self._finished:
                return

    async def _keep(self, lease_ids: set[str]) -> None:
        """Renew the batch's leases every quarter of their length while it is in flight."""
        every = self.leases.seconds / 4
        while True:
            await asyncio.sleep(every)
            for lease in lease_ids:
                asked_at = time.monotonic()
                try:
                    held = await self.renew(lease)
                except Exception:  # the lease is trusted less each time: sends stop in time
                    log.warning("renewing a delivery lease failed", exc_info=True)
                    continue
                self.leases.taken(lease, asked_at, held)
