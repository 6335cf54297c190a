"""What the outbox and its workers pass each other: the delivery tables as Core tables, a
claimed :class:`Job`, the :class:`Outcome` a sender reports, and the helpers both sides of a
recording use (``backend/delivery/outbox.py`` claims, ``backend/delivery/outcomes.py`` records)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Table, bindparam

from backend.delivery.models import (
    ChannelConfig,
    Delivery,
    DeliveryAttempt,
    DeliveryPreference,
    DeliveryRoute,
    DeliveryUnitPolicy,
    PersonChannel,
    PushSubscription,
)
from backend.delivery.payloads import Item
from backend.events.models import Event, EventRecipient
from backend.kernel.settings import Settings

#: ids per ``IN (…)`` list
CHUNK = 1000  # a whole batch (default 500) in one statement; far below the parameter limits

# the tables as Core tables: statements on them skip the ORM (no objects made per row)
DELIVERY: Table = Delivery.__table__  # type: ignore[attr-defined]
ROUTE: Table = DeliveryRoute.__table__  # type: ignore[attr-defined]
ATTEMPT: Table = DeliveryAttempt.__table__  # type: ignore[attr-defined]
SUBSCRIPTION: Table = PushSubscription.__table__  # type: ignore[attr-defined]
ADDRESS: Table = PersonChannel.__table__  # type: ignore[attr-defined]
CONFIG: Table = ChannelConfig.__table__  # type: ignore[attr-defined]
PREFERENCE: Table = DeliveryPreference.__table__  # type: ignore[attr-defined]
UNIT_POLICY: Table = DeliveryUnitPolicy.__table__  # type: ignore[attr-defined]
RECIPIENT: Table = EventRecipient.__table__  # type: ignore[attr-defined]
EVENT: Table = Event.__table__  # type: ignore[attr-defined]


def ids_in(column: Any, values: Sequence[int]) -> Any:
    """``column IN (…)`` with the list bound as one expanding parameter: built without coercing
    each element, and the same cached statement whatever the list."""
    return column.in_(bindparam(f"{column.table.name}_{column.name}_ids", list(values), expanding=True))


def chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    values = sorted(set(ids))
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def backoff_seconds(
    attempt: int, settings: Settings, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Exponential backoff with jitter (50–150 % of base·2^(n-1), capped); never before Retry-After."""
    base = min(
        settings.delivery_backoff_max_seconds, settings.delivery_backoff_seconds * 2 ** max(0, attempt - 1)
    )
    delay = base * (0.5 + (rng or random).random())
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), 3600.0))
    return delay


@dataclass(frozen=True)
class PushTarget:
    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass
class Job:
    delivery_id: int
    lease: str
    channel: str
    person_id: int
    recipient_id: int
    dedup_key: str
    attempts: int
    item: Item
    route_id: int = 0
    #: the route has later channels waiting (skipped when this one gets through)
    fallback: bool = True
    detail: bool = False
    subscriptions: list[PushTarget] = field(default_factory=list)
    #: Telegram chat id or the person's Apprise address
    address: str | None = None
    #: the filled Apprise URL (holds secrets: never log it)
    url: str | None = None
    secrets: list[str] = field(default_factory=list)
    #: the person's own language (None: the deployment's ``delivery_language``)
    language: str | None = None

    def group_key(self) -> tuple[Any, ...]:
        return (self.person_id, self.channel, self.item.kind, self.item.level, self.detail, self.url)


@dataclass
class TargetResult:
    target: str | None
    outcome: Literal["sent", "retry", "gone", "failed", "shrunk", "lost"]
    status: int | None = None
    error: str | None = None
    latency_ms: int = 0


@dataclass
class Outcome:
    job: Job
    result: Literal["sent", "retry", "failed"]
    tries: list[TargetResult] = field(default_factory=list)
    retry_after: float | None = None
    gone_subscriptions: list[int] = field(default_factory=list)
    ok_subscriptions: list[int] = field(default_factory=list)
    #: the channel refused this person for good (blocked bot, unknown user)
    refused: bool = False

    @property
    def error(self) -> str | None:
        errors = [t.error for t in self.tries if t.error]
        return errors[-1] if errors else None


#: the error of a lost attempt, and of a delivery whose worker stopped once too often
LOST = "the lease ran out before an outcome was recorded (worker stopped?)"
SPENT = "its worker stopped before recording an outcome at every try"


def by_lease(jobs: Iterable[Job]) -> dict[str, list[int]]:
    by_lease: dict[str, list[int]] = defaultdict(list)
    for job in jobs:
        by_lease[job.lease].append(job.delivery_id)
    return by_lease


def late(error: str | None) -> str:
    note = "reported after the lease ran out: this report changed nothing"
    return f"{note}; {error}" if error else note
