"""The "1+3" evaluation: categories and library versions, data filing (tags from the phone and
the bot, stored once per client id) and comments (seed 004). Subjects and their evaluators:
``backend/evaluation/subjects.py``.

Who sees a filed tag: the person (unless it is confidential), heads over the person's unit (not
confidential ones), inspectors over it and the committee (all). Who files: a holder of one of
the tag's filer roles over the person's unit (heads and inspectors: their subtree; committee:
anywhere), never about themselves. Rounds and scores: ``backend/evaluation/rounds.py``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from backend.evaluation.base import may_file
from backend.evaluation.indicators import check_indicators
from backend.evaluation.models import Dimension, EvalCategory, EvalComment, EvalLibrary, EvalSubject, EvalTag
from backend.evaluation.schemas import (
    CategoryCreate,
    CategoryPublic,
    CommentCreate,
    CommentPublic,
    Direction,
    LibraryContent,
    LibraryPublic,
    TagDef,
    TagFile,
    TagPublic,
)
from backend.evaluation.subjects import SubjectService
from backend.events.service import emit
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from backend.kernel.schemas import pk
from backend.kernel.timeutil import local, utcnow

#: who defines categories and libraries and opens rounds
MANAGERS = (Role.admin, Role.expert, Role.inspector, Role.committee)


def body_hash(data: TagFile) -> str:
    # a tag without a photo hashes as it did before photos were taken
    body = data.model_dump(
        mode="json", exclude={"client_id"} | ({"photo_id"} if data.photo_id is None else set())
    )
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def tag_filter(principal: Principal) -> ColumnElement[bool]:
    """The filed tags the caller sees (see the module's docstring)."""
    open_ = col(EvalTag.confidential).is_(False)
    mine = col(EvalTag.person_id) == principal.person_id
    clauses: list[ColumnElement[bool]] = [and_(mine, open_)]
    others = col(EvalTag.person_id) != principal.person_id
    if principal.has(Role.committee):
        clauses.append(others)
    if principal.has(Role.inspector):
        clauses.append(and_(others, col(EvalTag.unit_id).in_(sorted(principal.subtree_unit_ids))))
    if principal.has(Role.head):
        clauses.append(and_(others, open_, col(EvalTag.unit_id).in_(sorted(principal.subtree_unit_ids))))
    return or_(*clauses)


def score_filter(principal: Principal, person_col: Any, unit_col: Any) -> ColumnElement[bool]:
    """Scores: one's own; heads and inspectors over the unit; the committee."""
    if principal.has(Role.committee):
        return true()
    clauses: list[ColumnElement[bool]] = [person_col == principal.person_id]
    if principal.has(Role.head, Role.inspector):
        clauses.append(unit_col.in_(sorted(principal.subtree_unit_ids)))
    return or_(*clauses) if clauses else false()


class EvaluationService(SubjectService):
    # --- categories and libraries --------------------------------------------------
    async def library_for(self, principal: Principal, category_id: int, version: int | None) -> LibraryPublic:
        """A library version as the caller reads it: the indicators' SQL only for those who manage
        libraries (the people evaluated read the indicators' names, units and coefficients)."""
        await self.category(category_id)
        public = library_public(await self.library(category_id, version))
        if not principal.has(*MANAGERS):
            indicators = [
                {k: v for k, v in i.items() if k != "sql"} for i in public.content.get("indicators", [])
            ]
            public.content = {**public.content, "indicators": indicators}
        return public

    async def create_category(self, principal: Principal, data: CategoryCreate) -> CategoryPublic:
        if await self._code_taken(data.code):
            raise Conflict(f"category code {data.code!r} is taken", code="duplicate_category")
        new = {
            "code": data.code,
            "name": data.name,
            "description": data.description,
            "created_by": principal.person_id,
            "created_at": utcnow(),
        }
        stmt = self._insert(EvalCategory).values(**new).on_conflict_do_nothing(index_elements=["code"])
        category_id = (await self.session.execute(stmt.returning(col(EvalCategory.id)))).scalar_one_or_none()
        if category_id is None:  # the same code raced in: the first stands
            await self.session.rollback()
            raise Conflict(f"category code {data.code!r} is taken", code="duplicate_category")
        await self._record(
            principal,
            "evaluation.category.create",
            "eval_category",
            category_id,
            code=data.code,
            name=data.name,
        )
        await self._new_version(principal, category_id, data.library)
        await self.session.commit()
        return await self.category_public(await self.category(category_id))

    async def _code_taken(self, code: str) -> bool:
        stmt = select(col(EvalCategory.id)).where(col(EvalCategory.code) == code)
        return (await self.session.execute(stmt)).first() is not None

    async def edit_library(
        self, principal: Principal, category_id: int, data: LibraryContent
    ) -> LibraryPublic:
        await self.category(category_id)
        row = await self._new_version(principal, category_id, data)
        await self.session.commit()
        return library_public(row)

    async def _new_version(self, principal: Principal, category_id: int, data: LibraryContent) -> EvalLibrary:
        """The category's next version. Two edits at once make two versions, one after the other:
        the one that finds its number taken (``uq_eval_library_version``) takes the next."""
        if data.indicators:
            await check_indicators(self.session, self.trail, self.settings, data.indicators)
        content = data.model_dump(mode="json", exclude={"note"})
        while True:  # each turn follows a version another edit has committed
            new = {
                "category_id": category_id,
                "version": await self._last_version(category_id) + 1,
                "content": content,
                "note": data.note,
                "created_by": principal.person_id,
                "created_at": utcnow(),
            }
            stmt = (
                self._insert(EvalLibrary)
                .values(**new)
                .on_conflict_do_nothing(index_elements=["category_id", "version"])
            )
            library_id = (
                await self.session.execute(stmt.returning(col(EvalLibrary.id)))
            ).scalar_one_or_none()
            if library_id is not None:
                break
        await self._record(
            principal,
            "evaluation.library.version",
            "eval_library",
            library_id,
            category_id=category_id,
            version=new["version"],
            content=content,
        )
        return await self.library_by_id(library_id)

    async def _last_version(self, category_id: int) -> int:
        stmt = select(func.max(col(EvalLibrary.version))).where(col(EvalLibrary.category_id) == category_id)
        return int((await self.session.execute(stmt)).scalar_one_or_none() or 0)

    async def category_public(self, row: EvalCategory) -> CategoryPublic:
        subjects = (
            await self.session.execute(
                select(func.count()).where(
                    col(EvalSubject.category_id) == row.id, col(EvalSubject.active).is_(True)
                )
            )
        ).scalar_one()
        return CategoryPublic(
            id=pk(row),
            code=row.code,
            name=row.name,
            description=row.description,
            library=library_public(await self.library(pk(row))),
            subjects=int(subjects),
        )

    async def categories(self) -> list[CategoryPublic]:
        rows = (await self.session.execute(select(EvalCategory).order_by(col(EvalCategory.id)))).scalars()
        return [await self.category_public(r) for r in list(rows)]

    # --- data filing ------------------------------------------------------------------
    async def _replay(self, principal: Principal, data: TagFile, digest: str) -> EvalTag | None:
        first = (
            await self.session.execute(select(EvalTag).where(col(EvalTag.client_id) == data.client_id))
        ).scalar_one_or_none()
        if first is None:
            return None
        if first.body_hash != digest or first.filed_by != principal.person_id:
            raise Conflict(
                "this client_id was already used for another tag; make a new id for a new tag",
                code="client_id_reused",
                extra={"field": "client_id"},
            )
        return first

    async def file_tag(self, principal: Principal, data: TagFile) -> tuple[EvalTag, bool]:
        """File a tag; the same ``client_id`` and body again returns the first (``False``)."""
        digest = body_hash(data)
        replay = await self._replay(principal, data, digest)
        if replay is not None:
            return replay, False
        await self.category(data.category_id)
        person = await self.org.get_person(principal, data.person_id)
        subject = (
            await self.session.execute(
                select(EvalSubject).where(
                    col(EvalSubject.category_id) == data.category_id,
                    col(EvalSubject.person_id) == data.person_id,
                    col(EvalSubject.active).is_(True),
                )
            )
        ).scalar_one_or_none()
        if subject is None:
            raise Invalid(
                "the person is not evaluated in this category",
                code="not_a_subject",
                extra={"field": "person_id"},
            )
        library = await self.library(data.category_id)
        tag = next((t for t in self.content(library).tags if t.code == data.tag_code), None)
        if tag is None:
            raise Invalid(
                f"no tag {data.tag_code!r} in the category's library",
                code="unknown_tag",
                extra={"field": "tag_code"},
            )
        if person.id == principal.person_id:
            raise Forbidden("nobody files tags about themselves", code="own_tag")
        if not may_file(principal, tag, pk(person), person.unit_id):
            raise Forbidden("you may not file this tag about this person", code="not_filer")
        if tag.evidence_required and not data.note.strip():
            raise Invalid(
                "this tag needs its evidence described", code="evidence_required", extra={"field": "note"}
            )
        photo = None if data.photo_id is None else await self.photos.unbound(principal, data.photo_id)
        occurred = data.occurred_on or local(utcnow()).date()
        if occurred > local(utcnow()).date():
            raise Invalid(
                "the day is in the future", code="occurred_in_future", extra={"field": "occurred_on"}
            )
        row = EvalTag(
            client_id=data.client_id,
            body_hash=digest,
            category_id=data.category_id,
            library_id=pk(library),
            tag_code=tag.code,
            dimension=tag.dimension.value,
            person_id=pk(person),
            unit_id=person.unit_id,
            occurred_on=occurred,
            note=data.note,
            confidential=tag.confidential,
            filed_by=principal.person_id,
            channel=principal.channel.value,
        )
        try:
            self.session.add(row)
            await self.session.flush()
        except IntegrityError:  # the same tag raced in twice: the first stands
            await self.session.rollback()
            replay = await self._replay(principal, data, digest)
            if replay is None:
                raise
            return replay, False
        if photo is not None:
            photo.tag_id = row.id
            self.session.add(photo)
        await self._record(
            principal,
            "evaluation.tag.file",
            "eval_tag",
            row.id,
            person_id=row.person_id,
            category_id=row.category_id,
            tag_code=row.tag_code,
            occurred_on=occurred,
            confidential=row.confidential,
            photo=None if photo is None else {"id": photo.id, "sha256": photo.sha256},
        )
        if not row.confidential:
            await emit(
                self.session,
                "evaluation.tag",
                subject_type="eval_tag",
                subject_id=pk(row),
                recipients=[(row.person_id, "subject")],
                data={"tag_id": row.id},
            )
        await self.session.commit()
        return row, True

    async def tag(self, principal: Principal, tag_id: int) -> EvalTag:
        row = (
            await self.session.execute(
                select(EvalTag).where(col(EvalTag.id) == tag_id, tag_filter(principal))
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"tag {tag_id} does not exist or is not in your scope", code="tag_not_found")
        return row

    async def tags(
        self, principal: Principal, *, person_id: int | None, category_id: int | None, limit: int = 100
    ) -> list[EvalTag]:
        stmt = select(EvalTag).where(tag_filter(principal))
        if person_id is not None:
            stmt = stmt.where(col(EvalTag.person_id) == person_id)
        if category_id is not None:
            stmt = stmt.where(col(EvalTag.category_id) == category_id)
        stmt = stmt.order_by(col(EvalTag.occurred_on).desc(), col(EvalTag.id).desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def comment(self, principal: Principal, tag_id: int, data: CommentCreate) -> TagPublic:
        row = await self.tag(principal, tag_id)
        self.session.add(EvalComment(tag_id=tag_id, person_id=principal.person_id, text=data.text))
        await self._record(principal, "evaluation.tag.comment", "eval_tag", tag_id, length=len(data.text))
        told = [(p, "filer") for p in {row.filed_by, row.person_id} - {principal.person_id}]
        if row.confidential:
            told = [(p, r) for p, r in told if p != row.person_id]
        if told:
            await emit(
                self.session,
                "evaluation.comment",
                subject_type="eval_tag",
                subject_id=tag_id,
                recipients=told,
                data={"tag_id": tag_id},
            )
        await self.session.commit()
        return (await self.tags_public([row]))[0]

    async def tags_public(self, rows: list[EvalTag]) -> list[TagPublic]:
        if not rows:
            return []
        comments = list(
            (
                await self.session.execute(
                    select(EvalComment)
                    .where(col(EvalComment.tag_id).in_([r.id for r in rows]))
                    .order_by(col(EvalComment.id))
                )
            ).scalars()
        )
        names = await self.names(
            {r.person_id for r in rows} | {r.filed_by for r in rows} | {c.person_id for c in comments}
        )
        categories = {c.id: c.name for c in (await self.session.execute(select(EvalCategory))).scalars()}
        photos = await self.photos.of_tags([pk(r) for r in rows])
        defs: dict[int, dict[str, TagDef]] = {}
        out = []
        for r in rows:
            if r.library_id not in defs:
                lib = await self.library_by_id(r.library_id)
                defs[r.library_id] = {t.code: t for t in self.content(lib).tags}
            d = defs[r.library_id].get(r.tag_code)
            out.append(
                TagPublic(
                    id=pk(r),
                    client_id=r.client_id,
                    category_id=r.category_id,
                    category_name=categories.get(r.category_id, ""),
                    person_id=r.person_id,
                    person_name=names.get(r.person_id, ""),
                    tag_code=r.tag_code,
                    tag_name=d.name if d else r.tag_code,
                    dimension=Dimension(r.dimension),
                    direction=d.direction if d else Direction.plus,
                    coefficient=d.coefficient if d else 0,
                    occurred_on=r.occurred_on,
                    note=r.note,
                    confidential=r.confidential,
                    filed_by=r.filed_by,
                    filed_by_name=names.get(r.filed_by, ""),
                    channel=r.channel,
                    filed_at=r.filed_at,
                    comments=[
                        CommentPublic(
                            id=pk(c),
                            person_id=c.person_id,
                            person_name=names.get(c.person_id, ""),
                            text=c.text,
                            at=c.at,
                        )
                        for c in comments
                        if c.tag_id == r.id
                    ],
                    photo_id=photos.get(pk(r)),
                )
            )
        return out


def library_public(row: EvalLibrary) -> LibraryPublic:
    return LibraryPublic(
        id=pk(row),
        category_id=row.category_id,
        version=row.version,
        content=row.content,
        note=row.note,
        created_at=row.created_at,
    )
