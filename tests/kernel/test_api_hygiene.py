from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.kernel.settings import Settings
from tests.conftest import make_settings


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_openapi_lists_the_api(client):
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/api/auth/login" in spec["paths"] and "/api/people" in spec["paths"]
    assert "bearer" in spec["components"]["securitySchemes"]


async def test_pwa_is_served_at_root(client):
    response = await client.get("/")
    assert response.status_code == 200 and "Probity" in response.text


async def test_malformed_json_and_unknown_fields_are_400_with_a_code(client, sessions):
    headers = {**await sessions.headers("admin"), "Content-Type": "application/json"}
    broken = await client.post("/api/posts", content=b'{"code": "X", ', headers=headers)
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_request"
    unknown = await client.post(
        "/api/posts", json={"code": "X", "name": "x", "colour": "red"}, headers=headers
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "colour"
    wrong_type = await client.post(
        "/api/posts", json={"code": "X", "name": "x", "risk_value": "high"}, headers=headers
    )
    assert wrong_type.status_code == 400 and wrong_type.json()["errors"][0]["field"] == "risk_value"
    not_object = await client.post("/api/posts", json=[1, 2], headers=headers)
    assert not_object.status_code == 400


async def test_unknown_api_route_is_json_404(client, sessions):
    response = await client.get("/api/nothing-here", headers=await sessions.headers("admin"))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_oversized_body_is_413(settings):
    small: Settings = settings.model_copy(update={"max_body_bytes": 2048})
    app = create_app(small)
    async with AsyncTestClient(app=app) as client:
        response = await client.post("/api/auth/login", json={"username": "x" * 5000, "password": "y"})
        assert response.status_code == 413
        assert response.json()["code"] == "body_too_large"


async def test_login_field_limits(client):
    response = await client.post("/api/auth/login", json={"username": "", "password": "demo"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "username"
    response = await client.post("/api/auth/login", json={"username": "manager"})
    assert response.status_code == 400


def test_production_refuses_the_placeholder_secret(tmp_path):
    settings = make_settings(
        tmp_path, "sqlite+aiosqlite:///x.db", env="production", secret_key="change-me-in-production"
    )
    with pytest.raises(ValueError, match="PROBITY_SECRET_KEY"):
        create_app(settings)


def test_unknown_database_driver_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PROBITY_DATABASE_URL"):
        make_settings(tmp_path, "mysql://root@localhost/test")


async def test_errors_carry_the_request_id(client):
    response = await client.get("/api/auth/me", headers={"X-Request-ID": "trace-7"})
    assert response.status_code == 401
    assert response.json()["request_id"] == "trace-7" and response.headers["x-request-id"] == "trace-7"
    odd = await client.get("/api/auth/me", headers={"X-Request-ID": "bad id with spaces"})
    assert odd.json()["request_id"] != "bad id with spaces"
