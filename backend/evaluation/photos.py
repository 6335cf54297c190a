"""Photos filed with tags (evidence of the "1+3" evaluation): uploaded first by the filer, stored
by SHA-256 in the photo store (one unbound row per filer and hash: a re-upload after a lost answer
is the same row), bound to the tag filed with it, read by those who may see the tag."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.evaluation.models import EvalTag, EvalTagPhoto
from backend.kernel.access import Principal
from backend.kernel.errors import AppError, Invalid, NotFound
from backend.kernel.schemas import pk
from backend.kernel.settings import Settings
from backend.warnings.photos import PhotoStore, Unbound, check_image, keep_unbound

#: a tag's photo is uploaded before the tag it goes with
TAG_PHOTO = Unbound(EvalTagPhoto, "tag_id", "evaluation.photo.upload", "eval_tag_photo", "evaluation")


class TagPhotos:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.store = PhotoStore(settings.data_dir)

    async def upload(self, principal: Principal, content: bytes) -> tuple[EvalTagPhoto, bool]:
        """Store a photo for a tag about to be filed; the same image again is the same row."""
        mime = check_image(content, self.settings.photo_max_bytes)
        return await keep_unbound(self.session, self.trail, self.store, principal, TAG_PHOTO, content, mime)

    async def unbound(self, principal: Principal, photo_id: int) -> EvalTagPhoto:
        """The caller's photo not yet filed with a tag (else the filing is refused)."""
        row = await self.session.get(EvalTagPhoto, photo_id)
        if row is None or row.uploaded_by != principal.person_id or row.tag_id is not None:
            raise Invalid(
                f"photo {photo_id} is not a photo you uploaded for a new tag",
                code="invalid_photo",
                extra={"field": "photo_id"},
            )
        return row

    async def of_tags(self, tag_ids: list[int]) -> dict[int, int]:
        """{tag id: its photo's id}."""
        if not tag_ids:
            return {}
        rows = await self.session.execute(
            select(col(EvalTagPhoto.tag_id), col(EvalTagPhoto.id)).where(
                col(EvalTagPhoto.tag_id).in_(tag_ids)
            )
        )
        return {int(t): int(i or 0) for t, i in rows.all() if t is not None}

    async def content(self, principal: Principal, tag: EvalTag) -> tuple[EvalTagPhoto, bytes]:
        """The photo of a tag the caller may see (checked by the caller), read in the trail."""
        row = (
            await self.session.execute(select(EvalTagPhoto).where(col(EvalTagPhoto.tag_id) == tag.id))
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"tag {tag.id} has no photo", code="photo_not_found")
        try:
            content = self.store.get(row.sha256)
        except FileNotFoundError as exc:
            raise AppError("the photo's file is missing", code="photo_missing", status=410) from exc
        await self.trail.record(
            self.session,
            principal.actor,
            action="evaluation.photo.read",
            object_type="eval_tag_photo",
            object_id=pk(row),
            new={"tag_id": tag.id},
            power="evaluation",
        )
        await self.session.commit()
        return row, content
