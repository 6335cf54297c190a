"""A case file's ZIP: the PDF, the original photos as they were stored, and a manifest of SHA-256
hashes in the ``sha256sum`` format (``sha256sum -c`` checks it)."""

from __future__ import annotations

import hashlib
import io
import zipfile

from backend.archive.casefile import CaseFile
from backend.archive.words import Words

MANIFEST = "SHA256SUMS.txt"


def case_zip(file: CaseFile, pdf: bytes, words: Words) -> bytes:
    photos = words("archive.zip.photos")
    entries: list[tuple[str, bytes]] = [(f"{file.file_name}.pdf", pdf)]
    entries += [(f"{photos}/{a.name}", a.content) for a in file.attachments]
    lines = [f"{hashlib.sha256(content).hexdigest()}  {name}" for name, content in entries]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
        archive.writestr(MANIFEST, "\n".join(lines) + "\n")
    return buffer.getvalue()
