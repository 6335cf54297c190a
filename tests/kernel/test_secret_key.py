"""The secret key: never a public constant; without PROBITY_SECRET_KEY one is made once and kept
in the data directory (0600); production refuses to start without one; the app's files are private."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat

import jwt
import pytest

from backend.app import app_state, create_app
from backend.kernel.settings import PLACEHOLDER_SECRET, Settings
from tests.audit.test_checkpoints import run_cli
from tests.conftest import make_settings


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def bare_settings(tmp_path, **values):
    """Settings as an operator's environment gives them: no secret key unless one is passed."""
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


def test_without_a_key_one_is_made_once_and_kept_private(tmp_path):
    first = bare_settings(tmp_path)
    key = first.secret_key.get_secret_value()
    assert key != PLACEHOLDER_SECRET and len(key) >= 32
    path = tmp_path / "data" / "secret.key"
    assert path.read_text().strip() == key
    assert mode(path) == 0o600 and mode(tmp_path / "data") == 0o700
    second = bare_settings(tmp_path)
    assert second.secret_key.get_secret_value() == key  # the same key on the next start
    assert (first.key_origin, second.key_origin) == ("made", "file")
    # another directory, another key: nothing public or shared
    assert bare_settings(tmp_path / "other").secret_key.get_secret_value() != key


def test_development_warns_when_the_key_comes_from_the_file(tmp_path, caplog):
    settings = bare_settings(tmp_path)
    with caplog.at_level(logging.WARNING, logger="probity.settings"):
        settings.check_secrets()
    assert "PROBITY_SECRET_KEY is not set" in caplog.text
    assert settings.secret_key.get_secret_value() not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="probity.settings"):
        bare_settings(tmp_path, secret_key="x" * 40).check_secrets()
    assert caplog.text == ""


def test_production_refuses_to_start_without_a_key(tmp_path):
    settings = bare_settings(tmp_path, env="production")
    assert not (tmp_path / "data" / "secret.key").exists()  # none made in production
    with pytest.raises(ValueError, match="PROBITY_SECRET_KEY is not set"):
        settings.check_secrets()
    with pytest.raises(ValueError, match="PROBITY_SECRET_KEY"):
        create_app(settings)


def test_production_takes_the_key_file_an_operator_put_there(tmp_path):
    bare_settings(tmp_path)  # development made the file
    settings = bare_settings(tmp_path, env="production")
    settings.check_secrets()
    assert settings.secret_key.get_secret_value() == (tmp_path / "data" / "secret.key").read_text().strip()


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_once_public_constant_is_refused_everywhere(tmp_path, env):
    with pytest.raises(ValueError, match="PROBITY_SECRET_KEY"):
        bare_settings(tmp_path, env=env, secret_key=PLACEHOLDER_SECRET).check_secrets()


def test_the_cli_refuses_production_without_a_key(tmp_path):
    done = run_cli(
        "db",
        "upgrade",
        secret=None,
        cwd=tmp_path,
        PROBITY_ENV="production",
        PROBITY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/p.db",
        PROBITY_DATA_DIR=str(tmp_path / "data"),
    )
    assert done.returncode != 0
    assert "PROBITY_SECRET_KEY is not set" in done.stderr
    assert not (tmp_path / "p.db").exists()


def test_the_apps_files_are_not_world_readable(tmp_path):
    old = os.umask(0o022)  # as a login shell has it: the app must not rely on the caller's
    try:
        done = run_cli(
            "db",
            "upgrade",
            secret=None,
            cwd=tmp_path,
            PROBITY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/data/probity.db",
            PROBITY_DATA_DIR=str(tmp_path / "data"),
        )
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    data = tmp_path / "data"
    assert mode(data) == 0o700
    assert mode(data / "probity.db") == 0o600
    assert mode(data / "secret.key") == 0o600


def test_an_existing_data_directory_and_databases_lose_world_bits(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # noqa: S103 - the state being repaired
    (data / "business.duckdb").write_bytes(b"")
    os.chmod(data / "business.duckdb", 0o644)
    (data / "photos").mkdir()
    old = os.umask(0o022)
    try:
        settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/x.db")
        create_app(settings)
        assert mode(data) == 0o700 and mode(data / "business.duckdb") == 0o600
        (data / "photos" / "ab").mkdir()
        (data / "photos" / "ab" / "abcd").write_bytes(b"x")  # made after the start: private
        assert mode(data / "photos" / "ab") == 0o700 and mode(data / "photos" / "ab" / "abcd") == 0o600
    finally:
        os.umask(old)


async def test_a_token_signed_with_the_public_constant_is_refused(shared_app, settings, tmp_path):
    """The old default key was public: a token signed with it must not open anything."""
    own = Settings(
        _env_file=None,
        env="test",
        database_url=settings.database_url,
        data_dir=tmp_path / "own",
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        log_level="WARNING",
    )
    assert own.secret_key.get_secret_value() != PLACEHOLDER_SECRET
    shared_app.state.update(app_state(own))
    from litestar.testing import AsyncTestClient

    try:
        async with AsyncTestClient(app=shared_app) as client:
            login = await client.post("/api/auth/login", json={"username": "admin", "password": "demo"})
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            good = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert good.status_code == 200
            claims = jwt.decode(token, options={"verify_signature": False})
            public_key = hmac.new(PLACEHOLDER_SECRET.encode(), b"probity/access-token/v1", hashlib.sha256)
            forged = jwt.encode(claims, public_key.digest(), algorithm="HS256")
            bad = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
            assert bad.status_code == 401
    finally:
        await shared_app.state.db.dispose()
