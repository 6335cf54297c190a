"""What the Telegram feature does at other domains' moments (registered by ``compose``).

After a verification: the heads who confirm or return it are told (their buttons come with it).
"""

from __future__ import annotations

from typing import Any

from backend.kernel.hooks import Hook
from backend.telegram.decisions import tell_deciders
from backend.warnings.service import VERIFIED

HOOKS: list[Hook[Any]] = [Hook(VERIFIED, tell_deciders)]
