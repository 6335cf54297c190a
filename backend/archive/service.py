"""The archive: browse the cases of one's scope and download a case's whole file.

Every download is in the trail (``report.export`` on the case itself, so the file's own trail
shows who took it) and counts against the account's exports a minute (``backend/reports/exports``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive.bundle import case_zip
from backend.archive.casefile import ArchiveFilters
from backend.archive.kinds import kind_of
from backend.archive.pdf import case_pdf
from backend.archive.schemas import ArchiveFacets, ArchiveItem, ArchivePage, FacetPublic
from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.kernel.access import Principal
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.reports.exports import export_allowed

#: the trail's object type of each kind's case
OBJECT_TYPES = {"warning": "warning", "ladder": "ladder_case", "clue": "clue", "problem": "problem"}


@dataclass(frozen=True)
class Download:
    file_name: str
    content: bytes
    media_type: str


class ArchiveService:
    def __init__(self, session: AsyncSession, settings: Settings, trail: AuditTrail) -> None:
        self.session = session
        self.settings = settings
        self.trail = trail

    async def browse(
        self,
        principal: Principal,
        kind: str,
        filters: ArchiveFilters,
        lang: str | None,
        limit: int,
        offset: int,
    ) -> ArchivePage:
        words = Words.of(lang)
        rows, total = await kind_of(kind).entries(self.session, principal, filters, words, limit, offset)
        items = [
            ArchiveItem(
                kind=r.kind,
                case_id=r.case_id,
                title=r.title,
                topic=r.topic,
                person_name=r.person_name,
                unit_name=r.unit_name,
                opened_at=r.opened_at,
                opened_on=words.day(r.opened_at),
                state=r.state,
                level=r.level,
            )
            for r in rows
        ]
        return ArchivePage(items=items, total=total, limit=limit, offset=offset)

    async def facets(self, principal: Principal, kind: str, lang: str | None) -> ArchiveFacets:
        found = await kind_of(kind).facets(self.session, principal, Words.of(lang))
        return ArchiveFacets(
            topics=[FacetPublic(value=f.value, label=f.label) for f in found.topics],
            units=[FacetPublic(value=f.value, label=f.label) for f in found.units],
            people=[FacetPublic(value=f.value, label=f.label) for f in found.people],
            years=found.years,
        )

    async def download(
        self, principal: Principal, kind: str, case_id: int, fmt: str, lang: str | None
    ) -> Download:
        """The case's PDF or ZIP (NotFound outside the caller's scope), in the trail, rate-limited."""
        words = Words.of(lang)
        adapter = kind_of(kind)
        # refused past the minute's share before any work; a case out of scope rolls the record back
        await export_allowed(
            self.session,
            self.trail,
            principal,
            f"archive.{kind}",
            case_id,
            fmt,
            object_type=OBJECT_TYPES.get(kind, kind),
        )
        file = await adapter.build(self.session, self.settings, self.trail, principal, case_id, words)
        await self.session.commit()
        who = str(principal.extra.get("name") or principal.username)
        pdf = await asyncio.to_thread(case_pdf, file, words, utcnow(), who)
        if fmt == "pdf":
            return Download(f"{file.file_name}.pdf", pdf, "application/pdf")
        content = await asyncio.to_thread(case_zip, file, pdf, words)
        return Download(f"{file.file_name}.zip", content, "application/zip")
