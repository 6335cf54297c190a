"""The archive's schedule: list exports too large to make at once are made here, in the order they
were asked for (``backend/archive/exporting.py``)."""

from __future__ import annotations

from backend.archive.exporting import run_exports
from backend.kernel.jobs import Job

JOBS = [Job("archive.exports", every_seconds=10, run=run_exports)]
