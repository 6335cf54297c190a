"""Organisation rules: the unit tree, posts, people, and their import from CSV/XLSX."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail, changed
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.cache import ORG_GENERATION
from backend.kernel.db import is_inline, read_stored
from backend.kernel.errors import Conflict, Invalid, NotFound
from backend.kernel.schemas import pk
from backend.kernel.timeutil import local, utcnow
from backend.org.grants import RoleGrants, refuse_own_roles
from backend.org.models import (
    OverseerPublic,
    Person,
    PersonCreate,
    PersonPost,
    PersonPublic,
    PersonUpdate,
    Post,
    PostCreate,
    PostUpdate,
    Unit,
    UnitCreate,
    UnitUpdate,
)

#: a person's facts for a principal: person, unit, post and the unit's parent in one row
FACTS_LOOKUP: Any = (
    select(
        col(Person.id),
        col(Person.name),
        col(Person.unit_id),
        col(Person.roles),
        col(Person.active),
        col(Post.name).label("post_name"),
        col(Unit.specialty),
        col(Unit.parent_id),
    )
    .join(Unit, col(Unit.id) == col(Person.unit_id))
    .outerjoin(Post, col(Post.id) == col(Person.post_id))
    .where(col(Person.id) == bindparam("person_id"))
)
#: the roles that put someone over a person, in the order an overseer's reason is named
OVERSEEING = (Role.head, Role.inspector, Role.committee)
#: the unit tree (a few hundred rows at most): subtrees are worked out from the paths
#: the change watch's topic (PostgreSQL) for the organisation, and its tables (backend/kernel/watch.py)
ORG = "org"
WATCHED = {"person": ORG, "unit": ORG, "post": ORG}
UNIT_PATHS = select(col(Unit.id), col(Unit.path))


@dataclass(frozen=True)
class PersonFacts:
    """What the auth domain needs to build a principal."""

    person_id: int
    name: str
    unit_id: int
    roles: list[str]
    active: bool
    post_name: str | None
    specialty: str | None
    subtree_unit_ids: frozenset[int]
    specialty_unit_ids: frozenset[int]


def _unit_values(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "specialty": unit.specialty,
        "parent_id": unit.parent_id,
        "active": unit.active,
    }


def _post_values(post: Post) -> dict[str, Any]:
    return {"code": post.code, "name": post.name, "risk_value": post.risk_value, "specialty": post.specialty}


def _person_values(p: Person) -> dict[str, Any]:
    return {
        "employee_no": p.employee_no,
        "name": p.name,
        "unit_id": p.unit_id,
        "post_id": p.post_id,
        "started_in_post": p.started_in_post,
        "phone": p.phone,
        "birth_year": p.birth_year,
        "roles": list(p.roles),
        "active": p.active,
    }


def _apply(row: Any, values: dict[str, Any], *, required: set[str]) -> None:
    """Set ``values`` on ``row``; a field in ``required`` may not be set to empty."""
    for key, value in values.items():
        if value is None and key in required:
            raise Invalid(f"{key} cannot be empty", code="invalid", extra={"field": key})
        setattr(row, key, value)


class OrgService:
    def __init__(self, session: AsyncSession, trail: AuditTrail) -> None:
        self.session = session
        self.trail = trail
        self.grants = RoleGrants(session, trail)

    async def _written(
        self,
        actor: Actor,
        kind: str,
        object_id: int,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        *,
        commit: bool,
    ) -> None:
        """Record a create (``before`` None) or the changed fields of an update; commit if asked."""
        if before is None:
            await self.trail.record(
                self.session,
                actor,
                action=f"{kind}.create",
                object_type=kind,
                object_id=object_id,
                new=after,
                power="org.write",
            )
        else:
            old, new = changed(before, after)
            if new:
                await self.trail.record(
                    self.session,
                    actor,
                    action=f"{kind}.update",
                    object_type=kind,
                    object_id=object_id,
                    old=old,
                    new=new,
                    power="org.write",
                )
        if commit:
            await self.session.commit()
            ORG_GENERATION.bump()

    # --- units -------------------------------------------------------------------
    async def list_units(self) -> list[Unit]:
        return list(
            (await self.session.execute(select(Unit).order_by(col(Unit.path), col(Unit.id)))).scalars()
        )

    async def unit_by_code(self, code: str) -> Unit | None:
        return (await self.session.execute(select(Unit).where(col(Unit.code) == code))).scalar_one_or_none()

    async def subtree_ids(self, unit: Unit) -> frozenset[int]:
        prefix = f"{unit.path}{unit.id}/"
        rows = await self.session.execute(
            select(col(Unit.id)).where(or_(col(Unit.id) == unit.id, col(Unit.path).startswith(prefix)))
        )
        return frozenset(r for r in rows.scalars() if r is not None)

    async def _resolve_parent(self, parent_code: str | None) -> Unit | None:
        if parent_code is None:
            return None
        parent = await self.unit_by_code(parent_code)
        if parent is None:
            raise Invalid(
                f"parent unit {parent_code!r} does not exist",
                code="unknown_unit",
                extra={"field": "parent_code"},
            )
        return parent

    async def create_unit(self, data: UnitCreate, actor: Actor, *, commit: bool = True) -> Unit:
        if await self.unit_by_code(data.code) is not None:
            raise Conflict(f"unit code {data.code!r} is taken", code="duplicate_unit")
        parent = await self._resolve_parent(data.parent_code)
        unit = Unit(**data.model_dump(exclude={"parent_code"}))
        unit.parent_id = parent.id if parent else None
        unit.path = f"{parent.path}{parent.id}/" if parent else "/"
        self.session.add(unit)
        await self.session.flush()
        await self._written(actor, "unit", pk(unit), None, _unit_values(unit), commit=commit)
        return unit

    async def update_unit(self, unit_id: int, data: UnitUpdate, actor: Actor, *, commit: bool = True) -> Unit:
        unit = await self.session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"unit {unit_id} does not exist", code="unit_not_found")
        before = _unit_values(unit)
        changes = data.model_dump(exclude_unset=True, exclude={"parent_code"})
        _apply(unit, changes, required={"name", "kind", "active"})
        if "parent_code" in data.model_fields_set:
            await self._move(unit, await self._resolve_parent(data.parent_code))
        await self._written(actor, "unit", pk(unit), before, _unit_values(unit), commit=commit)
        return unit

    async def _move(self, unit: Unit, parent: Unit | None) -> None:
        assert unit.id is not None
        if parent is not None and (parent.id == unit.id or f"/{unit.id}/" in parent.path):
            raise Invalid(
                "a unit cannot be moved under itself or its own descendant",
                code="unit_cycle",
                extra={"field": "parent_code"},
            )
        old_prefix = f"{unit.path}{unit.id}/"
        unit.parent_id = parent.id if parent else None
        unit.path = f"{parent.path}{parent.id}/" if parent else "/"
        new_prefix = f"{unit.path}{unit.id}/"
        below = await self.session.execute(select(Unit).where(col(Unit.path).startswith(old_prefix)))
        for child in below.scalars():
            child.path = new_prefix + child.path[len(old_prefix) :]

    # --- posts -------------------------------------------------------------------
    async def list_posts(self) -> list[Post]:
        return list((await self.session.execute(select(Post).order_by(col(Post.code)))).scalars())

    async def post_by_code(self, code: str) -> Post | None:
        return (await self.session.execute(select(Post).where(col(Post.code) == code))).scalar_one_or_none()

    async def create_post(self, data: PostCreate, actor: Actor, *, commit: bool = True) -> Post:
        if await self.post_by_code(data.code) is not None:
            raise Conflict(f"post code {data.code!r} is taken", code="duplicate_post")
        post = Post(**data.model_dump())
        self.session.add(post)
        await self.session.flush()
        await self._written(actor, "post", pk(post), None, _post_values(post), commit=commit)
        return post

    async def update_post(self, post_id: int, data: PostUpdate, actor: Actor) -> Post:
        post = await self.session.get(Post, post_id)
        if post is None:
            raise NotFound(f"post {post_id} does not exist", code="post_not_found")
        before = _post_values(post)
        _apply(post, data.model_dump(exclude_unset=True), required={"name", "risk_value"})
        await self._written(actor, "post", pk(post), before, _post_values(post), commit=True)
        return post

    # --- people ------------------------------------------------------------------
    async def person_public(self, person: Person) -> PersonPublic:
        unit = await self.session.get(Unit, person.unit_id)
        post = await self.session.get(Post, person.post_id) if person.post_id else None
        assert unit is not None
        return PersonPublic(
            id=pk(person),
            employee_no=person.employee_no,
            name=person.name,
            started_in_post=person.started_in_post,
            phone=person.phone,
            birth_year=person.birth_year,
            unit_id=pk(unit),
            unit_code=unit.code,
            unit_name=unit.name,
            post_id=person.post_id,
            post_code=post.code if post else None,
            post_name=post.name if post else None,
            post_risk_value=post.risk_value if post else None,
            roles=list(person.roles),
            active=person.active,
        )

    async def person_public_asked(self, person: Person) -> PersonPublic:
        """A person just created or edited, with the roles asked for them awaiting approval."""
        public = await self.person_public(person)
        public.pending_roles = await self.grants.pending_roles(pk(person))
        return public

    async def list_people(
        self,
        principal: Principal,
        *,
        unit_id: int | None = None,
        q: str | None = None,
        role: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[PersonPublic], int]:
        stmt = select(Person).where(
            principal.directory_filter(person_col=col(Person.id), unit_col=col(Person.unit_id))
        )
        if unit_id is not None:
            unit = await self.session.get(Unit, unit_id)
            if unit is None:
                return [], 0
            stmt = stmt.where(col(Person.unit_id).in_(sorted(await self.subtree_ids(unit))))
        if q:
            like = f"%{q}%"
            stmt = stmt.where(or_(col(Person.name).like(like), col(Person.employee_no).like(like)))
        if role:
            stmt = stmt.where(holding(role))
        total = (await self.session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
        rows = (
            await self.session.execute(stmt.order_by(col(Person.employee_no)).limit(limit).offset(offset))
        ).scalars()
        return [await self.person_public(p) for p in rows], int(total)

    async def get_person(self, principal: Principal, person_id: int) -> Person:
        person = await self.session.get(Person, person_id)
        if person is None or not principal.can_see_person(person_id=person_id, unit_id=person.unit_id):
            raise NotFound(
                f"person {person_id} does not exist or is not in your scope", code="person_not_found"
            )
        return person

    async def person_by_no(self, employee_no: str) -> Person | None:
        return (
            await self.session.execute(select(Person).where(col(Person.employee_no) == employee_no))
        ).scalar_one_or_none()

    async def create_person(
        self, data: PersonCreate, actor: Actor, *, commit: bool = True, source: str = "created"
    ) -> Person:
        if await self.person_by_no(data.employee_no) is not None:
            raise Conflict(f"employee number {data.employee_no!r} is taken", code="duplicate_employee_no")
        unit = await self._unit_for(data.unit_code)
        post = await self._post_for(data.post_code)
        person = Person(
            **data.model_dump(exclude={"unit_code", "post_code"}),
            unit_id=pk(unit),
            post_id=post.id if post else None,
        )
        kept, asked = self.grants.split(data.roles, [], actor)
        person.roles = kept
        self.session.add(person)
        await self.session.flush()
        await self.record_post(person, None, source=source)
        await self._written(actor, "person", pk(person), None, _person_values(person), commit=False)
        await self.grants.ask(pk(person), asked, actor)
        if commit:
            await self.session.commit()
            ORG_GENERATION.bump()
        return person

    async def update_person(
        self, person_id: int, data: PersonUpdate, actor: Actor, *, commit: bool = True, source: str = "edited"
    ) -> Person:
        person = await self.session.get(Person, person_id)
        if person is None:
            raise NotFound(f"person {person_id} does not exist", code="person_not_found")
        before = _person_values(person)
        values = data.model_dump(exclude_unset=True)
        if "unit_code" in values:
            person.unit_id = pk(await self._unit_for(values.pop("unit_code")))
        if "post_code" in values:
            post = await self._post_for(values.pop("post_code"))
            person.post_id = post.id if post else None
        asked: list[str] = []
        if values.get("roles") is not None:
            refuse_own_roles(actor, pk(person), before["roles"], values["roles"])
            values["roles"], asked = self.grants.split(values["roles"], before["roles"], actor)
        _apply(person, values, required={"name", "roles", "active"})
        await self.record_post(person, before, source=source)
        await self._written(actor, "person", pk(person), before, _person_values(person), commit=False)
        await self.grants.ask(pk(person), asked, actor)
        if commit:
            await self.session.commit()
            ORG_GENERATION.bump()
        return person

    async def record_post(self, person: Person, before: dict[str, Any] | None, *, source: str) -> None:
        """Post history: a new post or unit closes the open row and opens the next, from the day
        the person started in it when that was given with the change, else from today."""
        if before is not None and (before["post_id"], before["unit_id"]) == (person.post_id, person.unit_id):
            return
        today = local(utcnow()).date()
        started = person.started_in_post
        # created: in the post since they started in it; changed: since the start given with the
        # change (not in the future), else since today
        given = before is not None and started is not None and started != before["started_in_post"]
        since: date | None = started if before is None or (given and started <= today) else today  # type: ignore[operator]
        held = (
            await self.session.execute(
                select(PersonPost).where(
                    col(PersonPost.person_id) == person.id, col(PersonPost.until).is_(None)
                )
            )
        ).scalars()
        for row in held:
            row.until = since or today
            self.session.add(row)
        self.session.add(
            PersonPost(
                person_id=pk(person),
                post_id=person.post_id,
                unit_id=person.unit_id,
                since=since,
                source=source,
            )
        )

    async def _unit_for(self, code: str | None) -> Unit:
        unit = await self.unit_by_code(code or "")
        if unit is None:
            raise Invalid(f"unit {code!r} does not exist", code="unknown_unit", extra={"field": "unit_code"})
        return unit

    async def _post_for(self, code: str | None) -> Post | None:
        if not code:
            return None
        post = await self.post_by_code(code)
        if post is None:
            raise Invalid(f"post {code!r} does not exist", code="unknown_post", extra={"field": "post_code"})
        return post

    # --- for routing (who heads a unit, who inspects it) ---------------------------
    async def unit_chain(self, unit_id: int) -> list[int]:
        """The unit and its ancestors, nearest first (empty if the unit does not exist)."""
        path = (await self.session.execute(_UNIT_PATH, {"unit_id": unit_id})).scalar()
        return [] if path is None else _chain(unit_id, path)

    async def unit_chains(self, unit_ids: Sequence[int]) -> dict[int, list[int]]:
        """Each unit and its ancestors, nearest first (a query per 500 units; unknown ones left out)."""
        out: dict[int, list[int]] = {}
        ids = sorted(set(unit_ids))
        for start in range(0, len(ids), 500):
            stmt = select(col(Unit.id), col(Unit.path)).where(col(Unit.id).in_(ids[start : start + 500]))
            for unit_id, path in (await self.session.execute(stmt)).all():
                if unit_id is not None:
                    out[unit_id] = _chain(unit_id, path)
        return out

    async def unit_chains_of(self, person_ids: Sequence[int]) -> dict[int, list[int]]:
        """Each person's unit and its ancestors, nearest first (one query; unknown people left out)."""
        out: dict[int, list[int]] = {}
        ids = sorted(set(person_ids))
        for start in range(0, len(ids), 500):
            stmt = (
                select(col(Person.id), col(Unit.id), col(Unit.path))
                .join(Unit, col(Unit.id) == col(Person.unit_id))
                .where(col(Person.id).in_(ids[start : start + 500]))
            )
            for person_id, unit_id, path in (await self.session.execute(stmt)).all():
                if person_id is not None and unit_id is not None:
                    out[person_id] = _chain(unit_id, path)
        return out

    async def phones_of(self, person_ids: Sequence[int]) -> dict[int, str]:
        """The mobile numbers the people import gave active people of ``person_ids`` (who have one)."""
        out: dict[int, str] = {}
        ids = sorted(set(person_ids))
        for start in range(0, len(ids), 500):
            stmt = select(col(Person.id), col(Person.phone)).where(
                col(Person.id).in_(ids[start : start + 500]),
                col(Person.active).is_(True),
                col(Person.phone).is_not(None),
            )
            for person_id, phone in (await self.session.execute(stmt)).all():
                if person_id is not None and phone:
                    out[person_id] = str(phone)
        return out

    async def holders(self, role: str, unit_ids: list[int]) -> dict[int, list[int]]:
        """Active people holding ``role`` in each of ``unit_ids``: {unit_id: [person_id, …]}."""
        out: dict[int, list[int]] = {}
        for person_id, unit_id in (await self.session.execute(_holders(role), {"units": unit_ids})).all():
            if person_id is not None:
                out.setdefault(int(unit_id), []).append(person_id)
        return out

    async def overseers(self, principal: Principal, person_id: int) -> list[OverseerPublic]:
        """Active people who may act over a person in the principal's scope (404 otherwise): heads
        of the person's unit and the units above it, inspectors whose subtree holds it, committee
        members; nearest first, the person left out."""
        person = await self.get_person(principal, person_id)
        chain = await self.unit_chain(person.unit_id)
        depth = {unit_id: n for n, unit_id in enumerate(chain)}
        stmt: Any = (
            select(
                col(Person.id),
                col(Person.name),
                col(Person.unit_id),
                col(Person.roles),
                col(Post.name).label("post_name"),
                col(Unit.name).label("unit_name"),
            )
            .join(Unit, col(Unit.id) == col(Person.unit_id))
            .outerjoin(Post, col(Post.id) == col(Person.post_id))
            .where(
                col(Person.active).is_(True),
                col(Person.id) != person_id,
                or_(
                    col(Person.unit_id).in_(chain) & or_(holding(Role.head), holding(Role.inspector)),
                    holding(Role.committee),
                ),
            )
        )
        found: list[tuple[tuple[int, int, str, int], OverseerPublic]] = []
        for row in (await self.session.execute(stmt)).all():
            near = depth.get(row.unit_id)
            # the first reason that holds: a head in the chain, an inspector over it, the committee
            reasons = [
                r for r in OVERSEEING if r.value in row.roles and (near is not None or r is Role.committee)
            ]
            if not reasons:  # a role's name inside another value: not a holder after all
                continue
            overseer = OverseerPublic(
                id=row.id, name=row.name, post_name=row.post_name, unit_name=row.unit_name, role=reasons[0]
            )
            found.append(((OVERSEEING.index(reasons[0]), near or 0, row.name, row.id), overseer))
        return [o for _, o in sorted(found, key=lambda f: f[0])]

    # --- for the auth domain -------------------------------------------------------
    async def person_facts(self, person_id: int) -> PersonFacts | None:
        """A person's facts in two small reads, on this service's session where it is not SQLite."""
        assert isinstance(self.session.bind, AsyncEngine)
        return await person_facts(self.session.bind, person_id, self.session)


