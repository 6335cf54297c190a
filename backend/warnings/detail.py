"""One warning in full, as its detail page shows it: the summary, the evidence with its labels,
the timeline with who took each step, the replies and the photos. After the inbox the page people
open most: every statement is built once (bound parameters) and reused."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.warnings.evidence import RULE_TABLES, TABLE_COLUMNS, TOPIC, evidence_items, labels_of
from backend.warnings.hits import TRIAL_VERDICT_PREFIX
from backend.warnings.inbox import person_names, shown_columns, shown_summary
from backend.warnings.models import Verification, Warning, WarningPhoto, WarningStep
from backend.warnings.schemas import PhotoPublic, StepPublic, VerificationPublic, WarningDetail

# read as rows of columns (no ORM objects made), each statement built once
STEP: Table = WarningStep.__table__  # type: ignore[attr-defined]
REPLY: Table = Verification.__table__  # type: ignore[attr-defined]
PHOTO: Table = WarningPhoto.__table__  # type: ignore[attr-defined]
_ID: Any = bindparam("warning_id")
_STEPS = select(STEP).where(STEP.c.warning_id == _ID).order_by(STEP.c.at, STEP.c.id)
#: a live warning shows its person's replies, not the topic experts' verdicts from when it was a
#: trial hit (those stay for the validation report); a trial warning shows them all
_REPLIES = {
    True: select(REPLY).where(REPLY.c.warning_id == _ID).order_by(REPLY.c.round),
    False: select(REPLY)
    .where(REPLY.c.warning_id == _ID, REPLY.c.client_id.not_like(f"{TRIAL_VERDICT_PREFIX}%"))
    .order_by(REPLY.c.round),
}
_PHOTOS = select(PHOTO).where(PHOTO.c.warning_id == _ID).order_by(PHOTO.c.id)


@lru_cache(maxsize=4)
def _topic(lang: str) -> Select[Any]:
    """In one statement: the topic's name and instruction in ``lang``, its evidence labels, and
    the tables its rule version reads (their columns' labels win)."""
    return select(*shown_columns(lang), TOPIC.c.labels, RULE_TABLES.label("tables_read")).where(
        TOPIC.c.id == bindparam("topic_id")
    )


def verification_public(v: Any) -> VerificationPublic:
    """A reply as the API shows it, from a Verification or a row of its table."""
    return VerificationPublic.model_validate(v, from_attributes=True)


def photo_public(p: Any, subject_id: int | None = None) -> PhotoPublic:
    """A photo as the API shows it, from a WarningPhoto or a row of its table."""
    return PhotoPublic(
        id=p.id or 0,
        warning_id=p.warning_id,
        sha256=p.sha256,
        content_type=p.content_type,
        size=p.size,
        uploaded_at=p.uploaded_at,
        url=f"/api/warnings/{p.warning_id}/photos/{p.id}",
        by_subject=subject_id is None or p.uploaded_by == subject_id,
    )


async def warning_detail(
    session: AsyncSession, warning: Warning, lang: str, actions: list[str]
) -> WarningDetail:
    """``warning`` in full, with the ``actions`` its reader may take."""
    params: dict[str, Any] = {"warning_id": warning.id}
    steps = (await session.execute(_STEPS, params)).all()
    verifications = (await session.execute(_REPLIES[bool(warning.trial)], params)).all()
    photos = (await session.execute(_PHOTOS, params)).all()
    topic = (
        await session.execute(
            _topic(lang), {"topic_id": warning.topic_id, "rule_version_id": warning.rule_version_id}
        )
    ).one_or_none()
    tables = (await session.execute(TABLE_COLUMNS)).all()
    labels = labels_of(
        topic.tables_read if topic else None,
        tables,
        topic.labels if topic else None,
        manual=not warning.rule_version_id,
    )
    timeline = [StepPublic.model_validate(s, from_attributes=True) for s in steps]
    # who took each step, and whose the warning is, by name (never an account's username)
    names = await person_names(session, [*(s.actor_person_id for s in timeline), warning.person_id])
    for step in timeline:
        step.actor_name = names.get(step.actor_person_id or 0)
    summary = await shown_summary(
        session,
        warning,
        topic.topic_name if topic else None,
        topic.instruction if topic else None,
        names.get(warning.person_id),
    )
    return WarningDetail(
        warning=summary,
        evidence_items=evidence_items(warning.evidence, labels, lang),
        timeline=timeline,
        verifications=[verification_public(v) for v in verifications],
        photos=[photo_public(p, warning.person_id) for p in photos],
        actions=actions,
    )
