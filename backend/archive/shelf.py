"""What the archive lists of every kind share: a year's bounds, one page of a kind's cases with the
person's and the department's names, and the departments, people and years its cases have in the
caller's scope. A kind brings its table, its scope and filters, and its own columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, FromClause, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.casefile import ArchiveEntry, ArchiveFilters, Facet, Facets
from backend.archive.sections import PERSON, UNIT
from backend.archive.words import Words
from backend.kernel.access import Principal
from backend.kernel.timeutil import SHANGHAI

#: people offered as a filter at most
PEOPLE_SHOWN = 500


def year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(date(year, 1, 1), time.min, SHANGHAI)
    return start, datetime.combine(date(year + 1, 1, 1), time.min, SHANGHAI)


@dataclass(frozen=True)
class Shelf:
    """A kind's cases as the archive lists them: the table (joined with what the kind's own
    columns need), and its topic (what the "topic" filter matches: a topic, a tier, a source),
    department, person, opening time and key columns."""

    source: FromClause
    topic: Any
    unit: Any
    person: Any
    opened: Any
    key: Any

    def where(
        self, scope: Sequence[ColumnElement[bool]], filters: ArchiveFilters
    ) -> list[ColumnElement[bool]]:
        """The caller's ``scope`` narrowed by the archive's filters."""
        where = list(scope)
        for column, value in (
            (self.topic, filters.topic),
            (self.unit, filters.unit_id),
            (self.person, filters.person_id),
        ):
            if value:
                where.append(column == value)
        if filters.year:
            start, end = year_bounds(filters.year)
            where += [self.opened >= start, self.opened < end]
        return where

    async def topics(self, session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> set[str]:
        """The topics the cases ``where`` selects have."""
        found = await session.execute(select(self.topic).distinct().select_from(self.source).where(*where))
        return {str(t) for t in found.scalars() if t is not None}

    async def page(
        self,
        session: AsyncSession,
        where: Sequence[ColumnElement[bool]],
        columns: Sequence[Any],
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Any], int]:
        """One page of cases, newest first, with ``person`` and ``unit`` names; and their count."""
        total = (
            await session.execute(select(func.count()).select_from(self.source).where(*where))
        ).scalar_one()
        rows = (
            await session.execute(
                select(*columns, PERSON.c.name.label("person"), UNIT.c.name.label("unit"))
                .select_from(
                    self.source.outerjoin(PERSON, PERSON.c.id == self.person).outerjoin(
                        UNIT, UNIT.c.id == self.unit
                    )
                )
                .where(*where)
                .order_by(self.opened.desc(), self.key.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return rows, int(total)

    async def facets(
        self, session: AsyncSession, where: Sequence[ColumnElement[bool]], topics: list[Facet]
    ) -> Facets:
        """The departments, people and years (newest first) of the cases ``where`` selects."""
        units = (
            await session.execute(
                select(self.unit, UNIT.c.name)
                .distinct()
                .select_from(self.source.join(UNIT, UNIT.c.id == self.unit))
                .where(*where)
            )
        ).all()
        people = (
            await session.execute(
                select(self.person, PERSON.c.name)
                .distinct()
                .select_from(self.source.join(PERSON, PERSON.c.id == self.person))
                .where(*where)
                .order_by(PERSON.c.name, self.person)
                .limit(PEOPLE_SHOWN)
            )
        ).all()
        first, last = (
            await session.execute(
                select(func.min(self.opened), func.max(self.opened)).select_from(self.source).where(*where)
            )
        ).one()
        years: list[int] = []
        if first is not None:
            years = list(range(last.astimezone(SHANGHAI).year, first.astimezone(SHANGHAI).year - 1, -1))
        return Facets(
            topics=topics,
            units=sorted((Facet(str(i), str(n)) for i, n in units), key=lambda f: f.label),
            people=sorted((Facet(str(i), str(n)) for i, n in people), key=lambda f: f.label),
            years=years,
        )


class ShelvedKind:
    """The archive list of a kind whose cases are rows of one table: a subclass names its
    :class:`Shelf`, its title and state columns, the word families of its topics and states, and
    its scope; ``entries`` and ``facets`` of :class:`backend.archive.casefile.CaseKind` follow."""

    name: str
    shelf: Shelf
    title: Any
    state: Any
    #: word families: ``<topic_words>.<topic>``, ``<state_words>.<state>``
    topic_words: str
    state_words: str
    #: further columns :meth:`shown` reads
    more: tuple[Any, ...] = ()

    def scope(self, principal: Principal) -> list[ColumnElement[bool]]:
        raise NotImplementedError

    def shown(self, row: Any) -> tuple[str, str]:
        """The title and the person's name an entry shows."""
        return str(row.title), str(row.person or "")

    async def entries(
        self,
        session: AsyncSession,
        principal: Principal,
        filters: ArchiveFilters,
        words: Words,
        limit: int,
        offset: int,
    ) -> tuple[list[ArchiveEntry], int]:
        s = self.shelf
        columns = [
            s.key.label("id"),
            s.topic.label("topic"),
            s.opened.label("opened"),
            self.title.label("title"),
            self.state.label("state"),
            *self.more,
        ]
        rows, total = await s.page(session, s.where(self.scope(principal), filters), columns, limit, offset)
        out = []
        for r in rows:
            title, person = self.shown(r)
            out.append(
                ArchiveEntry(
                    kind=self.name,
                    case_id=int(r.id),
                    title=title,
                    topic=words.pick(self.topic_words, r.topic),
                    person_name=person,
                    unit_name=str(r.unit or ""),
                    opened_at=r.opened,
                    state=words.pick(self.state_words, r.state),
                    level=None,
                )
            )
        return out, total

    async def facets(self, session: AsyncSession, principal: Principal, words: Words) -> Facets:
        where = self.shelf.where(self.scope(principal), ArchiveFilters())
        found = await self.shelf.topics(session, where)
        topics = [Facet(t, words.pick(self.topic_words, t)) for t in sorted(found)]
        return await self.shelf.facets(session, where, topics)
