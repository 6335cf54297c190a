"""API shapes of the archive: a list of cases, what it can be browsed by."""

from __future__ import annotations

from sqlmodel import SQLModel

from backend.kernel.timeutil import LocalDateTime


class ArchiveItem(SQLModel):
    kind: str
    case_id: int
    title: str
    #: the topic (a warning) or the tier (a ladder case), in the reader's language
    topic: str
    person_name: str
    unit_name: str
    opened_at: LocalDateTime
    #: opened_at written out in the reader's language (2026年12月6日)
    opened_on: str
    state: str
    level: str | None


class ArchivePage(SQLModel):
    items: list[ArchiveItem]
    total: int
    limit: int
    offset: int


class FacetPublic(SQLModel):
    value: str
    label: str


class ArchiveFacets(SQLModel):
    topics: list[FacetPublic]
    units: list[FacetPublic]
    people: list[FacetPublic]
    years: list[int]
