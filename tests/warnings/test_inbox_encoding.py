"""The employee inbox answers a phone's Accept-Encoding like every other response (br, else gzip),
and a kept page is compressed once per encoding, not on every answer."""

from __future__ import annotations

import gzip
import json
from typing import Any

import brotli

from backend.warnings.inbox_json import page_cache
from tests.warnings.test_inbox_kept import behind_the_app, sqlite_file

PHONE = "gzip, deflate, br, zstd"  # what Chromium on a phone sends


async def raw(client: Any, headers: dict[str, str], accept: str) -> Any:
    # httpx would decode the body: read the bytes as they came
    async with client.stream("GET", "/api/warnings", headers={**headers, "Accept-Encoding": accept}) as r:
        assert r.status_code == 200
        r.body = b"".join([chunk async for chunk in r.aiter_raw()])
        return r


async def test_pages_are_compressed_as_the_client_asks(client, sessions, seed):
    for level in ("high", "medium", "low", "low"):
        await seed.warning("E0005", level=level)
    h = await sessions.headers("manager")
    plain = await raw(client, h, "identity")
    assert "content-encoding" not in plain.headers and len(plain.body) >= 1024
    br = await raw(client, h, PHONE)
    assert br.headers["content-encoding"] == "br" and "Accept-Encoding" in br.headers["vary"]
    assert brotli.decompress(br.body) == plain.body and len(br.body) < len(plain.body)
    assert int(br.headers["content-length"]) == len(br.body)
    gz = await raw(client, h, "gzip")
    assert gz.headers["content-encoding"] == "gzip"
    assert gzip.decompress(gz.body) == plain.body


async def test_a_small_page_is_sent_as_it_is(client, sessions):
    h = await sessions.headers("manager")
    empty = await raw(client, h, PHONE)
    assert "content-encoding" not in empty.headers
    assert json.loads(empty.body)["items"] == []


async def test_a_kept_page_is_compressed_once_and_made_again_after_a_change(
    client, sessions, seed, settings, app, monkeypatch
):
    sqlite_file(settings)
    for level in ("high", "medium", "low", "low"):
        await seed.warning("E0005", level=level)
    h = await sessions.headers("manager")
    calls: list[int] = []
    real = brotli.compress
    monkeypatch.setattr(brotli, "compress", lambda body, **kw: calls.append(len(body)) or real(body, **kw))
    first = await raw(client, h, PHONE)
    second = await raw(client, h, PHONE)
    assert first.body == second.body and len(calls) == 1
    cache = page_cache(app.state.db.engine, settings.inbox_cache_pages)
    assert cache is not None
    (kept,) = cache._pages.values()
    assert kept.packed["br"] == first.body
    # another process changes one of the person's warnings: a new page, compressed anew
    page = brotli.decompress(first.body)
    behind_the_app(settings, "UPDATE warning SET hit_count = hit_count + 41")
    after = await raw(client, h, PHONE)
    assert len(calls) == 2
    fresh = brotli.decompress(after.body)
    assert fresh != page and b'"hit_count":42' in fresh
