"""The API keeps its OpenAPI contract: schemathesis generates requests for every operation, as a
manager and as an admin of the demo organisation, and checks that no answer is a server error and
that every answer (status and body) is one the document describes."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.python import asgi  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)

from backend.app import create_app  # noqa: E402
from tests.conftest import PG_URL, _pg_admin_url, _pg_exec, make_settings  # noqa: E402

MAX_EXAMPLES = int(os.environ.get("PROBITY_CONTRACT_EXAMPLES", "8"))
#: an ISO date-time as the API writes it; every one must carry Beijing's offset, not UTC's Z
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")


def _times(value: Any) -> Iterator[str]:
    if isinstance(value, str) and ISO_TIME.match(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _times(item)
    elif isinstance(value, list):
        for item in value:
            yield from _times(item)


@schemathesis.check
def local_times(ctx: Any, response: Any, case: Any) -> None:
    """Every timestamp in one form: local time with +08:00, as the rest of the API writes it."""
    kind = response.headers.get("content-type") or [""]
    if "json" not in (kind[0] if isinstance(kind, list) else kind):
        return
    odd = [t for t in _times(response.json()) if not t.endswith("+08:00")]
    if odd:
        raise AssertionError(f"timestamps not in local time with +08:00: {odd[:3]}")


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, local_times]


@pytest.fixture(scope="module")
def contract_app(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app and database for the whole run (operations may change what later ones see)."""
    root = tmp_path_factory.mktemp("contract")
    if PG_URL:
        name = f"probity_contract_{os.getpid()}"
        asyncio.run(_pg_exec(PG_URL, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
        url = _pg_admin_url(PG_URL, name)
    else:
        shutil.copyfile(template_db, root / "probity.db")
        url = f"sqlite+aiosqlite:///{root / 'probity.db'}"
    app = create_app(make_settings(root, url))
    yield app
    if PG_URL:
        asyncio.run(_pg_exec(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _token(app: Any, username: str) -> str:
    with asgi.get_client(app) as client:
        r = client.post("/api/auth/login", json={"username": username, "password": "demo"})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _calls_allowed(path: str) -> bool:
    """Signing out (or ending sessions) would end the run's own session."""
    return path != "/api/auth/logout" and not path.startswith("/api/auth/sessions")


def run_contract(app: Any, username: str) -> list[str]:
    """Every operation, positive and negative cases; what failed, one line per operation."""
    token = _token(app, username)
    headers = {"Authorization": f"Bearer {token}"}
    api = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures: list[str] = []
    for result in api.get_all_operations():
        operation = result.ok()
        if not _calls_allowed(operation.path):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FAST
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                continue  # nothing to make wrong (an operation without parameters)
            except (
                Exception,
                BaseExceptionGroup,
            ) as exc:  # a failed check, reported with the case that shows it
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {exc}"[:3000])
    return failures


FAST = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)


@pytest.mark.parametrize("username", ["manager", "admin"])
def test_contract(contract_app: Any, username: str) -> None:
    failures = run_contract(contract_app, username)
    assert not failures, f"{len(failures)} operations break the contract:\n\n" + "\n\n".join(failures)
