"""Uploads written to the staging directory as they arrive, never held whole in memory or copied twice.

Two ways in, one path on disk:

* ``PUT …/upload``: the raw file is the request body;
* ``POST …/import`` (``multipart/form-data``): the one file part ``data`` is cut out of the body
  by an incremental parser (the ``multipart`` package Litestar itself uses) chunk by chunk.

Both feed :func:`receive`, which enforces ``upload_max_bytes`` and reports the bytes received on
the import record every :data:`PROGRESS_EVERY` bytes, so another request (``GET
/api/data/imports/{id}``) can follow a long upload. Browsers show their own progress from
``XMLHttpRequest.upload`` events either way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from multipart import MultipartError, MultipartSegment, PushMultipartParser

from backend.kernel.errors import AppError, Invalid

PROGRESS_EVERY = 64 * 1024 * 1024
FILE_FIELD = "data"


class TooLarge(AppError):
    status = 413
    code = "body_too_large"


@dataclass
class Part:
    """What the multipart headers said about the file part (known once they have arrived)."""

    filename: str | None = None


def boundary_of(content_type: tuple[str, dict[str, str]]) -> str:
    """The multipart boundary of a ``multipart/form-data`` request (checked before anything is read)."""
    kind, options = content_type
    if kind != "multipart/form-data" or not options.get("boundary"):
        raise Invalid(
            "send the file as multipart/form-data (field 'data'), or as the raw body of PUT …/upload",
            code="multipart_required",
        )
    return options["boundary"]


async def multipart_file(stream: AsyncIterator[bytes], boundary: str, part: Part) -> AsyncIterator[bytes]:
    """The body of the form's file part ``data``, chunk by chunk as it arrives; other parts are refused."""
    try:
        with PushMultipartParser(boundary, max_segment_count=8) as parser:
            async for chunk in stream:
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        if event.name != FILE_FIELD or not event.filename:
                            raise Invalid(
                                f"unexpected form field {event.name!r}: "
                                f"send one file in field {FILE_FIELD!r}",
                                code="unexpected_field",
                            )
                        part.filename = event.filename
                    elif event:
                        yield event
                if parser.closed:
                    break
    except MultipartError as exc:
        raise Invalid(f"the multipart body is malformed: {exc}", code="malformed_upload") from exc
    if part.filename is None:
        raise Invalid(f"no file was sent in field {FILE_FIELD!r}", code="no_file")


async def receive(
    chunks: AsyncIterator[bytes], target: Path, limit: int, progress: Callable[[int], Awaitable[None]]
) -> int:
    """Write ``chunks`` to ``target``; past ``limit`` bytes stop with 413. Returns the size."""
    size = reported = 0
    with target.open("wb") as fh:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the upload is larger than {limit} bytes (PROBITY_UPLOAD_MAX_BYTES)")
            fh.write(chunk)
            if size - reported >= PROGRESS_EVERY:
                await progress(size)
                reported = size
    return size
