"""The PWA's files and API JSON go compressed when the client accepts it (brotli, else gzip);
images and PDFs pass as they are; a client that accepts nothing gets plain bytes."""

from __future__ import annotations

import gzip

import brotli
import pytest

from tests.pwa.shell import PWA

TEXT_FILES = ["/", "/js/app.js", "/js/core.js", "/css/app.css", "/js/locales/zh-CN.js"]


@pytest.mark.parametrize("path", TEXT_FILES)
async def test_static_text_is_gzip_encoded_when_the_client_accepts_gzip(client, path):
    r = await client.get(path, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers.get("vary", "").lower()
    # httpx decoded it: the bytes are the file's
    name = "index.html" if path == "/" else path.lstrip("/")
    assert r.content == (PWA / name).read_bytes()


async def test_brotli_wins_when_offered_and_plain_bytes_when_nothing_is(client):
    original = (PWA / "js" / "app.js").read_bytes()
    r = await client.get("/js/app.js", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert r.headers["content-encoding"] == "br"
    assert r.content == original
    plain = await client.get("/js/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == original


async def test_what_goes_over_the_wire_is_smaller(client):
    """Read the raw stream: the compressed body decodes to the file and is a fraction of it."""
    original = (PWA / "js" / "core.js").read_bytes()
    for encoding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        async with client.stream("GET", "/js/core.js", headers={"Accept-Encoding": encoding}) as r:
            raw = b"".join([chunk async for chunk in r.aiter_raw()])
        assert r.headers["content-encoding"] == encoding
        assert decode(raw) == original
        assert len(raw) < len(original) / 2, (encoding, len(raw), len(original))


async def test_images_pass_uncompressed_and_api_json_is_compressed(client, sessions):
    png = await client.get("/icons/icon-512.png", headers={"Accept-Encoding": "gzip, br"})
    assert png.status_code == 200 and "content-encoding" not in png.headers
    headers = {**(await sessions.headers("committee")), "Accept-Encoding": "gzip"}
    units = await client.get("/api/units", headers=headers)
    assert units.status_code == 200 and len(units.content) > 1024
    assert units.headers["content-encoding"] == "gzip"
    tiny = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in tiny.headers  # under 1 KB: not worth it
