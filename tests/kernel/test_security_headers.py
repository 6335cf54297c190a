"""Security headers on every answer (the PWA, the API, errors, unknown paths), HSTS only over https
(directly or through a trusted proxy), the API docs without third-party scripts, NUL refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from litestar.testing import AsyncTestClient

from backend.kernel.web import security_headers

PATHS = ["/", "/index.html", "/js/app.js", "/api", "/api/warnings", "/healthz", "/schema", "/nothing"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_answer_has_the_security_headers(client, path):
    r = await client.get(path)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert "camera=()" in r.headers["permissions-policy"]
    assert "strict-transport-security" not in r.headers  # plain http here


async def test_hsts_only_over_https(app):
    async with AsyncTestClient(app=app, base_url="https://probity.test") as secure:
        r = await secure.get("/healthz")
        assert r.headers["strict-transport-security"].startswith("max-age=")


def _start(app, peer: str, proto: str | None) -> dict:
    message: dict = {"type": "http.response.start", "status": 200, "headers": []}
    headers = [(b"x-forwarded-proto", proto.encode())] if proto else []
    scope = {"type": "http", "scheme": "http", "client": (peer, 40000), "headers": headers, "app": app}
    return message, scope  # type: ignore[return-value]


async def test_x_forwarded_proto_is_believed_from_trusted_proxies_only(settings):
    trusting = SimpleNamespace(
        state=SimpleNamespace(settings=settings.model_copy(update={"trusted_proxies": "10.0.0.0/8, ::1"}))
    )
    plain = SimpleNamespace(state=SimpleNamespace(settings=settings))

    async def hsts(app, peer, proto):
        message, scope = _start(app, peer, proto)
        await security_headers(message, scope)
        return dict(message["headers"]).get(b"strict-transport-security")

    assert await hsts(trusting, "10.1.2.3", "https") is not None
    assert await hsts(trusting, "::1", "https, http") is not None
    assert await hsts(trusting, "10.1.2.3", "http") is None
    assert await hsts(trusting, "192.0.2.7", "https") is None  # not a trusted proxy
    assert await hsts(plain, "10.1.2.3", "https") is None  # no proxy trusted by default


def test_trusted_proxies_must_be_addresses(settings):
    with pytest.raises(ValueError):
        type(settings)(_env_file=None, trusted_proxies="10.0.0.0/8, proxy.example")  # type: ignore[call-arg]


async def test_api_docs_load_no_third_party_script(client):
    for path in ("/schema", "/schema/openapi.json"):
        r = await client.get(path)
        assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
        assert "<script" not in r.text and "<html" not in r.text
    for ui in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        assert (await client.get(ui)).status_code == 404


async def test_pwa_page_has_no_inline_script_or_style(client):
    html = (await client.get("/")).text
    assert "<script" in html and "<script>" not in html and "<style" not in html
    assert " onclick=" not in html and " style=" not in html


@pytest.mark.parametrize("path", ["/%00", "/api/people/%00", "/healthz?q=%00", "/js/app.js%00.map"])
async def test_nul_in_path_or_query_is_400_not_500(client, path):
    r = await client.get(path)
    assert r.status_code in {400, 404} and r.json()["code"] in {"invalid_request", "not_found"}


async def test_nul_in_a_json_string_is_400(client, sessions):
    headers = {**await sessions.headers("admin"), "Content-Type": "application/json"}
    r = await client.post("/api/posts", content=b'{"code": "X\\u0000", "name": "x"}', headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "invalid_request"
