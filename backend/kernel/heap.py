"""Keeping what a long-running process made at start-up out of the garbage collector's full passes.

A server process holds a few hundred thousand long-lived objects (modules, classes, compiled
statements, the app). CPython's full collection walks all of them: measured in the API process
under load, each full pass stopped the event loop for 150–190 ms, which was the whole p99 of the
inbox. ``gc.freeze()`` moves the objects alive at that moment to a generation the collector never
walks; later garbage is still collected as before. Objects frozen and later dropped are freed by
reference counting (only cyclic ones among them stay, a bounded one-off).
"""

from __future__ import annotations

import asyncio
import gc
import logging

log = logging.getLogger("probity.heap")

#: after start-up, then once the first requests have filled the caches (seconds after start)
SETTLE_AFTER = (0.0, 30.0, 300.0)


def settle() -> int:
    """Collect what is garbage now, freeze the rest; returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def settle_over_time(delays: tuple[float, ...] = SETTLE_AFTER) -> None:
    """``settle`` at start-up and again after warm-up (a background task of the server)."""
    waited = 0.0
    for at in delays:
        await asyncio.sleep(max(0.0, at - waited))
        waited = at
        log.debug("heap settled: %d objects frozen", settle())
