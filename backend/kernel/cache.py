"""A small in-process cache with a time limit and a generation that writers bump.

Used for facts that every request needs and that change rarely (a person's unit, roles and
scope). A change in this process bumps the generation and is seen at once; a change made by
another process is seen when the entry expires.
"""

from __future__ import annotations

import random
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

V = TypeVar("V")

#: the share of an entry's time limit by which its expiry is spread (earlier, never later)
SPREAD = 0.5


@dataclass
class Generation:
    value: int = 0

    def bump(self) -> None:
        self.value += 1


#: bumped by every committed change to the organisation (units, posts, people)
ORG_GENERATION = Generation()


@dataclass
class TTLCache(Generic[V]):
    ttl_seconds: float
    generation: Generation
    max_entries: int = 10_000
    _entries: dict[Hashable, tuple[int, float, V]] = field(default_factory=dict)

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        generation, expires, value = entry
        if generation != self.generation.value or expires < time.monotonic():
            self._entries.pop(key, None)
            return None
        return value

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` for between half and all of ``ttl_seconds`` (spread at random, so entries
        filled together — every person's facts after a start — are not all read again at once)."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        life = self.ttl_seconds * (1 - SPREAD * random.random())  # noqa: S311 - not a secret
        self._entries[key] = (self.generation.value, time.monotonic() + life, value)
