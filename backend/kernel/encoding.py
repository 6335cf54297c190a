"""Response compression: the settings of the app's middleware (``backend.app.compression``) and
the same encoding for bodies kept ahead, compressed once rather than per request.

A kept body answered as ``Content-Encoding: br`` passes the middleware untouched (it leaves encoded
responses alone). The choice mirrors the middleware's: br when the client's Accept-Encoding names
it (and brotli is installed), else gzip when named, else none; bodies under ``MIN_SIZE`` as they are.
"""

from __future__ import annotations

import gzip
import importlib.util

#: brotli quality and gzip level: a few hundred microseconds for a 12 KB module, a tenth of that for
#: an inbox page of JSON
BROTLI_QUALITY = 5
GZIP_LEVEL = 6
#: bodies smaller than this are sent as they are
MIN_SIZE = 1024
HAS_BROTLI = importlib.util.find_spec("brotli") is not None


def preferred(accept_encoding: str) -> str | None:
    """The encoding the app's middleware would answer this Accept-Encoding with (None: as is)."""
    if HAS_BROTLI and "br" in accept_encoding:
        return "br"
    if "gzip" in accept_encoding:
        return "gzip"
    return None


def compress(body: bytes, encoding: str) -> bytes:
    """``body`` encoded as the middleware encodes it (brotli text mode, or gzip)."""
    if encoding == "br":
        import brotli

        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY, lgwin=22))
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    raise ValueError(f"unsupported encoding {encoding!r}")


def encoded(
    body: bytes, accept_encoding: str, kept: dict[str, bytes] | None = None
) -> tuple[bytes, dict[str, str]]:
    """``body`` for a client sending ``accept_encoding``, and the headers saying how it is encoded.

    ``kept`` holds encodings already made for this same body (filled as they are made)."""
    encoding = preferred(accept_encoding)
    if encoding is None or len(body) < MIN_SIZE:
        return body, {}
    packed = kept.get(encoding) if kept is not None else None
    if packed is None:
        packed = compress(body, encoding)
        if kept is not None:
            kept[encoding] = packed
    return packed, {"Content-Encoding": encoding, "Vary": "Accept-Encoding"}
