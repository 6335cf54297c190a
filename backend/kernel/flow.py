"""Small state machines of case files (clues, problems, opinions): their steps and their moves.

A record's state changes only by :func:`advance`: a conditional ``UPDATE … WHERE state = read``,
so of two simultaneous moves exactly one wins (the other answers 409 ``record_changed``). A step
asked for in the wrong state is refused by :func:`require` with 409 ``out_of_order``, naming the
state the record is in and the states the step needs. Each feature keeps a timeline table built
on :class:`StepFields` (who did what, when, through which channel, with a note).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.errors import Conflict
from backend.kernel.timeutil import LocalDateTime, utcnow


class StepFields(SQLModel):
    """The columns of a timeline row (the feature's table adds the key of its record)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    kind: str = Field(max_length=24)
    actor_person_id: int | None = None
    channel: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=4000)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)


class StepPublic(SQLModel):
    at: LocalDateTime
    kind: str
    actor_person_id: int | None
    actor_name: str | None = None
    note: str | None
    data: dict[str, Any]


def require(state: str, allowed: Iterable[str], action: str) -> None:
    """Refuse ``action`` unless ``state`` is one of ``allowed`` (409 ``out_of_order``)."""
    wanted = sorted(allowed)
    if state in wanted:
        return
    raise Conflict(
        f"cannot {action} now: it is {state}, and {action} needs it to be {' or '.join(wanted)}",
        code="out_of_order",
        extra={"state": state, "action": action, "needs": wanted},
    )


async def advance(session: AsyncSession, row: Any, to: str, values: dict[str, Any] | None = None) -> str:
    """Move ``row`` to state ``to`` from the state it was read in; returns that state."""
    table = type(row)
    before = str(row.state)
    result = await session.execute(
        update(table)
        .where(table.id == row.id, table.state == before)
        .values(state=to, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            f"{table.__tablename__} {row.id} changed meanwhile (it was {before}); reload it",
            code="record_changed",
            extra={"state": before},
        )
    await session.refresh(row)
    return before
