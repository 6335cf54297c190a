"""One warning in full, as its detail page shows it: the summary, the evidence with its labels,
the timeline with who took each step, the replies and the photos. After the inbox the page people
open most: every statement is built once (bound parameters) and reused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.warnings.evidence import evidence_items, labels_for
from backend.warnings.hits import TRIAL_VERDICT_PREFIX
from backend.warnings.inbox import person_names, shown_summary
from backend.warnings.models import Verification, Warning, WarningPhoto, WarningStep
from backend.warnings.schemas import PhotoPublic, StepPublic, VerificationPublic, WarningDetail

_ID: Any = bindparam("warning_id")
_STEPS = (
    select(WarningStep)
    .where(col(WarningStep.warning_id) == _ID)
    .order_by(col(WarningStep.at), col(WarningStep.id))
)
#: a live warning shows its person's replies, not the topic experts' verdicts from when it was a
#: trial hit (those stay for the validation report); a trial warning shows them all
_REPLIES = {
    True: select(Verification).where(col(Verification.warning_id) == _ID).order_by(col(Verification.round)),
    False: select(Verification)
    .where(
        col(Verification.warning_id) == _ID, col(Verification.client_id).not_like(f"{TRIAL_VERDICT_PREFIX}%")
    )
    .order_by(col(Verification.round)),
}
_PHOTOS = select(WarningPhoto).where(col(WarningPhoto.warning_id) == _ID).order_by(col(WarningPhoto.id))


def verification_public(v: Verification) -> VerificationPublic:
    return VerificationPublic.model_validate(v, from_attributes=True)


def photo_public(p: WarningPhoto, subject_id: int | None = None) -> PhotoPublic:
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
    steps = (await session.execute(_STEPS, params)).scalars()
    verifications = (await session.execute(_REPLIES[bool(warning.trial)], params)).scalars()
    photos = (await session.execute(_PHOTOS, params)).scalars()
    labels = await labels_for(session, warning.topic_id, warning.rule_version_id)
    timeline = [StepPublic.model_validate(s, from_attributes=True) for s in steps]
    # who took each step, by name (never an account's username)
    names = await person_names(session, [s.actor_person_id for s in timeline])
    for step in timeline:
        step.actor_name = names.get(step.actor_person_id or 0)
    return WarningDetail(
        warning=await shown_summary(session, warning, lang),
        evidence_items=evidence_items(warning.evidence, labels, lang),
        timeline=timeline,
        verifications=[verification_public(v) for v in verifications],
        photos=[photo_public(p, warning.person_id) for p in photos],
        actions=actions,
    )
