"""What the warning lifecycle does at other domains' moments (registered by ``compose``).

After a confirmation of a reply: linked warnings are evaluated (9.1.4). After a calendar change: deadlines of
open warnings and of risk reports still due are recomputed. A notification about a warning is
named by its topic and object.
"""

from __future__ import annotations

from typing import Any

from backend.calendar.service import CALENDAR_CHANGED
from backend.events.subjects import DESCRIBE
from backend.kernel.hooks import Hook
from backend.warnings.linked import evaluate, recompute_report_deadlines
from backend.warnings.named import describe_warnings
from backend.warnings.service import CONFIRMED, recompute_deadlines

HOOKS: list[Hook[Any]] = [
    Hook(CONFIRMED, evaluate),
    Hook(CALENDAR_CHANGED, recompute_deadlines),
    Hook(CALENDAR_CHANGED, recompute_report_deadlines),
    Hook(DESCRIBE, describe_warnings),
]
