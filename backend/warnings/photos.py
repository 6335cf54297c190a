"""Photo files of verifications: type sniffed from the bytes, size capped, stored by SHA-256.

Files live under ``<data_dir>/photos/<first two hex>/<sha256>``; the database row (per warning)
holds type, size and uploader. Nothing is served from disk without the warning's scope check.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from backend.kernel.errors import AppError, Invalid

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
