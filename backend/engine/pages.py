"""A run's hits in pages: bounded batches of rows, each becoming one JSON array to store.

The engine hands over its non-green hits as rows ``(object key, period key, hit JSON)`` ordered by
object and period (:data:`HIT_ORDER`): DuckDB through ``fetchmany`` on a cursor, Spark through
``toLocalIterator`` over the hits it wrote to the store. :class:`HitPages` cuts them into pages of
``size`` hits, never splitting the hits of one object and period between two pages (the upsert
keeps the highest level of those, ``backend.warnings.hits.store_payload``), so each warning is
written once per run whatever the page size. Python only joins the engine's JSON texts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: the hits' order: object, period, then the highest level first (the one the upsert keeps)
LEVEL_RANK = "CASE {level} WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END"


class HitPages:
    """Pages of hits from ``fetch(n)`` (up to n rows ``(o, p, json)``, none at the end)."""

    def __init__(
        self,
        fetch: Callable[[int], Sequence[Sequence[Any]]],
        size: int,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self.size = max(1, int(size))
        self._closers = [close] if close else []
        self._buffer: list[Sequence[Any]] = []
        self._exhausted = False
        #: pages handed out so far
        self.pages = 0

    def _cut(self) -> int:
        """Where the next page ends: ``size`` hits, then the rest of the last hit's object and period."""
        if len(self._buffer) <= self.size:
            return len(self._buffer)
        cut = self.size
        key = tuple(self._buffer[cut - 1][:2])
        while cut < len(self._buffer) and tuple(self._buffer[cut][:2]) == key:
            cut += 1
        return cut

    def next(self) -> str | None:
        """The next page as a JSON array of hits, or None when every hit was handed out."""
        while not self._exhausted and (len(self._buffer) <= self.size or self._cut() == len(self._buffer)):
            rows = self._fetch(self.size)
            if not rows:
                self._exhausted = True
            self._buffer.extend(rows)
        if not self._buffer:
            return None
        cut = self._cut()
        page, self._buffer = self._buffer[:cut], self._buffer[cut:]
        self.pages += 1
        return "[" + ",".join(str(row[2]) for row in page) + "]"

    def on_close(self, close: Callable[[], None]) -> None:
        """Also call ``close`` when the pages are closed (after the ones given before)."""
        self._closers.append(close)

    def close(self) -> None:
        """Free what the engine holds for the run, once (every closer runs, the first error is raised)."""
        closers, self._closers = self._closers, []
        self._buffer = []
        self._exhausted = True
        failed: BaseException | None = None
        for close in closers:
            try:
                close()
            except BaseException as exc:  # the next ones still free their part
                failed = failed or exc
        if failed is not None:
            raise failed
