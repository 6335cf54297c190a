"""Units, posts and people: read within scope; admins edit and import."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.kernel.access import Principal, Role, requires
from backend.kernel.errors import Invalid
from backend.kernel.web import DataForm, sent_file
from backend.org.importer import ImportReport, OrgImporter
from backend.org.models import (
    GrantStatus,
    OverseerPublic,
    PersonCreate,
    PersonPage,
    PersonPublic,
    PersonUpdate,
    PostCreate,
    PostPublic,
    PostUpdate,
    RoleGrantPublic,
    UnitCreate,
    UnitPublic,
    UnitUpdate,
)
from backend.org.service import OrgService

ADMIN = [requires(Role.admin)]


async def provide_org(db_session: NamedDependency[AsyncSession], state: State) -> OrgService:
    return OrgService(db_session, state.trail)


class OrgController(Controller):
    path = "/api"
    tags = ["organisation"]
    dependencies = {"org": Provide(provide_org)}
    guards = [requires()]

    # --- units -------------------------------------------------------------------
    @get("/units", summary="The unit tree (every signed-in person may read it)")
    async def list_units(self, org: NamedDependency[OrgService]) -> list[UnitPublic]:
        return [UnitPublic.model_validate(u, from_attributes=True) for u in await org.list_units()]

    @post("/units", guards=ADMIN, summary="Add a unit (admin)")
    async def create_unit(
        self,
        data: JSONBody[UnitCreate],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> UnitPublic:
        return UnitPublic.model_validate(
            await org.create_unit(data, request.user.actor), from_attributes=True
        )

    @patch("/units/{unit_id:int}", guards=ADMIN, summary="Edit or move a unit (admin)")
    async def update_unit(
        self,
        unit_id: FromPath[int],
        data: JSONBody[UnitUpdate],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> UnitPublic:
        unit = await org.update_unit(unit_id, data, request.user.actor)
        return UnitPublic.model_validate(unit, from_attributes=True)

    # --- posts -------------------------------------------------------------------
    @get("/posts", summary="Posts with their post risk value")
    async def list_posts(self, org: NamedDependency[OrgService]) -> list[PostPublic]:
        return [PostPublic.model_validate(p, from_attributes=True) for p in await org.list_posts()]

    @post("/posts", guards=ADMIN, summary="Add a post (admin)")
    async def create_post(
        self,
        data: JSONBody[PostCreate],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> PostPublic:
        return PostPublic.model_validate(
            await org.create_post(data, request.user.actor), from_attributes=True
        )

    @patch("/posts/{post_id:int}", guards=ADMIN, summary="Edit a post, e.g. its risk value (admin)")
    async def update_post(
        self,
        post_id: FromPath[int],
        data: JSONBody[PostUpdate],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> PostPublic:
        post_ = await org.update_post(post_id, data, request.user.actor)
        return PostPublic.model_validate(post_, from_attributes=True)

    # --- people ------------------------------------------------------------------
    @get(
        "/people", summary="People in my scope (self; head: unit; inspector: subtree; committee, admin: all)"
    )
    async def list_people(
        self,
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
        unit_id: FromQuery[int | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=60)] = None,
        role: FromQuery[Role | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> PersonPage:
        items, total = await org.list_people(
            request.user, unit_id=unit_id, q=q, role=role.value if role else None, limit=limit, offset=offset
        )
        return PersonPage(items=items, total=total, limit=limit, offset=offset)

    @get("/people/{person_id:int}", summary="One person, if in my scope (else 404)")
    async def get_person(
        self,
        person_id: FromPath[int],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> PersonPublic:
        return await org.person_public(await org.get_person(request.user, person_id))

    @get(
        "/people/{person_id:int}/overseers",
        summary="Who may act over a person in my scope (else 404): heads of the unit and those above, "
        "inspectors and committee members over it",
    )
    async def list_overseers(
        self,
        person_id: FromPath[int],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> list[OverseerPublic]:
        return await org.overseers(request.user, person_id)

    @post("/people", guards=ADMIN, summary="Add a person (admin)")
    async def create_person(
        self,
        data: JSONBody[PersonCreate],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> PersonPublic:
        return await org.person_public_asked(await org.create_person(data, request.user.actor))

    @patch(
        "/people/{person_id:int}", guards=ADMIN, summary="Edit a person: unit, post, roles, active (admin)"
    )
    async def update_person(
        self,
        person_id: FromPath[int],
        data: JSONBody[PersonUpdate],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
    ) -> PersonPublic:
        return await org.person_public_asked(await org.update_person(person_id, data, request.user.actor))

    # --- import ------------------------------------------------------------------
    @post(
        "/org/import/{kind:str}",
        guards=ADMIN,
        status_code=200,
        summary="Import units or people from CSV/XLSX: all rows or none (admin)",
    )
    async def import_file(
        self,
        kind: FromPath[str],
        org: NamedDependency[OrgService],
        request: Request[Principal, Any, Any],
        data: MultipartBody[DataForm],
        state: State,
        dry_run: FromQuery[bool] = False,
    ) -> ImportReport:
        importer = OrgImporter(org, state.settings)
        if kind not in ("units", "people"):
            raise Invalid(f"unknown import kind {kind!r}; use units or people", code="unknown_import_kind")
        upload = sent_file(data.data, "data")
        content = await upload.read()
        if kind == "units":
            return await importer.import_units(upload.filename, content, request.user.actor, dry_run=dry_run)
        if kind == "people":
            return await importer.import_people(upload.filename, content, request.user.actor, dry_run=dry_run)
        raise Invalid(f"unknown import kind {kind!r}; use units or people", code="unknown_import_kind")


class RoleGrantController(Controller):
    """Committee and inspector roles asked for by one administrator, approved by another."""

    path = "/api/role-grants"
    tags = ["org"]
    guards = ADMIN
    dependencies = {"org": Provide(provide_org)}

    @get("/", summary="Role grants waiting for approval (all of them with decided=true) (admin)")
    async def list_grants(
        self, org: NamedDependency[OrgService], decided: FromQuery[bool] = False
    ) -> list[RoleGrantPublic]:
        return await org.grants.listing(None if decided else GrantStatus.pending)

    @post(
        "/{grant_id:int}/approve",
        status_code=200,
        summary="Approve a role grant: the role is in force (admin; not who asked, not who receives it)",
    )
    async def approve(
        self, grant_id: FromPath[int], org: NamedDependency[OrgService], request: Request[Principal, Any, Any]
    ) -> RoleGrantPublic:
        return await org.grants.decide(grant_id, request.user, approve=True)

    @post("/{grant_id:int}/reject", status_code=200, summary="Turn a role grant down (admin)")
    async def reject(
        self, grant_id: FromPath[int], org: NamedDependency[OrgService], request: Request[Principal, Any, Any]
    ) -> RoleGrantPublic:
        return await org.grants.decide(grant_id, request.user, approve=False)
