"""What the escalation ladder does at other domains' moments (registered by ``compose``).

After a calendar change: open notices and inquiries counted over guessed days are recomputed. A
notification about a case is named by its subject.
"""

from __future__ import annotations

from typing import Any

from backend.calendar.service import CALENDAR_CHANGED
from backend.events.subjects import DESCRIBE
from backend.kernel.hooks import Hook
from backend.ladder.named import describe_cases
from backend.ladder.service import recompute_case_deadlines

HOOKS: list[Hook[Any]] = [Hook(CALENDAR_CHANGED, recompute_case_deadlines), Hook(DESCRIBE, describe_cases)]
