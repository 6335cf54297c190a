"""The warning lifecycle: inbox, detail, verification, confirmation, photos.

Every transition is one conditional ``UPDATE … WHERE id = ? AND state = <state read>``: of two
simultaneous transitions exactly one changes a row, the other answers 409 ``state_changed``.
Each transition writes a timeline step, a trail record and (where someone must be told) an
event, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    and_,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from backend.audit.reads import ReadJournal
from backend.audit.service import AuditTrail, Entry
from backend.calendar.service import WorkingCalendar
from backend.events.service import emit
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.errors import AppError, Conflict, Forbidden, Invalid, NotFound
from backend.kernel.hooks import REGISTRY, HookPoint
from backend.kernel.settings import Settings
from backend.kernel.timeutil import SHANGHAI, as_utc, utcnow
from backend.kernel.watch import also_changes
from backend.warnings.detail import warning_detail
from backend.warnings.inbox import (
    InboxFilters,
    filter_clauses,
    listed,
    own_inbox,
)
from backend.warnings.inbox_json import INBOX
from backend.warnings.models import (
    ANSWERABLE_STATES,
    Finding,
    Verification,
    Warning,
    WarningPhoto,
    WarningState,
    WarningStep,
)
from backend.warnings.photos import PhotoStore, check_image
from backend.warnings.schemas import (
    DecisionCreate,
    InboxPage,
    InboxView,
    UnitOnTime,
    VerificationCreate,
    WarningDetail,
)

WARNING: Any = Warning.__table__  # type: ignore[attr-defined]
W = WARNING.c
#: every column of a warning, as an UPDATE returns them to the object it changed (``_move``)
WARNING_COLUMNS = tuple(WARNING.c)


def body_hash(warning_id: int, data: VerificationCreate) -> str:
    body = data.model_dump(mode="json")
    body["warning_id"] = warning_id
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


class WarningService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.photos = PhotoStore(settings.data_dir)

    # --- scope --------------------------------------------------------------------
    @staticmethod
    def visible(principal: Principal) -> ColumnElement[bool]:
        return and_(
            principal.case_filter(person_col=W.person_id, unit_col=W.unit_id, specialty_col=W.specialty),
            W.trial == false(),
        )

    async def get_visible(self, principal: Principal, warning_id: int) -> Warning:
        warning = await self.session.get(Warning, warning_id, populate_existing=True)
        if (
            warning is None
            or warning.trial
            or not principal.can_see_case(
                person_id=warning.person_id, unit_id=warning.unit_id, specialty=warning.specialty
            )
        ):
            raise NotFound(
                f"warning {warning_id} does not exist or is not in your scope", code="warning_not_found"
            )
        return warning

    @staticmethod
    def may_decide(principal: Principal, warning: Warning) -> bool:
        """The head of the person's unit (or above it) or an inspector over it; never the person."""
        if principal.person_id == warning.person_id:
            return False
        return principal.has(Role.head, Role.inspector) and warning.unit_id in principal.subtree_unit_ids

    def actions(self, principal: Principal, warning: Warning) -> list[str]:
        state = WarningState(warning.state)
        out: list[str] = []
        if principal.person_id == warning.person_id:
            if state in {WarningState.raised, WarningState.delivered}:
                out.append("read")
            if state in ANSWERABLE_STATES:
                out.append("verify")
        if self.may_decide(principal, warning):
            if state is WarningState.submitted:
                out += ["confirm", "return"]
            if state is WarningState.confirmed:
                out.append("close")
        # 催办 (heads, inspectors) and 督办 (inspectors) of someone else's open warning: urging.py
        if state in ANSWERABLE_STATES and principal.person_id != warning.person_id:
            if principal.has(Role.head, Role.inspector) and warning.unit_id in principal.subtree_unit_ids:
                out.append("urge")
            if principal.has(Role.inspector) and warning.unit_id in principal.subtree_unit_ids:
                out.append("supervise")
        return out

    # --- inbox --------------------------------------------------------------------
    async def inbox(
        self,
        principal: Principal,
        view: InboxView,
        filters: InboxFilters,
        *,
        limit: int = 20,
        offset: int = 0,
        lang: str = "zh-CN",
    ) -> InboxPage:
        """One's own warnings, or (heads, inspectors, committee) those of one's unit or scope, each
        row saying whose it is (``backend/warnings/inbox.py``)."""
        where: list[ColumnElement[bool]] = [self.visible(principal)]
        if view is InboxView.mine:
            bind = self.session.bind
            assert isinstance(bind, AsyncEngine)
            return await own_inbox(bind, principal, filters, limit=limit, offset=offset, lang=lang)
        if view is InboxView.unit:
            if not principal.has(Role.head, Role.inspector, Role.committee):
                raise Forbidden("the unit view is for heads and inspectors", code="role_required")
            if not principal.sees_all_cases():
                where.append(W.unit_id.in_(sorted(principal.subtree_unit_ids)))
        where += filter_clauses(filters, utcnow())
        return await listed(self.session, where, filters, lang, limit=limit, offset=offset)

    # --- detail -------------------------------------------------------------------
    async def detail(
        self, principal: Principal, warning_id: int, *, reads: ReadJournal | None = None, lang: str = "zh-CN"
    ) -> WarningDetail:
        """The warning in full. Its person's first look marks it read (a change, in the chain at
        once); the look itself is a read of case content: noted in ``reads`` (written with the next
        batch of reads, so a view takes no turn on the chain) or, without one, recorded now."""
        warning = await self.get_visible(principal, warning_id)
        actor = principal.actor
        wrote = False
        if principal.person_id == warning.person_id and warning.state in {
            WarningState.raised,
            WarningState.delivered,
        }:
            try:
                await self._move(warning, WarningState.read, actor, kind="read", values={"read_at": utcnow()})
                wrote = True
            except Conflict:
                await self.session.rollback()
                warning = await self.get_visible(principal, warning_id)
        if reads is not None:
            reads.note(actor, "warning.view", "warning", [warning_id])
        else:
            await self.trail.record(
                self.session,
                actor,
                action="warning.view",
                object_type="warning",
                object_id=warning_id,
                power="case.read",
            )
            wrote = True
        if wrote:  # a look that changed nothing reads on in the same transaction (no COMMIT, BEGIN)
            await self.session.commit()
        return await self._detail(principal, warning, lang)

    async def detail_unmarked(self, principal: Principal, warning: Warning, lang: str) -> WarningDetail:
        """The warning in full as ``detail`` gives it, without marking it read (a copy kept offline)."""
        return await self._detail(principal, warning, lang)

    async def _detail(self, principal: Principal, warning: Warning, lang: str = "zh-CN") -> WarningDetail:
        return await warning_detail(self.session, warning, lang, self.actions(principal, warning))

    # --- transitions --------------------------------------------------------------
    async def _move(
        self,
        warning: Warning,
        to: WarningState,
        actor: Actor,
        *,
        kind: str,
        values: dict[str, Any] | None = None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
        channel: str | None = None,
    ) -> None:
        """Conditional UPDATE from the state read; a lost race raises 409 ``state_changed``. The
        row as updated comes back with the UPDATE (RETURNING) and is set on ``warning``: no second
        read of it (``values`` may be SQL, such as a count plus one)."""
        before = WarningState(warning.state)
        result = await self.session.execute(
            update(Warning)
            .where(col(Warning.id) == warning.id, col(Warning.state) == before.value)
            .values(state=to.value, **(values or {}))
            .returning(*WARNING_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        updated = result.one_or_none()
        if updated is None:
            raise Conflict(
                f"warning {warning.id} changed meanwhile (it was {before.value}); reload it",
                code="state_changed",
                extra={"state": before.value},
            )
        await record_step(
            self.session,
            self.trail,
            warning.id or 0,
            actor,
            kind=kind,
            before=before,
            after=to,
            note=note,
            data=data,
            channel=channel,
        )
        for name, value in updated._mapping.items():
            set_committed_value(warning, name, value)
        also_changes(INBOX, warning.person_id)  # a head's decision: the person's kept inbox pages end

    @staticmethod
    def _require_state(
        warning: Warning, allowed: frozenset[WarningState] | set[WarningState], action: str
    ) -> None:
        state = WarningState(warning.state)
        if state in allowed:
            return
        code = "warning_closed" if state in {WarningState.closed} else "invalid_transition"
        raise Conflict(
            f"cannot {action} a warning that is {state.value}",
            code=code,
            extra={"state": state.value, "action": action},
        )

    # --- verification -------------------------------------------------------------
    async def verify(
        self, principal: Principal, warning_id: int, data: VerificationCreate
    ) -> tuple[Verification, bool]:
        """Store a reply once under its client id. Returns (verification, created)."""
        verification, created, _warning = await self.verify_showing(principal, warning_id, data)
        return verification, created

    async def verify_showing(
        self, principal: Principal, warning_id: int, data: VerificationCreate
    ) -> tuple[Verification, bool, Warning]:
        """:meth:`verify`, with the warning as it stands after the reply (the answer shows it)."""
        digest = body_hash(warning_id, data)
        replay = await self._replay(principal, data.client_id, digest)
        if replay is not None:
            return replay, False, await self.get_visible(principal, warning_id)
        warning = await self.get_visible(principal, warning_id)
        if warning.person_id != principal.person_id:
            raise Forbidden("only the responsible person replies to a warning", code="not_your_warning")
        self._require_state(warning, ANSWERABLE_STATES, "verify")
        if data.result is Finding.true and not data.measures.strip():
            raise Invalid(
                "rectification measures are required when the warning is true",
                code="measures_required",
                extra={"field": "measures"},
            )
        await self._check_photos(warning, principal.person_id, data.photo_ids)
        resubmit = warning.state == WarningState.returned
        now = utcnow()
        verification = Verification(
            client_id=data.client_id,
            warning_id=warning_id,
            person_id=principal.person_id,
            round=(warning.submissions or 0) + 1,
            result=data.result.value,
            cause=data.cause,
            measures=data.measures,
            photo_ids=sorted(set(data.photo_ids)),
            latitude=data.latitude,
            longitude=data.longitude,
            accuracy_m=data.accuracy_m,
            body_hash=digest,
            channel=principal.channel.value,
            submitted_at=now,
        )
        try:
            self.session.add(verification)
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            replay = await self._replay(principal, data.client_id, digest)
            if replay is None:
                raise
            return replay, False, await self.get_visible(principal, warning_id)
        await self._move(
            warning,
            WarningState.submitted,
            principal.actor,
            kind="resubmitted" if resubmit else "submitted",
            values={
                "submitted_at": now,
                "first_submitted_at": func.coalesce(Warning.first_submitted_at, now),
                "read_at": func.coalesce(Warning.read_at, now),
                "finding": data.result.value,
                "submissions": Warning.submissions + 1,
            },
            data={
                "verification_id": verification.id,
                "result": data.result.value,
                "round": verification.round,
            },
        )
        await self.trail.record(
            self.session,
            principal.actor,
            action="verification.submit",
            object_type="warning_verification",
            object_id=verification.id,
            new={
                "warning_id": warning_id,
                "client_id": data.client_id,
                "result": data.result.value,
                "round": verification.round,
                "photos": verification.photo_ids,
                "located": data.latitude is not None,
            },
            power="warning.verify",
        )
        for hook in REGISTRY(VERIFIED):
            await hook(self.session, self.trail, warning, principal.actor)
        await self.session.commit()
        return verification, True, warning

    async def _replay(self, principal: Principal, client_id: str, digest: str) -> Verification | None:
        return await replayed(
            self.session, Verification, client_id, owner=("person_id", principal.person_id), digest=digest
        )

    async def _check_photos(self, warning: Warning, person_id: int, photo_ids: list[int]) -> None:
        if not photo_ids:
            return
        found = set(
            (
                await self.session.execute(
                    select(col(WarningPhoto.id)).where(
                        col(WarningPhoto.id).in_(photo_ids),
                        col(WarningPhoto.warning_id) == warning.id,
                        col(WarningPhoto.uploaded_by) == person_id,
                    )
                )
            ).scalars()
        )
        missing = sorted(set(photo_ids) - found)
        if missing:
            raise Invalid(
                f"photo(s) {missing} were not uploaded to this warning by you",
                code="unknown_photo",
                extra={"field": "photo_ids", "photo_ids": missing},
            )

    # --- confirmation -------------------------------------------------------------
    async def _decidable(self, principal: Principal, warning_id: int, action: str) -> Warning:
        warning = await self.get_visible(principal, warning_id)
        if principal.person_id == warning.person_id:
            raise Forbidden("nobody confirms or returns their own reply", code="own_reply")
        if not self.may_decide(principal, warning):
            raise Forbidden(
                f"only the head of the person's unit or an inspector over it may {action}",
                code="not_unit_head",
            )
        return warning

    async def _latest(self, warning_id: int) -> Verification:
        latest = (
            await self.session.execute(
                select(Verification)
                .where(col(Verification.warning_id) == warning_id)
                .order_by(col(Verification.round).desc())
                .limit(1)
            )
        ).scalar_one()
        return latest

    async def decide(
        self, principal: Principal, warning_id: int, data: DecisionCreate, *, confirm: bool
    ) -> tuple[Warning, Verification]:
        action = "confirm" if confirm else "return"
        warning = await self._decidable(principal, warning_id, action)
        self._require_state(warning, {WarningState.submitted}, action)
        reason = (data.reason or "").strip() or None
        if not confirm and not reason:
            raise Invalid("say why the reply is returned", code="reason_required", extra={"field": "reason"})
        now = utcnow()
        latest = await self._latest(warning_id)
        target = WarningState.confirmed if confirm else WarningState.returned
        await self._move(
            warning,
            target,
            principal.actor,
            kind=target.value,
            values={"confirmed_at": now} if confirm else {},
            note=reason,
            data={"verification_id": latest.id},
        )
        latest.decision, latest.decided_by, latest.decided_at = target.value, principal.person_id, now
        latest.decision_reason = reason
        await self.trail.record(
            self.session,
            principal.actor,
            action=f"verification.{action}",
            object_type="warning_verification",
            object_id=latest.id,
            old={"decision": None},
            new={"decision": target.value, "reason": reason, "warning_id": warning_id},
            power="warning.confirm",
        )
        await emit(
            self.session,
            f"warning.{target.value}",
            subject_type="warning",
            subject_id=warning_id,
            recipients={warning.person_id: "subject"},
            level=str(warning.level),
            data={"warning_id": warning_id, "state": target.value},
        )
        if confirm:
            for hook in REGISTRY(CONFIRMED):
                await hook(self.session, self.trail, warning, principal.actor)
        await self.session.commit()
        return warning, latest

    async def close(self, principal: Principal, warning_id: int) -> Warning:
        warning = await self._decidable(principal, warning_id, "close")
        self._require_state(warning, {WarningState.confirmed}, "close")
        await self._move(
            warning, WarningState.closed, principal.actor, kind="closed", values={"closed_at": utcnow()}
        )
        await self.session.commit()
        return warning

    # --- photos -------------------------------------------------------------------
    async def add_photo(
        self, principal: Principal, warning_id: int, content: bytes
    ) -> tuple[WarningPhoto, bool]:
        warning = await self.get_visible(principal, warning_id)
        if warning.person_id != principal.person_id:
            raise Forbidden("only the responsible person adds photos to a reply", code="not_your_warning")
        self._require_state(warning, ANSWERABLE_STATES, "add photos to")
        mime = check_image(content, self.settings.photo_max_bytes)
        digest = hashlib.sha256(content).hexdigest()
        existing = await self._photo_by_hash(warning_id, digest)
        if existing is not None:
            return existing, False
        self.photos.put(content)
        photo = WarningPhoto(
            warning_id=warning_id,
            sha256=digest,
            content_type=mime,
            size=len(content),
            uploaded_by=principal.person_id,
        )
        try:
            self.session.add(photo)
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            existing = await self._photo_by_hash(warning_id, digest)
            if existing is None:
                raise
            return existing, False
        await self.trail.record(
            self.session,
            principal.actor,
            action="photo.upload",
            object_type="warning_photo",
            object_id=photo.id,
            new={"warning_id": warning_id, "sha256": digest, "content_type": mime, "size": len(content)},
            power="warning.verify",
        )
        await self.session.commit()
        return photo, True

    async def _photo_by_hash(self, warning_id: int, digest: str) -> WarningPhoto | None:
        return (
            await self.session.execute(
                select(WarningPhoto).where(
                    col(WarningPhoto.warning_id) == warning_id, col(WarningPhoto.sha256) == digest
                )
            )
        ).scalar_one_or_none()

    async def photo(
        self, principal: Principal, warning_id: int, photo_id: int, *, reads: ReadJournal | None = None
    ) -> tuple[WarningPhoto, bytes]:
        """A photo's bytes. Looking at it is a read of case content: noted in ``reads`` (written with
        the next batch of reads) or, without one, recorded now."""
        await self.get_visible(principal, warning_id)
        photo = await self.session.get(WarningPhoto, photo_id)
        if photo is None or photo.warning_id != warning_id:
            raise NotFound(f"photo {photo_id} does not exist on warning {warning_id}", code="photo_not_found")
        try:
            content = self.photos.get(photo.sha256)
        except FileNotFoundError as exc:
            raise AppError(
                "the photo file is missing from storage", code="photo_missing", status=410
            ) from exc
        seen = {"warning_id": warning_id, "sha256": photo.sha256}
        if reads is not None:
            reads.note(principal.actor, "photo.download", "warning_photo", [photo_id], **seen)
            return photo, content
        await self.trail.record(
            self.session,
            principal.actor,
            action="photo.download",
            object_type="warning_photo",
            object_id=photo_id,
            new=seen,
            power="case.read",
        )
        await self.session.commit()
        return photo, content

    # --- statistics ---------------------------------------------------------------
    async def on_time(
        self, principal: Principal, raised_from: date | None, raised_to: date | None
    ) -> list[UnitOnTime]:
        now = utcnow()
        where: list[ColumnElement[bool]] = [self.visible(principal)]
        if raised_from:
            where.append(W.raised_at >= _day_start(raised_from))
        if raised_to:
            where.append(W.raised_at < _day_start(raised_to + timedelta(days=1)))
        answered = W.first_submitted_at.is_not(None)
        on_time = and_(answered, W.due_at.is_not(None), W.first_submitted_at <= W.due_at)
        late_open = and_(W.first_submitted_at.is_(None), W.due_at < now)
        stmt = (
            select(
                W.unit_id,
                func.count(),
                func.sum(answered.cast(Integer())),
                func.sum(on_time.cast(Integer())),
                func.sum(late_open.cast(Integer())),
            )
            .where(*where)
            .group_by(W.unit_id)
            .order_by(W.unit_id)
        )
        out = []
        for unit_id, raised, n_answered, n_on_time, n_late in (await self.session.execute(stmt)).all():
            due = int(n_answered or 0) + int(n_late or 0)
            out.append(
                UnitOnTime(
                    unit_id=unit_id,
                    raised=int(raised),
                    answered=int(n_answered or 0),
                    answered_on_time=int(n_on_time or 0),
                    overdue_open=int(n_late or 0),
                    on_time_rate=round(int(n_on_time or 0) / due, 4) if due else None,
                )
            )
        return out


async def replayed(
    session: AsyncSession, model: type[Any], client_id: str, *, owner: tuple[str, int], digest: str
) -> Any | None:
    """The row first stored under a client-generated id, if any: the same body from the same person
    is a replay (its first result is answered again); anything else under that id is 409."""
    first = (await session.execute(select(model).where(model.client_id == client_id))).scalar_one_or_none()
    if first is None:
        return None
    if getattr(first, owner[0]) != owner[1] or first.body_hash != digest:
        raise Conflict(
            "this client_id was already used for another body; make a new id for a new one",
            code="client_id_reused",
            extra={"field": "client_id"},
        )
    return first


async def record_read(
    session: AsyncSession, trail: AuditTrail, actor: Actor, action: str, object_type: str, object_id: int
) -> None:
    """A read of case content (a record, a form, a file) in the trail, committed."""
    await trail.record(
        session, actor, action=action, object_type=object_type, object_id=object_id, power="case.read"
    )
    await session.commit()


async def record_step(
    session: AsyncSession,
    trail: AuditTrail,
    warning_id: int,
    actor: Actor,
    *,
    kind: str,
    before: WarningState | None = None,
    after: WarningState | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    channel: str | None = None,
) -> None:
    """A timeline step and its trail record (state changes carry old and new state)."""
    session.add(
        WarningStep(
            warning_id=warning_id,
            kind=kind,
            from_state=before.value if before else None,
            to_state=after.value if after else None,
            actor_person_id=actor.person_id,
            actor_label=actor.label,
            channel=channel or actor.channel.value,
            note=note,
            data=data or {},
        )
    )
    await trail.record(
        session,
        actor,
        action=f"warning.{kind}",
        object_type="warning",
        object_id=warning_id,
        old={"state": before.value} if before else None,
        new={"state": after.value, **({"note": note} if note else {})} if after else dict(data or {}),
        power="warning.lifecycle",
    )


#: ``hook(session, trail, warning, actor)`` after each verification, in its transaction (no commit)
AfterVerification = Callable[[AsyncSession, AuditTrail, Warning, Actor], Awaitable[object]]
#: after each verification: linked-warning evaluation, telling the heads who decide … hooked at
#: start-up from ``backend/<feature>/hooks.py`` (``backend.kernel.hooks.compose``)
VERIFIED: HookPoint[AfterVerification] = HookPoint("warning.verified")
#: after a head or an inspector confirmed a reply, in its transaction (no commit): the finding now
#: counts (linked warnings)
CONFIRMED: HookPoint[AfterVerification] = HookPoint("warning.confirmed")


# --- deadlines ------------------------------------------------------------------------
STEP: Table = WarningStep.__table__  # type: ignore[attr-defined]


@dataclass
class DeadlinesSet:
    #: every row's deadline: {warning id: (due_at UTC, provisional)}
    due: dict[int, tuple[datetime, bool]]
    #: how many rows' deadline (or its provisional flag) was written
    changed: int


def chunks(ids: Sequence[int], size: int = 1000) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``size`` (the bound parameters of one IN)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


async def set_deadlines(
    session: AsyncSession,
    trail: AuditTrail,
    calendar: WorkingCalendar,
    rows: Sequence[Any],
    actor: Actor,
    *,
    power: str,
    first_recorded: bool = False,
) -> DeadlinesSet:
    """(Re)compute the deadline of ``rows`` (warnings, or rows with id, level, raised_at, due_at
    and deadline_provisional). No commit.

    Set-based: computed once per (raised time, level), written with one UPDATE per distinct
    deadline. A deadline that moved gets a timeline step and a trail record
    (``warning.deadline_recomputed``, ``actor``'s act under ``power``); a first deadline a trail
    record (``warning.deadline_set``) unless ``first_recorded`` (the caller's record of the
    warning holds it, as ``announce``'s ``warning.raised`` does). Warnings the session holds as
    objects are given the values written."""
    computed: dict[tuple[datetime, str], tuple[datetime, bool]] = {}
    due: dict[int, tuple[datetime, bool]] = {}
    moved: dict[tuple[datetime, bool], list[int]] = {}
    steps: list[dict[str, Any]] = []
    entries: list[Entry] = []
    now = utcnow()
    for r in rows:
        key = (r.raised_at, str(r.level))
        if key not in computed:
            d = calendar.deadline_for_level(r.raised_at, str(r.level))
            computed[key] = (as_utc(d.due_at), d.provisional)
        new_due, provisional = due[r.id] = computed[key]
        if r.due_at == new_due and bool(r.deadline_provisional) == provisional:
            continue
        moved.setdefault((new_due, provisional), []).append(r.id)
        if r.due_at is None:
            if not first_recorded:
                first = {"due_at": new_due.isoformat(), "provisional": provisional}
                entries.append(Entry(actor, "warning.deadline_set", "warning", r.id, new=first, power=power))
            continue
        old_due = as_utc(r.due_at).isoformat()
        steps.append(
            {
                "warning_id": r.id,
                "at": now,
                "kind": "deadline_recomputed",
                "channel": "system",
                "actor_label": "calendar",
                "data": {"old_due_at": old_due, "due_at": new_due.isoformat(), "provisional": provisional},
            }
        )
        entries.append(
            Entry(
                actor,
                "warning.deadline_recomputed",
                "warning",
                r.id,
                old={"due_at": old_due, "provisional": bool(r.deadline_provisional)},
                new={"due_at": new_due.isoformat(), "provisional": provisional},
                power=power,
            )
        )
    for (new_due, provisional), ids in moved.items():
        for chunk in chunks(ids):
            await session.execute(
                update(WARNING)
                .where(WARNING.c.id.in_(chunk))
                .values(due_at=new_due, deadline_provisional=provisional)
            )
    if steps:
        await session.execute(insert(STEP), steps)
    await trail.record_many(session, entries)
    written = {i: value for value, ids in moved.items() for i in ids}
    for held in list(session.identity_map.values()):
        if isinstance(held, Warning) and held.id in written:
            held_due, held_provisional = written[held.id]
            set_committed_value(held, "due_at", held_due)
            set_committed_value(held, "deadline_provisional", held_provisional)
    return DeadlinesSet(due, len(written))


async def recompute_deadlines(
    session: AsyncSession, trail: AuditTrail, calendar: WorkingCalendar, years: frozenset[int], actor: Actor
) -> int:
    """Deadlines of warnings not yet closed whose span touches a changed year (each one moved in
    the trail as the calendar change's actor's act, as ladder cases and risk reports are)."""
    if not years:
        return 0
    start = datetime.combine(date(min(years), 1, 1), time.min, SHANGHAI) - timedelta(days=1)
    end = datetime.combine(date(max(years), 12, 31), time.max, SHANGHAI) + timedelta(days=1)
    rows = (
        await session.execute(
            select(Warning).where(
                col(Warning.state) != WarningState.closed.value,
                col(Warning.raised_at) <= end,
                or_(col(Warning.due_at).is_(None), col(Warning.due_at) >= start),
            )
        )
    ).scalars()
    return (await set_deadlines(session, trail, calendar, list(rows), actor, power="calendar.write")).changed
