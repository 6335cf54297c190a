"""Reading the trail of acts: committee everything, inspectors their unit subtree."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from backend.audit.models import AuditPublic
from backend.audit.service import AuditTrail
from backend.kernel.access import Principal, Role, requires


class AuditPage(SQLModel):
    items: list[AuditPublic]
    total: int
    limit: int
    offset: int


def provide_trail(state: State) -> AuditTrail:
    trail: AuditTrail = state.trail
    return trail


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]
    guards = [requires(Role.committee, Role.inspector)]

    @get("/", summary="The trail of acts, newest first (committee: all; inspector: acts by their subtree)")
    async def list_records(
        self,
        db_session: NamedDependency[AsyncSession],
        trail: NamedDependency[AuditTrail],
        request: Request[Principal, Any, Any],
        object_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
        object_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> AuditPage:
        rows, total = await trail.list(
            db_session, request.user, object_type=object_type, object_id=object_id, limit=limit, offset=offset
        )
        return AuditPage(
            items=[AuditPublic.model_validate(r, from_attributes=True) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )
