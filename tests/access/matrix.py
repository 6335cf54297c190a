"""The access matrix: what each demo role gets from every /api route, in scope and out of scope.

Each feature declares its cases in ``tests/<feature>/access_cases.py`` as ``CASES: list[Case]``;
``test_matrix.py`` finds them, runs every case for every demo role, and fails when a route of
the app has no case at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("admin", "committee", "inspector", "head", "manager", "manager2")


@dataclass(frozen=True)
class Ids:
    """Ids of the demo organisation, looked up per test database."""

    person: dict[str, int]
    account: dict[str, int]
    unit: dict[str, int]
    post: dict[str, int]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route template as the app lists it, e.g. "/api/people/{person_id:int}"
    path: Callable[[Ids], str]
    expect: dict[str, int]  # demo username -> status; roles left out get ``default``
    default: int = 403
    body: Callable[[Ids], Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    note: str = ""

    def status_for(self, role: str) -> int:
        return self.expect.get(role, self.default)

    @property
    def name(self) -> str:
        return f"{self.method} {self.route}" + (f" [{self.note}]" if self.note else "")


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)
