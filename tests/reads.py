"""Waiting for the trail of reads: the app's own task writes noted reads every read_trail_seconds
(1 s). Tests wait for it rather than flushing from their loop (on PostgreSQL the app's connections
belong to the app's loop)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from backend.audit.models import AuditRecord


async def recorded(db: Any, *where: Any, at_least: int, seconds: float = 10.0) -> int:
    """How many trail records match ``where`` once there are ``at_least`` (or after ``seconds``)."""
    count = 0
    for _ in range(int(seconds / 0.05)):
        async with db.session() as s:
            count = (
                await s.execute(select(func.count()).select_from(AuditRecord).where(*where))
            ).scalar_one()
        if count >= at_least:
            break
        await asyncio.sleep(0.05)
    return int(count)
