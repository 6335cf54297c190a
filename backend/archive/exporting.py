"""Exports of lists as XLSX: asked for from a list screen, made at once when small, else in the
background by the ``archive.exports`` job, with progress; the file is its requester's alone.

Asking is an export in the trail (``report.export`` on the ``export_job``) and counts against the
account's exports a minute (``backend/reports/exports.py``); taking the file is a read in the trail
(``export.download``). A background export runs with the requester's rights at the time it runs
(their scope as it is then; none if their account was disabled meanwhile).
"""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import datetime, timedelta
from typing import Any

from openpyxl import Workbook
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from backend.archive.lists import Filters, ListContext, ListSpec
from backend.archive.lists_cases import lists
from backend.archive.models import ExportJob, ExportState
from backend.archive.words import Words
from backend.audit.service import AuditTrail
from backend.auth.service import AuthService, make_hasher
from backend.kernel.access import Channel, Principal
from backend.kernel.db import Database
from backend.kernel.errors import AppError, Conflict, NotFound
from backend.kernel.settings import Settings
from backend.kernel.tabular import xlsx_row
from backend.kernel.timeutil import LocalDateTime, utcnow
from backend.reports.exports import export_allowed

log = logging.getLogger("probity.exports")
#: lists of at most this many rows are made at once; longer ones in the background
INLINE_ROWS = 500
#: a running export's lease; renewed with each page
LEASE = timedelta(minutes=5)
#: finished exports are kept this long for their requester
KEEP = timedelta(hours=24)
#: an export of more rows is refused (a spreadsheet holds about a million)
MAX_ROWS = 1_000_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportCreate(SQLModel):
    list: str = Field(max_length=16)
    filters: dict[str, Any] = Field(default_factory=dict, max_length=20)
    lang: str | None = Field(default=None, max_length=16)


class ExportPublic(SQLModel):
    id: int
    list: str
    #: the list's name in the reader's language
    title: str
    state: ExportState
    total: int
    done: int
    #: 0–100
    percent: int
    file_name: str
    created_at: LocalDateTime
    finished_at: LocalDateTime | None
    #: where its requester takes the file (only once it is done)
    download_url: str | None
    #: why it failed, in the reader's language
    error: str | None


