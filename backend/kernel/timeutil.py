"""Time: stored in UTC, shown in the deployment's zone (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import PlainSerializer

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC (that is how they are stored)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local(value: datetime, zone: ZoneInfo = SHANGHAI) -> datetime:
    return as_utc(value).astimezone(zone)


def _local_iso(value: datetime) -> str:
    return local(value).isoformat()


#: a datetime field of an API schema: stored in UTC, shown in Asia/Shanghai (+08:00)
LocalDateTime = Annotated[datetime, PlainSerializer(_local_iso, return_type=str, when_used="json")]
