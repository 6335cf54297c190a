"""The only way the check-up domain reads the organisation: through :class:`OrgService`."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.kernel.access import Principal, Role
from backend.kernel.errors import NotFound
from backend.org.models import PersonPublic, Post, Unit
from backend.org.service import OrgService, PersonFacts

#: reads the directory on the domain's own behalf (participants, post risk values, names);
#: who may see what of the check-up is decided by the check-up service, not by this reader
_DIRECTORY_READER = Principal(
    account_id=0,
    session_id="checkups",
    person_id=0,
    unit_id=0,
    roles=frozenset({Role.admin}),
    subtree_unit_ids=frozenset(),
    username="checkups",
)
_ALL = 1_000_000


class OrgPort:
    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        self.org = OrgService(session, trail)
        self._units: dict[int, Unit] | None = None
        self._posts: dict[str, Post] | None = None

    async def units(self) -> dict[int, Unit]:
        if self._units is None:
            self._units = {u.id: u for u in await self.org.list_units() if u.id is not None}
        return self._units

    async def posts(self) -> dict[str, Post]:
        if self._posts is None:
            self._posts = {p.code: p for p in await self.org.list_posts()}
        return self._posts

    async def unit_by_code(self, code: str) -> Unit | None:
        return await self.org.unit_by_code(code)

    async def subtree(self, unit_id: int) -> frozenset[int]:
        unit = (await self.units()).get(unit_id)
        return await self.org.subtree_ids(unit) if unit is not None else frozenset()

    async def people_under(self, roots: Iterable[int]) -> dict[int, PersonPublic]:
        """Every person in the subtrees of ``roots`` (active or not), by id."""
        found: dict[int, PersonPublic] = {}
        for root in sorted(set(roots)):
            people, _ = await self.org.list_people(_DIRECTORY_READER, unit_id=root, limit=_ALL)
            found.update({p.id: p for p in people})
        return found

    async def person(self, person_id: int) -> PersonPublic | None:
        try:
            return await self.org.person_public(await self.org.get_person(_DIRECTORY_READER, person_id))
        except NotFound:
            return None

    async def facts(self, person_id: int) -> PersonFacts | None:
        return await self.org.person_facts(person_id)
