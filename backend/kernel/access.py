"""Who may do what, written once.

The auth domain authenticates each request and builds a :class:`Principal` (``request.user``).
Route handlers declare the roles they need with :func:`requires` (a Litestar guard); services
narrow every query with the principal's scopes (:meth:`Principal.case_filter`,
:meth:`Principal.directory_filter`). Scopes follow the unit tree:

* employee — own records only;
* head — records of people in their own unit (and below), plus topics of their unit's
  specialty within their parent unit's subtree;
* inspector — everything within their unit's subtree;
* committee — everything;
* admin / topic expert — configuration (organisation, accounts, topics, data) but no case
  content unless they hold another role.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import ColumnElement, false, or_, true

from backend.kernel.errors import Forbidden, Unauthorized


class Role(StrEnum):
    employee = "employee"
    head = "head"
    inspector = "inspector"
    committee = "committee"
    admin = "admin"
    expert = "expert"


class Channel(StrEnum):
    pwa = "pwa"
    bot = "bot"
    api = "api"
    cli = "cli"
    system = "system"
    #: a press on a company-messenger card, or a sign-in through the messenger's SSO
    wecom = "wecom"
    dingtalk = "dingtalk"


@dataclass(frozen=True)
class Actor:
    """Who did an act, for the trail: a person (or the system), through a channel."""

    person_id: int | None
    account_id: int | None
    unit_id: int | None
    post_name: str | None
    channel: Channel
    request_id: str | None = None
    label: str | None = None

    @classmethod
    def system(cls, channel: Channel = Channel.system, label: str = "system") -> Actor:
        return cls(None, None, None, None, channel, None, label)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    account_id: int
    session_id: str
    person_id: int
    unit_id: int
    roles: frozenset[Role]
    #: the caller's own unit and every unit below it
    subtree_unit_ids: frozenset[int]
    #: the head's parent unit subtree, where topics of their specialty are visible
    specialty_unit_ids: frozenset[int] = frozenset()
    specialty: str | None = None
    post_name: str | None = None
    username: str = ""
    channel: Channel = Channel.api
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def actor(self) -> Actor:
        return Actor(
            self.person_id,
            self.account_id,
            self.unit_id,
            self.post_name,
            self.channel,
            self.request_id,
            self.username,
        )

    # --- scopes -------------------------------------------------------------------
    def sees_all_cases(self) -> bool:
        return self.has(Role.committee)

    def case_unit_ids(self) -> frozenset[int] | None:
        """Units whose people's cases this caller sees; ``None`` means every unit."""
        if self.sees_all_cases():
            return None
        units: set[int] = set()
        if self.has(Role.inspector, Role.head):
            units |= self.subtree_unit_ids
        return frozenset(units)

    def case_filter(
        self, *, person_col: Any, unit_col: Any, specialty_col: Any | None = None
    ) -> ColumnElement[bool]:
        """WHERE clause for case content (warnings, interviews, verifications …).

        ``person_col`` is the responsible person, ``unit_col`` that person's unit at the time,
        ``specialty_col`` the topic's specialty where the record has one.
        """
        if self.sees_all_cases():
            return true()
        clauses: list[ColumnElement[bool]] = []
        if self.has(Role.employee, Role.head, Role.inspector):
            clauses.append(person_col == self.person_id)
        units = self.case_unit_ids() or frozenset()
        if units:
            clauses.append(unit_col.in_(sorted(units)))
        if self.has(Role.head) and specialty_col is not None and self.specialty and self.specialty_unit_ids:
            clauses.append((specialty_col == self.specialty) & unit_col.in_(sorted(self.specialty_unit_ids)))
        return or_(*clauses) if clauses else false()

    def can_see_case(self, *, person_id: int, unit_id: int, specialty: str | None = None) -> bool:
        if self.sees_all_cases():
            return True
        if person_id == self.person_id:
            return True
        units = self.case_unit_ids() or frozenset()
        if unit_id in units:
            return True
        return bool(
            self.has(Role.head)
            and specialty
            and specialty == self.specialty
            and unit_id in self.specialty_unit_ids
        )

    def directory_unit_ids(self) -> frozenset[int] | None:
        """Units whose people (organisation records) this caller sees; ``None`` = all."""
        if self.has(Role.committee, Role.admin):
            return None
        if self.has(Role.inspector, Role.head):
            return self.subtree_unit_ids
        return frozenset()

    def directory_filter(self, *, person_col: Any, unit_col: Any) -> ColumnElement[bool]:
        units = self.directory_unit_ids()
        if units is None:
            return true()
        return or_(person_col == self.person_id, unit_col.in_(sorted(units)))

    def can_see_person(self, *, person_id: int, unit_id: int) -> bool:
        units = self.directory_unit_ids()
        return units is None or person_id == self.person_id or unit_id in units


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthorized("Sign in first.", code="not_authenticated")
    return user


def requires(*roles: Role) -> Any:
    """A guard: the caller holds at least one of ``roles`` (any signed-in caller if none)."""
    wanted = frozenset(roles)

    # a coroutine: Litestar runs a plain function guard in a worker thread (a hop there and back on
    # every request); this check needs no thread
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        principal = current_principal(connection)
        if wanted and not principal.roles.intersection(wanted):
            names = ", ".join(sorted(r.value for r in wanted))
            raise Forbidden(f"This needs one of the roles: {names}.", code="role_required")

    guard.__name__ = "requires_" + "_or_".join(sorted(r.value for r in wanted)) if wanted else "signed_in"
    return guard


def roles_from(values: Iterable[str]) -> frozenset[Role]:
    return frozenset(Role(v) for v in values if v in Role.__members__)
