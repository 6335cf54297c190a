"""Who is told what, and when: delivery of new warnings, reminders, chases, supervision orders.

* :func:`announce` — for warnings a rule run just raised (``hits.py`` calls it in its own
  transaction, and the sweep catches any it missed): set the deadline, write the
  ``warning.raised`` event to the person, their head (red, orange) and inspectors (red), and
  move the warning to *delivered* (the in-app inbox is the source of truth; pushes are doorbells).
* :func:`sweep` — run by the scheduler (``probity warnings sweep``): a reminder
  ``PROBITY_REMINDER_WORKING_DAYS`` before the deadline, a chase (催办) on it to the person and head, a
  supervision order (督办) ``PROBITY_SUPERVISION_AFTER_WORKING_DAYS`` working days after it to inspectors.
  Each step is a conditional UPDATE of ``chase_stage``, so two workers never send one twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail, Entry
from backend.calendar.service import WorkingCalendar, load_calendar
from backend.events.service import Emission, emit, emit_many
from backend.kernel.access import Actor, Channel
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.org.service import OrgService
from backend.warnings.linked import chase_linked
from backend.warnings.models import OPEN_STATES, ChaseStage, Level, Warning, WarningState
from backend.warnings.service import STEP, WARNING, chunks, record_step, set_deadlines

SYSTEM = Actor.system(Channel.system, "scheduler")
#: the power the lifecycle's trail records cite (as ``record_step``)
LIFECYCLE = "warning.lifecycle"


def _nearest(chain: list[int], heads: dict[int, list[int]]) -> list[int]:
    """The heads of the nearest unit up the chain that has any."""
    return next((heads[u] for u in chain if heads.get(u)), [])


def _all_up(chain: list[int], inspectors: dict[int, list[int]]) -> list[int]:
    """Every inspector up the chain, nearest first."""
    return [p for u in chain for p in inspectors.get(u, [])]


@dataclass
class Routing:
    """Heads and inspectors over units, looked up once per batch."""

    org: OrgService
    _heads: dict[int, list[int]] = field(default_factory=dict)
    _inspectors: dict[int, list[int]] = field(default_factory=dict)
    _chains: dict[int, list[int]] = field(default_factory=dict)

    async def _load(self, unit_id: int, *, inspectors: bool = True) -> None:
        """The unit's chain and its heads (and, with ``inspectors``, its inspectors): a reply
        tells heads only, so it reads no inspectors."""
        if unit_id in self._inspectors or (not inspectors and unit_id in self._heads):
            return
        chain = self._chains.get(unit_id)
        if chain is None:
            chain = self._chains[unit_id] = await self.org.unit_chain(unit_id)
        if unit_id not in self._heads:
            heads = await self.org.holders("head", chain) if chain else {}
            self._heads[unit_id] = _nearest(chain, heads)
        if inspectors:
            found = await self.org.holders("inspector", chain) if chain else {}
            self._inspectors[unit_id] = _all_up(chain, found)

    async def heads(self, unit_id: int) -> list[int]:
        await self._load(unit_id, inspectors=False)
        return self._heads[unit_id]

    async def inspectors(self, unit_id: int) -> list[int]:
        await self._load(unit_id)
        return self._inspectors[unit_id]

    async def preload(self, unit_ids: Iterable[int]) -> None:
        """Heads and inspectors of many units in three queries (units, heads, inspectors)."""
        todo = sorted({u for u in unit_ids if u not in self._heads})
        if not todo:
            return
        chains: dict[int, list[int]] = {u: [] for u in todo}
        chains.update(await self.org.unit_chains(todo))
        above = sorted({u for chain in chains.values() for u in chain})
        heads = await self.org.holders("head", above) if above else {}
        inspectors = await self.org.holders("inspector", above) if above else {}
        for unit_id, chain in chains.items():
            self._fill(unit_id, chain, heads, inspectors)

    def _fill(
        self, unit_id: int, chain: list[int], heads: dict[int, list[int]], inspectors: dict[int, list[int]]
    ) -> None:
        self._chains[unit_id] = chain
        self._heads[unit_id] = _nearest(chain, heads)
        self._inspectors[unit_id] = _all_up(chain, inspectors)

    def tiers_of(self, person_id: int, unit_id: int, *, head: bool, inspector: bool) -> list[tuple[int, str]]:
        """Who is told, by tier, of a warning of ``person_id`` in ``unit_id`` (after :meth:`preload`)."""
        out = [(person_id, "subject")]
        if head:
            out += [(p, "head") for p in self._heads[unit_id] if p != person_id]
        if inspector:
            out += [(p, "inspector") for p in self._inspectors[unit_id] if p != person_id]
        return out

    async def tiers(self, warning: Warning, *, head: bool, inspector: bool) -> list[tuple[int, str]]:
        await self._load(warning.unit_id)
        return self.tiers_of(warning.person_id, warning.unit_id, head=head, inspector=inspector)


def _payload(
    warning_id: int | None, topic_code: str, due_at: datetime | None, provisional: bool
) -> dict[str, Any]:
    """An event payload: ids, level and dates; no names, customers or evidence."""
    return {
        "warning_id": warning_id,
        "topic_code": topic_code,
        "due_at": due_at.isoformat() if due_at else None,
        "provisional": bool(provisional),
    }


def _brief(w: Warning) -> dict[str, Any]:
    return _payload(w.id, w.topic_code, w.due_at, bool(w.deadline_provisional))


async def announce(
    session: AsyncSession,
    trail: AuditTrail,
    warning_ids: Iterable[int],
    *,
    actor: Actor = SYSTEM,
    calendar: WorkingCalendar | None = None,
) -> int:
    """Deadline, tiered event and delivery for newly raised warnings. No commit (caller's transaction).

    Set-based, a few statements whatever the number of warnings: the warnings read, their
    deadlines written, the raised ones moved to *delivered* by one conditional UPDATE (a warning
    another worker delivered first is left to it), then for those one ``warning.raised`` event
    each with its recipients, the timeline steps (raised, delivered) and their trail records,
    each kind written in one statement.
    """
    ids = sorted(set(warning_ids))
    if not ids:
        return 0
    calendar = calendar or await load_calendar(session)
    found: list[Any] = []
    for chunk in chunks(ids):
        found += (
            await session.execute(
                select(
                    WARNING.c.id,
                    WARNING.c.topic_code,
                    WARNING.c.level,
                    WARNING.c.person_id,
                    WARNING.c.unit_id,
                    WARNING.c.raised_at,
                    WARNING.c.due_at,
                    WARNING.c.deadline_provisional,
                ).where(
                    WARNING.c.id.in_(chunk),
                    WARNING.c.state == WarningState.raised.value,
                    WARNING.c.trial.is_(False),
                )
            )
        ).all()
    if not found:
        return 0
    # a first deadline is in each warning.raised record below
    deadlines = (
        await set_deadlines(session, trail, calendar, found, actor, power=LIFECYCLE, first_recorded=True)
    ).due
    now = utcnow()
    claimed: set[int] = set()
    for chunk in chunks([r.id for r in found]):
        claimed.update(
            (
                await session.execute(
                    update(WARNING)
                    .where(WARNING.c.id.in_(chunk), WARNING.c.state == WarningState.raised.value)
                    .values(state=WarningState.delivered.value, delivered_at=now)
                    .returning(WARNING.c.id)
                )
            ).scalars()
        )
    rows = [r for r in found if r.id in claimed]  # the others: another worker delivered them
    routing = Routing(OrgService(session, trail))
    await routing.preload({r.unit_id for r in rows})
    briefs = {r.id: _payload(r.id, r.topic_code, *deadlines[r.id]) for r in rows}
    # whoever raised it by hand (an inspector) is not told of their own act
    told = {
        r.id: [
            (p, tier)
            for p, tier in routing.tiers_of(
                r.person_id,
                r.unit_id,
                head=r.level in {Level.high, Level.medium},
                inspector=r.level == Level.high,
            )
            if p != actor.person_id or p == r.person_id
        ]
        for r in rows
    }
    events = await emit_many(
        session,
        "warning.raised",
        subject_type="warning",
        emissions=[Emission(r.id, told[r.id], level=str(r.level), data=briefs[r.id]) for r in rows],
    )
    steps: list[dict[str, Any]] = []
    entries: list[Entry] = []
    for r in rows:
        recipients = [{"person_id": p, "tier": tier} for p, tier in told[r.id]]
        delivered = {"event_id": events[r.id], "recipients": recipients}
        steps += [
            _step(r.id, actor, "raised", None, None, "system", briefs[r.id], now),
            _step(
                r.id, actor, "delivered", WarningState.raised, WarningState.delivered, "inapp", delivered, now
            ),
        ]
        entries += [
            Entry(actor, "warning.raised", "warning", r.id, new=briefs[r.id], power=LIFECYCLE),
            Entry(
                actor,
                "warning.delivered",
                "warning",
                r.id,
                old={"state": WarningState.raised.value},
                new={"state": WarningState.delivered.value},
                power=LIFECYCLE,
            ),
        ]
    if steps:
        await session.execute(insert(STEP), steps)
    await trail.record_many(session, entries)
    # warnings the caller holds as objects are read again, as the state and deadline changed
    for held in [o for o in session.identity_map.values() if isinstance(o, Warning) and o.id in deadlines]:
        await session.refresh(held)
    return len(rows)


def _step(
    warning_id: int,
    actor: Actor,
    kind: str,
    before: WarningState | None,
    after: WarningState | None,
    channel: str,
    data: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    """A timeline row as ``record_step`` writes it (its trail record goes through ``record_many``)."""
    return {
        "warning_id": warning_id,
        "at": at,
        "kind": kind,
        "from_state": before.value if before else None,
        "to_state": after.value if after else None,
        "actor_person_id": actor.person_id,
        "actor_label": actor.label,
        "channel": channel,
        "note": None,
        "data": data,
    }


@dataclass
class SweepReport:
    announced: int = 0
    reminded: int = 0
    chased: int = 0
    supervised: int = 0
    deadlines_set: int = 0
    #: risk reports of linked warnings: reminded, chased, under supervision order
    linked: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        letters = ", ".join(f"{k} {v}" for k, v in self.linked.items())
        return (
            f"announced {self.announced}, deadlines set {self.deadlines_set}, reminded {self.reminded}, "
            f"chased {self.chased}, supervision orders {self.supervised}; risk reports: {letters or 'none'}"
        )


async def _advance_stage(session: AsyncSession, w: Warning, stage: ChaseStage) -> bool:
    result = await session.execute(
        update(Warning)
        .where(col(Warning.id) == w.id, col(Warning.chase_stage) == w.chase_stage)
        .values(chase_stage=int(stage))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def sweep(
    session: AsyncSession, trail: AuditTrail, settings: Settings, *, now: datetime | None = None
) -> SweepReport:
    """One pass of reminders, chases and supervision orders over open warnings; commits."""
    now = now or utcnow()
    report = SweepReport()
    calendar = await load_calendar(session)
    remind_days = settings.reminder_working_days
    supervise_after = settings.supervision_after_working_days
    raised = (
        await session.execute(
            select(col(Warning.id)).where(
                col(Warning.state) == WarningState.raised.value, col(Warning.trial).is_(False)
            )
        )
    ).scalars()
    report.announced = await announce(session, trail, [i for i in raised if i is not None], calendar=calendar)
    missing = list(
        (
            await session.execute(
                select(Warning).where(col(Warning.due_at).is_(None), col(Warning.trial).is_(False))
            )
        ).scalars()
    )
    report.deadlines_set = (
        await set_deadlines(session, trail, calendar, missing, SYSTEM, power=LIFECYCLE)
    ).changed
    routing = Routing(OrgService(session, trail))
    today = calendar.raised_on(now)
    candidates = (
        await session.execute(
            select(Warning).where(
                col(Warning.state).in_([s.value for s in OPEN_STATES]),
                col(Warning.trial).is_(False),
                col(Warning.due_at).is_not(None),
                col(Warning.chase_stage) < int(ChaseStage.supervised),
                col(Warning.due_at) <= now + timedelta(days=remind_days * 3 + 14),
            )
        )
    ).scalars()
    for w in list(candidates):
        assert w.due_at is not None
        due_day = calendar.raised_on(w.due_at)
        stage = ChaseStage(w.chase_stage)
        if now > w.due_at:
            late = calendar.working_days_between(due_day, today)
            if late >= supervise_after and stage < ChaseStage.supervised:
                if await _advance_stage(session, w, ChaseStage.supervised):
                    await _tell(
                        session, trail, routing, w, "supervision_order", head=True, inspector=True, late=late
                    )
                    report.supervised += 1
            elif stage < ChaseStage.chased and await _advance_stage(session, w, ChaseStage.chased):
                await _tell(session, trail, routing, w, "chased", head=True, inspector=False, late=late)
                report.chased += 1
        elif (
            stage < ChaseStage.reminded
            and calendar.working_days_between(today, due_day) <= remind_days
            and await _advance_stage(session, w, ChaseStage.reminded)
        ):
            await _tell(session, trail, routing, w, "reminded", head=False, inspector=False, late=0)
            report.reminded += 1
    linked = await chase_linked(
        session,
        trail,
        calendar,
        now=now,
        remind_days=remind_days,
        supervise_after=supervise_after,
        actor=SYSTEM,
    )
    report.linked = {stage.name: n for stage, n in linked.items()}
    await session.commit()
    return report


EVENT_KIND = {
    "reminded": "warning.due_soon",
    "chased": "warning.overdue",
    "supervision_order": "warning.supervision_order",
}


async def _tell(
    session: AsyncSession,
    trail: AuditTrail,
    routing: Routing,
    w: Warning,
    kind: str,
    *,
    head: bool,
    inspector: bool,
    late: int,
) -> None:
    recipients = await routing.tiers(w, head=head, inspector=inspector)
    if kind == "supervision_order":
        # a supervision order goes to the inspectors (the person and head hear of it too)
        recipients = sorted(recipients, key=lambda pr: pr[1] != "inspector")
    data = {**_brief(w), "working_days_late": late}
    await tell_on_timeline(
        session, trail, w, recipients, event_kind=EVENT_KIND[kind], step_kind=kind, actor=SYSTEM, data=data
    )


async def tell_on_timeline(
    session: AsyncSession,
    trail: AuditTrail,
    w: Warning,
    recipients: list[tuple[int, str]],
    *,
    event_kind: str,
    step_kind: str,
    actor: Actor,
    data: dict[str, Any],
    note: str | None = None,
) -> None:
    """An event to ``recipients`` and the timeline step (with its trail record) that says who was
    told; the note, if any, goes on the step and its trail record, never in the event."""
    event = await emit(
        session,
        event_kind,
        subject_type="warning",
        subject_id=w.id or 0,
        recipients=recipients,
        level=str(w.level),
        data=data,
    )
    step = {**data, **({"note": note} if note else {})}
    await record_step(
        session,
        trail,
        w.id or 0,
        actor,
        kind=step_kind,
        note=note,
        channel="inapp" if actor is SYSTEM else None,
        data={
            **step,
            "event_id": event.id,
            "recipients": [{"person_id": p, "tier": r} for p, r in recipients],
        },
    )
