from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.data.store import BusinessStore


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Each test has its own data directory: close its DuckDB instance afterwards."""
    yield
    BusinessStore.close_all()
