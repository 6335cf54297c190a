"""People evaluated in a category (user management): one by one with their evaluators, or everyone
holding a post at once with the heads and inspectors over each.

A category holds a person once (``uq_eval_subject_person``). Whether the person is there is read
before the row is written, and another add of the same person (one by one, or by post) may commit
in between; so the row is written by a statement the database settles (``INSERT … ON CONFLICT``):

* one by one: a row found missing is inserted unless one came meanwhile, and the evaluators are
  then set on whichever row is there — what an add made after the other would do (200, the
  subject with these evaluators, its trail record);
* by post: a person is taken only with a new or inactive row; one made active meanwhile keeps its
  evaluators, and is neither counted in the answer nor recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from backend.evaluation.base import EvaluationBase, filer_roles, may_file
from backend.evaluation.models import EvalSubject
from backend.evaluation.schemas import LibraryContent, SubjectCreate, SubjectPublic, SubjectsByPost
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from backend.kernel.schemas import pk
from backend.kernel.timeutil import utcnow
from backend.org.models import Person, Post, Unit

#: the columns of ``uq_eval_subject_person``
ONE_PER_PERSON = ["category_id", "person_id"]


class SubjectService(EvaluationBase):
    async def _subject_row(self, category_id: int, person_id: int) -> EvalSubject | None:
        return (
            await self.session.execute(
                select(EvalSubject)
                .where(col(EvalSubject.category_id) == category_id, col(EvalSubject.person_id) == person_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def _evaluated(self, category_id: int) -> set[int]:
        """The people evaluated in the category now (active)."""
        return set(
            (
                await self.session.execute(
                    select(col(EvalSubject.person_id)).where(
                        col(EvalSubject.category_id) == category_id, col(EvalSubject.active).is_(True)
                    )
                )
            ).scalars()
        )

    @staticmethod
    def _new_row(principal: Principal, category_id: int, person_id: int, unit_id: int) -> dict[str, Any]:
        return {
            "category_id": category_id,
            "person_id": person_id,
            "unit_id": unit_id,
            "evaluator_ids": [],
            "active": True,
            "added_by": principal.person_id,
            "added_at": utcnow(),
        }

    async def add_subject(self, principal: Principal, category_id: int, data: SubjectCreate) -> SubjectPublic:
        await self.category(category_id)
        person = await self.org.get_person(principal, data.person_id)
        if not (principal.has(Role.committee, Role.admin) or filer_roles(principal, person.unit_id)):
            raise Forbidden("the person is not in your scope", code="not_in_scope")
        for evaluator_id in data.evaluator_ids:
            evaluator = await self.session.get(Person, evaluator_id)
            if evaluator is None or evaluator_id == data.person_id:
                raise Invalid(
                    f"evaluator {evaluator_id} is not a valid evaluator",
                    code="invalid_evaluator",
                    extra={"field": "evaluator_ids"},
                )
        row = await self._subject_row(category_id, data.person_id)
        if row is None:
            # unless another add of the person got here first: then it is that row's evaluators we set
            new = self._new_row(principal, category_id, pk(person), person.unit_id)
            await self.session.execute(
                self._insert(EvalSubject).values(**new).on_conflict_do_nothing(index_elements=ONE_PER_PERSON)
            )
            row = await self._subject_row(category_id, data.person_id)
            assert row is not None
        row.evaluator_ids = sorted(set(data.evaluator_ids))
        row.unit_id = person.unit_id
        row.active = True
        await self.session.flush()
        await self._record(
            principal,
            "evaluation.subject.set",
            "eval_subject",
            row.id,
            category_id=category_id,
            person_id=row.person_id,
            evaluator_ids=row.evaluator_ids,
        )
        await self.session.commit()
        return (await self.subjects_public(principal, [row]))[0]

    async def add_post(
        self, principal: Principal, category_id: int, data: SubjectsByPost
    ) -> list[SubjectPublic]:
        """Evaluate everyone holding a post whom the caller may add (their scope), each with the
        heads and inspectors over them as evaluators, in one transaction. People already evaluated
        in the category keep theirs, also those added while this runs. Returns those this added
        (none: 409 ``no_one_to_add``)."""
        await self.category(category_id)
        if await self.session.get(Post, data.post_id) is None:
            raise NotFound(
                f"post {data.post_id} does not exist", code="post_not_found", extra={"field": "post_id"}
            )
        held = (
            await self.session.execute(
                select(col(Person.id), col(Person.unit_id))
                .where(col(Person.post_id) == data.post_id, col(Person.active).is_(True))
                .order_by(col(Person.id))
            )
        ).all()
        evaluated = await self._evaluated(category_id)
        everyone = principal.has(Role.committee, Role.admin)
        wanted: list[tuple[int, int, list[int]]] = []  # read first: on SQLite writing holds the file
        for person_id, unit_id in ((int(r[0] or 0), int(r[1])) for r in held):
            if person_id in evaluated or not (everyone or filer_roles(principal, unit_id)):
                continue
            over = await self.org.overseers(principal, person_id)
            wanted.append(
                (person_id, unit_id, sorted({o.id for o in over if o.role in (Role.head, Role.inspector)}))
            )
        added: list[int] = []
        for person_id, unit_id, evaluators in wanted:
            new = self._new_row(principal, category_id, person_id, unit_id) | {"evaluator_ids": evaluators}
            stmt = self._insert(EvalSubject).values(**new)
            taken = (
                await self.session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=ONE_PER_PERSON,
                        set_={
                            "evaluator_ids": stmt.excluded.evaluator_ids,
                            "unit_id": stmt.excluded.unit_id,
                            "active": True,
                        },
                        where=col(EvalSubject.active).is_(False),
                    ).returning(col(EvalSubject.id))
                )
            ).scalar_one_or_none()
            if taken is None:
                continue  # evaluated meanwhile: theirs stand
            added.append(taken)
            await self._record(
                principal,
                "evaluation.subject.set",
                "eval_subject",
                taken,
                category_id=category_id,
                person_id=person_id,
                evaluator_ids=evaluators,
            )
        if not added:
            await self.session.rollback()
            raise Conflict(
                "nobody holding this post in your scope is left to add",
                code="no_one_to_add",
                extra={"field": "post_id"},
            )
        await self.session.commit()
        rows = (
            await self.session.execute(
                select(EvalSubject)
                .where(col(EvalSubject.id).in_(added))
                .order_by(col(EvalSubject.person_id))
                .execution_options(populate_existing=True)
            )
        ).scalars()
        return await self.subjects_public(principal, list(rows))

    async def subjects(self, principal: Principal, category_id: int) -> list[SubjectPublic]:
        await self.category(category_id)
        stmt = select(EvalSubject).where(
            col(EvalSubject.category_id) == category_id,
            col(EvalSubject.active).is_(True),
            principal.directory_filter(
                person_col=col(EvalSubject.person_id), unit_col=col(EvalSubject.unit_id)
            ),
        )
        rows = list((await self.session.execute(stmt.order_by(col(EvalSubject.id)))).scalars())
        return await self.subjects_public(principal, rows)

    async def subjects_public(self, principal: Principal, rows: list[EvalSubject]) -> list[SubjectPublic]:
        ids = {r.person_id for r in rows} | {e for r in rows for e in r.evaluator_ids}
        names = await self.names(ids)
        units = {u.id: u.name for u in (await self.session.execute(select(Unit))).scalars()}
        posts = dict(
            (
                await self.session.execute(
                    select(col(Person.id), col(Post.name))
                    .join(Post, col(Post.id) == col(Person.post_id))
                    .where(col(Person.id).in_(sorted(ids)))
                )
            ).all()
        )
        libraries: dict[int, LibraryContent] = {}
        out = []
        for r in rows:
            if r.category_id not in libraries:
                libraries[r.category_id] = self.content(await self.library(r.category_id))
            out.append(
                SubjectPublic(
                    id=pk(r),
                    category_id=r.category_id,
                    person_id=r.person_id,
                    person_name=names.get(r.person_id, ""),
                    unit_id=r.unit_id,
                    unit_name=units.get(r.unit_id, ""),
                    post_name=posts.get(r.person_id),
                    evaluator_ids=r.evaluator_ids,
                    evaluator_names=[names.get(e, "") for e in r.evaluator_ids],
                    may_file=[
                        t.code
                        for t in libraries[r.category_id].tags
                        if may_file(principal, t, r.person_id, r.unit_id)
                    ],
                )
            )
        return out
