"""What every part of the evaluation service shares: the session, the trail, and the lookups of
categories, library versions and names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.evaluation.models import EvalCategory, EvalLibrary
from backend.evaluation.photos import TagPhotos
from backend.evaluation.schemas import LibraryContent, TagDef
from backend.kernel.access import Principal, Role
from backend.kernel.errors import NotFound
from backend.kernel.settings import Settings
from backend.org.models import Person
from backend.org.service import OrgService


def filer_roles(principal: Principal, unit_id: int) -> set[Role]:
    """The filer roles the caller holds over a person of ``unit_id``."""
    out = set()
    if principal.has(Role.committee):
        out.add(Role.committee)
    for role in (Role.head, Role.inspector):
        if principal.has(role) and unit_id in principal.subtree_unit_ids:
            out.add(role)
    return out


def may_file(principal: Principal, tag: TagDef, person_id: int, unit_id: int) -> bool:
    return person_id != principal.person_id and bool(filer_roles(principal, unit_id) & set(tag.filers))


class EvaluationBase:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.org = OrgService(session, trail)
        self.photos = TagPhotos(session, trail, settings)

    def _insert(self, model: Any) -> Any:
        """``INSERT`` into ``model``'s table in the session's dialect, for an ``ON CONFLICT`` clause:
        a row read as missing may be there by the time it is written (another request's)."""
        dialect = self.session.get_bind().dialect.name
        return (postgresql if dialect == "postgresql" else sqlite).insert(model)

    async def _record(self, principal: Principal, action: str, kind: str, object_id: Any, **new: Any) -> None:
        await self.trail.record(
            self.session,
            principal.actor,
            action=action,
            object_type=kind,
            object_id=object_id,
            new=new,
            power="evaluation",
        )

    async def category(self, category_id: int) -> EvalCategory:
        row = await self.session.get(EvalCategory, category_id)
        if row is None:
            raise NotFound(f"category {category_id} does not exist", code="category_not_found")
        return row

    async def library(self, category_id: int, version: int | None = None) -> EvalLibrary:
        stmt = select(EvalLibrary).where(col(EvalLibrary.category_id) == category_id)
        if version is not None:
            stmt = stmt.where(col(EvalLibrary.version) == version)
        row = (await self.session.execute(stmt.order_by(col(EvalLibrary.version).desc()).limit(1))).scalar()
        if row is None:
            raise NotFound(
                f"no library version {version} of category {category_id}", code="library_not_found"
            )
        return row

    async def library_by_id(self, library_id: int) -> EvalLibrary:
        row = await self.session.get(EvalLibrary, library_id)
        assert row is not None
        return row

    @staticmethod
    def content(library: EvalLibrary) -> LibraryContent:
        return LibraryContent.model_validate(library.content)

    async def names(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        stmt = select(col(Person.id), col(Person.name)).where(col(Person.id).in_(sorted(ids)))
        return {int(i or 0): str(n) for i, n in (await self.session.execute(stmt)).all()}