def export_public(job: ExportJob) -> ExportPublic:
    words = Words.of(job.lang)
    assert job.id is not None
    done = job.state == ExportState.done.value
    total = max(job.total_rows, 0)
    percent = 100 if done else (min(99, job.done_rows * 100 // total) if total else 0)
    return ExportPublic(
        id=job.id,
        list=job.list_name,
        title=words.pick("export.list", job.list_name),
        state=ExportState(job.state),
        total=total,
        done=job.done_rows,
        percent=percent,
        file_name=job.file_name,
        created_at=job.created_at,
        finished_at=job.finished_at,
        download_url=f"/api/exports/{job.id}/file" if done else None,
        error=words.pick("export.failed", job.error) if job.error else None,
    )


def spec_of(name: str) -> ListSpec:
    spec = lists().get(name)
    if spec is None:
        raise NotFound(f"no list {name[:20]!r} to export", code="list_not_found")
    return spec


def workbook(spec: ListSpec, words: Words, pages: list[list[list[Any]]], who: str, at: datetime) -> bytes:
    """The list as a workbook: its header bold and frozen, one row per line; a second sheet says who
    exported it, when, and how many rows."""
    book = Workbook(write_only=True)
    title = words.pick("export.list", spec.name)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    sheet.append(xlsx_row(spec.header(words)))
    n = 0
    for page in pages:
        for row in page:
            sheet.append(xlsx_row(row))
            n += 1
    about = book.create_sheet(words("export.about")[:31])
    about.append(xlsx_row([words("export.about.list"), title]))
    about.append(xlsx_row([words("export.about.by"), who]))
    about.append(xlsx_row([words("export.about.at"), words.stamp(at)]))
    about.append(xlsx_row([words("export.about.rows"), n]))
    about.append(xlsx_row([words("export.about.scope"), words("export.about.scope_text")]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def make_file(
    ctx: ListContext, spec: ListSpec, filters: Filters, total: int, progress: Any = None
) -> dict[str, Any]:
    """Read the list page by page (``progress(done)`` after each) and make the workbook: the
    export's finished columns."""
    pages: list[list[list[Any]]] = []
    done = 0
    async for page in spec.pages(ctx, filters):
        pages.append(page)
        done += len(page)
        if progress is not None:  # a list of replies may outgrow its count of warnings
            await progress(min(done, total) if total else done)
    now = utcnow()
    who = str(ctx.principal.extra.get("name") or ctx.principal.username)
    title = ctx.words.pick("export.list", spec.name)
    return {
        "content": await asyncio.to_thread(workbook, spec, ctx.words, pages, who, now),
        "done_rows": done,
        "total_rows": max(total, done),
        "file_name": ctx.words("export.file", list=title, day=ctx.words.day(now)) + ".xlsx",
        "state": ExportState.done.value,
        "finished_at": now,
        "lease_until": None,
    }


class ExportService:
    def __init__(self, session: AsyncSession, settings: Settings, trail: AuditTrail) -> None:
        self.session = session
        self.settings = settings
        self.trail = trail

    async def start(self, principal: Principal, data: ExportCreate) -> ExportPublic:
        spec = spec_of(data.list)
        filters = spec.parse(principal, data.filters)
        words = Words.of(data.lang or data.filters.get("lang"))
        job = ExportJob(
            account_id=principal.account_id,
            person_id=principal.person_id,
            list_name=spec.name,
            filters=filters.model_dump(mode="json", exclude_none=True),
            lang=words.lang,
        )
        self.session.add(job)
        await self.session.flush()
        await export_allowed(
            self.session, self.trail, principal, f"list.{spec.name}", job.id, "xlsx", object_type="export_job"
        )
        ctx = ListContext(self.session, self.settings, self.trail, principal, words)
        job.total_rows = await spec.count(ctx, filters)
        if job.total_rows > MAX_ROWS:
            await self.session.rollback()
            raise AppError(
                f"the list has {job.total_rows} rows; narrow it to at most {MAX_ROWS}",
                code="export_too_large",
                status=413,
                extra={"rows": job.total_rows, "max_rows": MAX_ROWS},
            )
        if job.total_rows <= INLINE_ROWS:
            for name, value in (await make_file(ctx, spec, filters, job.total_rows)).items():
                setattr(job, name, value)
        await self.session.commit()
        return export_public(job)

    async def _mine(self, principal: Principal, export_id: int) -> ExportJob:
        job = await self.session.get(ExportJob, export_id, populate_existing=True)
        if job is None or job.account_id != principal.account_id:
            raise NotFound(f"export {export_id} does not exist or is not yours", code="export_not_found")
        return job

    async def status(self, principal: Principal, export_id: int) -> ExportPublic:
        return export_public(await self._mine(principal, export_id))

    async def mine(self, principal: Principal, limit: int = 20) -> list[ExportPublic]:
        rows = await self.session.execute(
            select(ExportJob)
            .where(col(ExportJob.account_id) == principal.account_id)
            .order_by(col(ExportJob.id).desc())
            .limit(limit)
        )
        return [export_public(j) for j in rows.scalars()]

    async def file(self, principal: Principal, export_id: int) -> tuple[str, bytes]:
        job = await self._mine(principal, export_id)
        if job.state != ExportState.done.value or job.content is None:
            raise Conflict("the export is not ready yet", code="export_not_ready", extra={"state": job.state})
        await self.trail.record(
            self.session,
            principal.actor,
            action="export.download",
            object_type="export_job",
            object_id=export_id,
            new={"list": job.list_name, "rows": job.done_rows},
            power="case.export",
        )
        await self.session.commit()
        return job.file_name, job.content


# --- the background ----------------------------------------------------------------------------
def _claimable(now: datetime) -> Any:
    return or_(
        col(ExportJob.state) == ExportState.queued.value,
        and_(col(ExportJob.state) == ExportState.running.value, col(ExportJob.lease_until) < now),
    )


async def take(session: AsyncSession, export_id: int, now: datetime) -> bool:
    """Mark the export running for this process, only if it is still waiting (or its runner's lease
    lapsed): of two processes that saw it waiting, one gets it (no commit)."""
    got = (
        await session.execute(
            update(ExportJob)
            .where(col(ExportJob.id) == export_id, _claimable(now))
            .values(state=ExportState.running.value, lease_until=now + LEASE)
            .returning(col(ExportJob.id))
        )
    ).scalar_one_or_none()
    return got is not None


async def claim(db: Database) -> int | None:
    """Take the oldest waiting export (or one whose runner's lease lapsed): one conditional update,
    so two processes never make the same export at once."""
    for _ in range(5):
        async with db.session() as session:
            now = utcnow()
            wanted = (
                await session.execute(
                    select(col(ExportJob.id)).where(_claimable(now)).order_by(col(ExportJob.id)).limit(1)
                )
            ).scalar_one_or_none()
            if wanted is None:
                return None
            taken = await take(session, wanted, now)
            await session.commit()
            if taken:
                return int(wanted)
    return None


async def _progress(db: Database, export_id: int, done: int) -> None:
    async with db.session() as session:
        await session.execute(
            update(ExportJob)
            .where(col(ExportJob.id) == export_id, col(ExportJob.state) == ExportState.running.value)
            .values(done_rows=done, lease_until=utcnow() + LEASE)
        )
        await session.commit()


async def _fail(db: Database, export_id: int, reason: str) -> None:
    async with db.session() as session:
        await session.execute(
            update(ExportJob)
            .where(col(ExportJob.id) == export_id)
            .values(state=ExportState.failed.value, error=reason, finished_at=utcnow(), lease_until=None)
        )
        await session.commit()


async def make_claimed(db: Database, settings: Settings, trail: AuditTrail, export_id: int) -> None:
    """Make a claimed export as its requester, reading in one session; the progress and the file are
    written by short transactions of their own (a long read never turns into a write)."""
    async with db.session() as session:
        job = await session.get(ExportJob, export_id)
        assert job is not None
        auth = AuthService(session, settings, trail, make_hasher(settings))
        try:
            principal = await auth.principal_for_person(
                job.person_id, channel=Channel.system, session_id=f"export:{export_id}"
            )
        except AppError:
            await session.rollback()
            await _fail(db, export_id, "account")
            return
        spec = spec_of(job.list_name)
        filters = spec.filters.model_validate(job.filters)
        ctx = ListContext(session, settings, trail, principal, Words.of(job.lang))

        async def progress(done: int) -> None:
            await _progress(db, export_id, done)

        values = await make_file(ctx, spec, filters, job.total_rows, progress)
        await session.rollback()
    async with db.session() as session:
        await session.execute(
            update(ExportJob)
            .where(col(ExportJob.id) == export_id, col(ExportJob.state) == ExportState.running.value)
            .values(**values)
        )
        await session.commit()


async def run_exports(db: Database, settings: Settings) -> str:
    """Make the waiting exports one after another; remove the finished ones past ``KEEP``."""
    trail = AuditTrail(settings.secret_key.get_secret_value())
    made = failed = 0
    while (export_id := await claim(db)) is not None:
        try:
            await make_claimed(db, settings, trail, export_id)
            made += 1
        except Exception:
            log.exception("export %s failed", export_id)
            await _fail(db, export_id, "error")
            failed += 1
    async with db.session() as session:
        gone = await session.execute(
            delete(ExportJob).where(
                col(ExportJob.finished_at).is_not(None), col(ExportJob.finished_at) < utcnow() - KEEP
            )
        )
        await session.commit()
    return f"exports made: {made}, failed: {failed}, removed: {getattr(gone, 'rowcount', 0)}"
