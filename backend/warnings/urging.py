"""催办 and 督办 by hand (issue 16): an inspector (催办 also a head) acts on someone's open warning.

The sweep (``routing.py``) chases and orders supervision on its own when deadlines pass; these are
the same steps taken by a person, with a note and, for a supervision order (督办单), a date by which
the person must act. Each is a timeline step with its trail record, raises the warning's
``chase_stage`` (never lowers it, so the sweep does not repeat what a person did), and is told to
the person and the head of their unit. The note stays on the timeline: events carry only ids,
level and dates (what leaves for third-party channels is read from those, see delivery/payloads).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden, Invalid
from backend.kernel.timeutil import SHANGHAI, LocalDateTime, as_utc, utcnow
from backend.org.service import OrgService
from backend.warnings.inbox import PERSON, W, named_from, person_names, shown_columns
from backend.warnings.models import ANSWERABLE_STATES, ChaseStage, Warning, WarningState, WarningStep
from backend.warnings.routing import Routing, tell_on_timeline
from backend.warnings.service import WarningService

Kind = Literal["urge", "supervise"]
#: the timeline step and the event of each act
STEP_KIND = {"urge": "urged", "supervise": "supervision_order"}
EVENT_KIND = {"urge": "warning.urged", "supervise": "warning.supervision_order"}
STAGE = {"urge": ChaseStage.chased, "supervise": ChaseStage.supervised}


class UrgeCreate(SQLModel):
    #: urge (催办) or supervise (督办)
    kind: Kind = "urge"
    note: str
    #: 督办: the date by which the person must act (required); 催办: not used
    due_on: date | None = None


class SupervisionOrder(SQLModel):
    """One line of the 督办单 list: the warning, whose it is, when ordered and by when."""

    warning_id: int
    topic_code: str
    topic_name: str | None
    level: str
    state: str
    person_id: int
    person_name: str | None
    object_key: str
    warning_due_at: LocalDateTime | None
    ordered_at: LocalDateTime
    #: the date the order gives (None: ordered by the sweep when the deadline had long passed)
    due_on: date | None
    overdue: bool
    note: str | None
    by_person_id: int | None
    by_name: str | None


def _check(principal: Principal, warning: Warning, kind: Kind, data: UrgeCreate) -> None:
    allowed = (Role.head, Role.inspector) if kind == "urge" else (Role.inspector,)
    if (
        principal.person_id == warning.person_id
        or not principal.has(*allowed)
        or warning.unit_id not in principal.subtree_unit_ids
    ):
        raise Forbidden(f"you may not {kind} this warning", code="urge_not_allowed")
    if WarningState(warning.state) not in ANSWERABLE_STATES:
        raise Invalid("only an open warning can be chased or supervised", code="warning_not_open")
    if not data.note.strip() or len(data.note) > 1000:
        raise Invalid(
            "a note of 1 to 1000 characters is required", code="note_required", extra={"field": "note"}
        )
    if kind == "supervise":
        today = utcnow().astimezone(SHANGHAI).date()
        if data.due_on is None or data.due_on < today:
            raise Invalid(
                "a supervision order needs a date from today on",
                code="order_due_required",
                extra={"field": "due_on"},
            )


async def urge(svc: WarningService, principal: Principal, warning_id: int, data: UrgeCreate) -> Warning:
    """Chase (催办) or order supervision (督办) of a warning; commits."""
    kind = data.kind
    session, trail = svc.session, svc.trail
    warning = await svc.get_visible(principal, warning_id)
    _check(principal, warning, kind, data)
    note = data.note.strip()
    routing = Routing(OrgService(session, trail))
    recipients = await routing.tiers(warning, head=True, inspector=False)
    brief: dict[str, Any] = {
        "warning_id": warning.id,
        "topic_code": warning.topic_code,
        "due_at": warning.due_at.isoformat() if warning.due_at else None,
        "by_person": True,
    }
    if data.due_on is not None and kind == "supervise":
        brief["order_due_on"] = data.due_on.isoformat()
    await tell_on_timeline(
        session,
        trail,
        warning,
        recipients,
        event_kind=EVENT_KIND[kind],
        step_kind=STEP_KIND[kind],
        actor=principal.actor,
        data=brief,
        note=note,
    )
    await session.execute(
        update(Warning)
        .where(col(Warning.id) == warning.id, col(Warning.chase_stage) < int(STAGE[kind]))
        .values(chase_stage=int(STAGE[kind]))
    )
    await session.commit()
    return await svc.get_visible(principal, warning_id)


async def supervision_orders(
    svc: WarningService, principal: Principal, *, lang: str = "zh-CN", limit: int = 100
) -> list[SupervisionOrder]:
    """The warnings of my scope under a supervision order, each with its latest order: those still
    open first, by the order's date."""
    session: AsyncSession = svc.session
    rows = (
        await session.execute(
            select(W.id, W.topic_code, W.level, W.state, W.person_id, W.object_key, W.due_at, W.raised_at)
            .add_columns(shown_columns(lang)[0], PERSON.c.name.label("person_name"))
            .select_from(named_from())
            .where(svc.visible(principal), W.chase_stage >= int(ChaseStage.supervised))
            .order_by(W.due_at, W.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return []
    steps = (
        await session.execute(
            select(WarningStep)
            .where(
                col(WarningStep.warning_id).in_([r.id for r in rows]),
                col(WarningStep.kind) == "supervision_order",
            )
            .order_by(col(WarningStep.at), col(WarningStep.id))
        )
    ).scalars()
    latest = {s.warning_id: s for s in steps}  # the last one of each warning wins
    names = await person_names(session, [s.actor_person_id for s in latest.values()])
    today = utcnow().astimezone(SHANGHAI).date()
    open_states = {s.value for s in ANSWERABLE_STATES}
    out = []
    for r in rows:
        step = latest.get(r.id)
        due = step.data.get("order_due_on") if step else None
        due_on = date.fromisoformat(due) if due else None
        out.append(
            SupervisionOrder(
                warning_id=r.id,
                topic_code=r.topic_code,
                topic_name=r.topic_name,
                level=str(r.level),
                state=str(r.state),
                person_id=r.person_id,
                person_name=r.person_name,
                object_key=r.object_key,
                warning_due_at=as_utc(r.due_at) if r.due_at else None,
                ordered_at=step.at if step else as_utc(r.due_at or r.raised_at),
                due_on=due_on,
                overdue=r.state in open_states and due_on is not None and due_on < today,
                note=step.note if step else None,
                by_person_id=step.actor_person_id if step else None,
                by_name=names.get(step.actor_person_id) if step and step.actor_person_id else None,
            )
        )
    out.sort(key=lambda o: (o.state not in open_states, o.due_on or date.max))
    return out
