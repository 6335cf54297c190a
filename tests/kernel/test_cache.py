"""The in-process TTL cache: generation bumps, time limit, spread expiries."""

from __future__ import annotations

import time

from backend.kernel.cache import Generation, TTLCache


def test_a_bumped_generation_drops_every_entry():
    gen = Generation()
    cache: TTLCache[str] = TTLCache(ttl_seconds=60, generation=gen)
    cache.put("a", "x")
    assert cache.get("a") == "x"
    gen.bump()
    assert cache.get("a") is None


def test_entries_filled_together_expire_spread_within_the_limit(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache: TTLCache[int] = TTLCache(ttl_seconds=10, generation=Generation())
    for k in range(200):
        cache.put(k, k)
    expiries = [cache._entries[k][1] - 1000.0 for k in range(200)]
    assert all(5.0 <= e <= 10.0 for e in expiries)  # never beyond the limit, at least half of it
    assert len({round(e, 3) for e in expiries}) > 100  # not all at once
    now[0] += 5.0 - 1e-9
    assert all(cache.get(k) == k for k in range(200))
    now[0] += 5.0 + 1e-6
    assert all(cache.get(k) is None for k in range(200))
