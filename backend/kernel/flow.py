"""Small state machines of case files (clues, problems, opinions): their steps and their moves.

A record's state changes only by :func:`advance`: a conditional ``UPDATE … WHERE state = read``,
so of two simultaneous moves exactly one wins (the other answers 409 ``record_changed``). A step
asked for in the wrong state is refused by :func:`require` with 409 ``out_of_order``, naming the
state the record is in and the states the step needs. Each feature keeps a timeline table built
on :class:`StepFields` (who did what, when, through which channel, with a note).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from backend.kernel.access import Actor, Principal
from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.errors import Conflict, NotFound
from backend.kernel.timeutil import LocalDateTime, utcnow

#: {person id: name} of the ids given (``backend.warnings.inbox.person_names``)
Names = Callable[[AsyncSession, Sequence[int | None]], Awaitable[dict[int, str]]]


class Trail(Protocol):
    """The trail of acts as the case files use it (``backend.audit.service.AuditTrail``)."""

    async def record(
        self,
        session: AsyncSession,
        actor: Actor,
        *,
        action: str,
        object_type: str,
        object_id: object | None = None,
        old: Any = None,
        new: Any = None,
        power: str | None = None,
    ) -> Any: ...


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


class CaseFlow:
    """What the case-file services share: a record read within the caller's scope (404 outside it),
    a step written to the timeline and the trail (committed), the timeline read with names.

    A subclass names its ``record`` and ``step`` tables, the step's key column, the ``kind`` (the
    object type and the prefix of its trail actions) and implements :meth:`visible`."""

    record: Any
    step: Any
    key: str
    kind: str

    def __init__(self, session: AsyncSession, trail: Trail, names: Names) -> None:
        self.session = session
        self.trail = trail
        self.names = names

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        raise NotImplementedError

    async def get(self, principal: Principal, record_id: int) -> Any:
        row = (
            await self.session.execute(
                select(self.record)
                .where(self.record.id == record_id, self.visible(principal))
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"{self.kind} {record_id} does not exist or is not in your scope",
                code=f"{self.kind}_not_found",
            )
        return row

    async def add_step(
        self, principal: Principal, row: Any, kind: str, note: str | None = None, **data: Any
    ) -> None:
        """A step of ``row`` (already moved) in its timeline and the trail; committed."""
        values = {"kind": kind, "actor_person_id": principal.person_id, "channel": principal.channel.value}
        self.session.add(self.step(**values, note=note, data=data, **{self.key: row.id}))
        await self.trail.record(
            self.session,
            principal.actor,
            action=f"{self.kind}.{kind}",
            object_type=self.kind,
            object_id=row.id,
            new={"state": row.state, **data},
            power=self.kind,
        )
        await self.session.commit()

    async def steps(self, record_id: int) -> list[StepPublic]:
        """The record's steps with who took them, by name (no trail record: the caller's read is
        recorded by the caller — a look, an export)."""
        rows = await self.session.execute(
            select(self.step).where(getattr(self.step, self.key) == record_id).order_by(col(self.step.id))
        )
        steps = [StepPublic.model_validate(s, from_attributes=True) for s in rows.scalars()]
        names = await self.names(self.session, [s.actor_person_id for s in steps])
        for step in steps:
            step.actor_name = names.get(step.actor_person_id or 0)
        return steps

    async def timeline(self, principal: Principal, record_id: int) -> list[StepPublic]:
        """The record's steps with who took them, by name; the look is a read in the trail."""
        steps = await self.steps(record_id)
        await self.trail.record(
            self.session,
            principal.actor,
            action=f"{self.kind}.view",
            object_type=self.kind,
            object_id=record_id,
            power="case.read",
        )
        await self.session.commit()
        return steps