async def _small_read(
    bind: AsyncEngine, session: AsyncSession | None, stmt: Any, params: dict[str, Any] | None = None
) -> list[Sequence[Any]]:
    """Rows of a small read of a statement built once: on a SQLite file inline on the loop's thread,
    values as stored (committed rows, ``read_stored``: JSON as text, booleans as 0/1); elsewhere on
    ``session``'s own connection where there is one, so a request that holds a connection never
    takes a second from the pool (no autoflush), else pooled."""
    if session is None or is_inline(bind):
        return await read_stored(bind, stmt, params)
    conn = await session.connection()
    return list((await conn.execute(stmt, params or {})).all())


async def person_facts(
    bind: AsyncEngine, person_id: int, session: AsyncSession | None = None
) -> PersonFacts | None:
    """A person's facts in two small reads: what a principal is built from on a cache miss (the
    auth middleware of every request, with no session: inline on SQLite), and what services
    read of a person (with their ``session``: on PostgreSQL its connection, see ``_small_read``)."""
    found = await _small_read(bind, session, FACTS_LOOKUP, {"person_id": person_id})
    if not found:
        return None
    pid, name, unit_id, roles, active, post_name, specialty, parent_id = found[0]
    paths: dict[int, str] = dict(await _small_read(bind, session, UNIT_PATHS))  # type: ignore[arg-type]

    def subtree(unit_id: int) -> frozenset[int]:
        prefix = f"{paths.get(unit_id, '/')}{unit_id}/"
        return frozenset(u for u, path in paths.items() if u == unit_id or path.startswith(prefix))

    return PersonFacts(
        person_id=pid,
        name=name,
        unit_id=unit_id,
        roles=list(json.loads(roles) if isinstance(roles, str) else roles),  # SQLite: JSON text
        active=bool(active),  # SQLite: 0/1
        post_name=post_name,
        specialty=specialty,
        subtree_unit_ids=subtree(unit_id),
        specialty_unit_ids=subtree(parent_id) if parent_id else frozenset({unit_id}),
    )


_UNIT_PATH = select(col(Unit.path)).where(col(Unit.id) == bindparam("unit_id"))


@lru_cache(maxsize=8)
def _holders(role: str) -> Any:
    """Active people holding ``role`` in the units of the expanding parameter ``units``."""
    return (
        select(col(Person.id), col(Person.unit_id))
        .where(
            col(Person.unit_id).in_(bindparam("units", expanding=True)),
            col(Person.active).is_(True),
            holding(role),
        )
        .order_by(col(Person.id))
    )


def holding(role: str) -> ColumnElement[bool]:
    """People whose roles hold ``role`` (the JSON list's text has it, quoted: SQLite and
    PostgreSQL alike; a caller that needs certainty checks the list it reads)."""
    return cast(col(Person.roles), String).like(f'%"{role}"%')


def _chain(unit_id: int, path: str) -> list[int]:
    """A unit and its ancestors, nearest first, from its materialised path."""
    return [unit_id, *reversed([int(p) for p in path.strip("/").split("/") if p])]
