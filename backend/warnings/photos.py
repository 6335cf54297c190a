"""Photo files of verifications: type sniffed from the bytes, size capped, stored by SHA-256.

Files live under ``<data_dir>/photos/<first two hex>/<sha256>``; the database row (per warning)
holds type, size and uploader. Nothing is served from disk without the warning's scope check.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.kernel.access import Principal
from backend.kernel.errors import AppError, Invalid

if TYPE_CHECKING:
    from backend.audit.service import AuditTrail

#: magic numbers of the image types phones produce
_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
]
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}


def sniff_image(content: bytes) -> str | None:
    """The image MIME type of ``content`` judged by its first bytes, or ``None``."""
    for magic, offset, mime in _SIGNATURES:
        if content[offset : offset + len(magic)] == magic:
            return mime
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def check_image(content: bytes, max_bytes: int) -> str:
    if not content:
        raise Invalid("the photo is empty", code="photo_empty", extra={"field": "file"})
    if len(content) > max_bytes:
        raise AppError(
            f"the photo is {len(content)} bytes; at most {max_bytes} are taken (shrink it on the phone)",
            code="photo_too_large",
            status=413,
            extra={"field": "file", "max_bytes": max_bytes},
        )
    mime = sniff_image(content)
    if mime is None:
        raise AppError(
            "the file is not a JPEG, PNG, WebP, HEIC or GIF image",
            code="not_an_image",
            status=415,
            extra={"field": "file"},
        )
    return mime


class PhotoStore:
    """Files by SHA-256 under ``<data_dir>/<folder>`` (the warnings' photos by default)."""

    def __init__(self, data_dir: Path, folder: str = "photos") -> None:
        self.root = Path(data_dir) / folder

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store ``content`` (once per hash) and return its SHA-256."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(content)
            tmp.replace(target)
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


@dataclass(frozen=True)
class Unbound:
    """An image uploaded before the record it goes with (a tag's photo, an interview's signature):
    its row type (``sha256``, ``content_type``, ``size``, ``uploaded_by`` and the ``bound`` column,
    empty until the record is filed) and the trail's names for the upload."""

    model: Any
    bound: str
    action: str
    object_type: str
    power: str


async def keep_unbound(
    session: AsyncSession,
    trail: AuditTrail,
    store: PhotoStore,
    principal: Principal,
    kind: Unbound,
    content: bytes,
    mime: str,
) -> tuple[Any, bool]:
    """Store an image (checked by the caller) not yet bound to its record, once per uploader and
    hash: the same image again is the same row (``False``). In the trail; commits."""
    digest = hashlib.sha256(content).hexdigest()
    model = kind.model
    found = (
        await session.execute(
            select(model).where(
                col(model.uploaded_by) == principal.person_id,
                col(model.sha256) == digest,
                col(getattr(model, kind.bound)).is_(None),
            )
        )
    ).scalar_one_or_none()
    if found is not None:
        return found, False
    store.put(content)
    row = model(sha256=digest, content_type=mime, size=len(content), uploaded_by=principal.person_id)
    session.add(row)
    await session.flush()
    await trail.record(
        session,
        principal.actor,
        action=kind.action,
        object_type=kind.object_type,
        object_id=row.id,
        new={"sha256": digest, "size": len(content)},
        power=kind.power,
    )
    await session.commit()
    return row, True
