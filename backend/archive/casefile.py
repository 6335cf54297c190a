"""What a case file is, whatever its kind: blocks of labelled facts, tables, paragraphs and images
for the PDF, and the original files for the ZIP.

A kind of case (a warning, a ladder case; a clue or a problem later) is one adapter
(:class:`CaseKind`): it loads one case within the caller's scope and fills a :class:`CaseFile`,
and it lists its cases for the archive. ``backend/archive/kinds.py`` names the adapters; adding a
kind adds a module and one line there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.kernel.access import Principal
from backend.kernel.settings import Settings


@dataclass
class Attachment:
    """An original file of the case (a reply's photo), kept in the ZIP as it was stored."""

    name: str
    sha256: str
    content_type: str
    content: bytes


@dataclass
class Picture:
    """An image shown in the PDF (a photo, a signature) with its caption."""

    caption: str
    content: bytes
    content_type: str = "image/png"
    #: a signature is drawn small; a photo as large as the page allows
    small: bool = False


@dataclass
class Block:
    """A section of the file: a heading, then facts (label, value), a table, paragraphs, pictures."""

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    #: the header row first
    table: list[list[str]] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    #: said when the block has nothing (无催办记录)
    empty: str = ""


@dataclass
class CaseFile:
    kind: str
    case_id: int
    #: the file's title as people read it (预警案卷：表计装拆后零电量)
    title: str
    #: the file name without extension (no identifiers: kind, topic or subject, date)
    file_name: str
    blocks: list[Block] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    #: trail records (object type, object id) the file covers, for its "trail of acts" block
    trail_objects: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ArchiveFilters:
    topic: str | None = None
    unit_id: int | None = None
    person_id: int | None = None
    year: int | None = None


@dataclass(frozen=True)
class ArchiveEntry:
    """One case in the archive list."""

    kind: str
    case_id: int
    title: str
    topic: str
    person_name: str
    unit_name: str
    opened_at: datetime
    state: str
    level: str | None


@dataclass(frozen=True)
class Facet:
    value: str
    label: str


@dataclass(frozen=True)
class Facets:
    topics: list[Facet]
    units: list[Facet]
    people: list[Facet]
    years: list[int]


class CaseKind(Protocol):
    #: the kind's name in URLs (warning, ladder, clue …)
    name: str

    async def build(
        self,
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        principal: Principal,
        case_id: int,
        words: Words,
    ) -> CaseFile:
        """The case's file, or NotFound outside the caller's scope."""
        ...

    async def entries(
        self,
        session: AsyncSession,
        principal: Principal,
        filters: ArchiveFilters,
        words: Words,
        limit: int,
        offset: int,
    ) -> tuple[list[ArchiveEntry], int]:
        """The caller's cases of this kind matching ``filters``, newest first, and their count."""
        ...

    async def facets(self, session: AsyncSession, principal: Principal, words: Words) -> Facets:
        """What the archive of this kind can be browsed by, within the caller's scope."""
        ...
