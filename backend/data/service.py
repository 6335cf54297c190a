"""Business data rules: declare tables, import files and pushed rows, report refused rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.data.keys import INTEGER_TYPES, key_text
from backend.data.models import (
    BusinessTable,
    ColumnSpec,
    DataImport,
    DataQualityIssue,
    ImportPublic,
    ImportStatus,
    IssuePublic,
    RowsPush,
    TableDeclare,
    TableLabels,
    TablePublic,
)
from backend.data.parquet import ParquetStore, parquet_columns
from backend.data.rulesql import to_spark
from backend.data.sandbox import CheckedRule, RuleRejected, _reject, check_rule_sql
from backend.data.staging import Staged, stage, staging_path, write_rows_csv
from backend.data.store import BusinessStore, LoadResult, LoadSpec
from backend.data.upload import receive
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.errors import AppError, Conflict, Invalid, NotFound
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.org.service import OrgService

MAX_ISSUES_PER_IMPORT = 1000


class DataService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings

    @property
    def store(self) -> BusinessStore | ParquetStore:
        """The DuckDB file (the default) or the shared Parquet store (``PROBITY_BUSINESS_STORE``)."""
        if self.settings.business_store:
            return ParquetStore.for_settings(self.settings)
        return BusinessStore.for_settings(self.settings)

    @property
    def staging_dir(self) -> Path:
        return self.store.staging_dir

    # --- declarations ------------------------------------------------------------------
    async def table(self, name: str) -> BusinessTable:
        found = (
            await self.session.execute(select(BusinessTable).where(col(BusinessTable.name) == name))
        ).scalar_one_or_none()
        if found is None:
            known = ", ".join(t.name for t in await self.tables()) or "none yet"
            raise NotFound(f"no business table {name!r} is declared (known: {known})", code="unknown_table")
        return found

    async def tables(self) -> list[BusinessTable]:
        return list(
            (await self.session.execute(select(BusinessTable).order_by(col(BusinessTable.name)))).scalars()
        )

    async def table_names(self) -> set[str]:
        return {t.name for t in await self.tables()}

    async def public(self, tables: list[BusinessTable]) -> list[TablePublic]:
        counts = await asyncio.to_thread(self.store.row_counts, [t.name for t in tables])
        return [
            TablePublic(
                id=t.id or 0,
                name=t.name,
                title=t.title,
                source=t.source,
                columns=t.specs(),
                key=list(t.key),
                period_column=t.period_column,
                owner_unit_id=t.owner_unit_id,
                rows=counts.get(t.name, 0),
            )
            for t in tables
        ]

    async def declare(self, data: TableDeclare, actor: Actor, *, commit: bool = True) -> BusinessTable:
        """Declare a table and create it in the store. Declarations only grow: columns are not dropped."""
        unit = await OrgService(self.session, self.trail).unit_by_code(data.owner_unit_code)
        if unit is None or unit.id is None:
            raise Invalid(f"unit {data.owner_unit_code!r} does not exist", code="unknown_unit")
        existing = (
            await self.session.execute(select(BusinessTable).where(col(BusinessTable.name) == data.name))
        ).scalar_one_or_none()
        if existing is not None:
            raise Conflict(f"business table {data.name!r} is already declared", code="duplicate_table")
        table = BusinessTable(
            name=data.name,
            title=data.title,
            source=data.source,
            columns=[c.model_dump() for c in data.columns],
            key=list(data.key),
            period_column=data.period_column,
            owner_unit_id=unit.id,
        )
        self.session.add(table)
        await self.session.flush()
        await asyncio.to_thread(
            self.store.create_table, data.name, [(c.name, c.type) for c in data.columns], data.period_column
        )
        await self.trail.record(
            self.session,
            actor,
            action="data.table_declare",
            object_type="business_table",
            object_id=table.id,
            new={**data.model_dump(), "columns": [c.model_dump() for c in data.columns]},
            power="data.write",
        )
        if commit:
            await self.session.commit()
        return table

    async def set_labels(self, name: str, data: TableLabels, actor: Actor) -> BusinessTable:
        """Set the zh-CN and English labels and the unit of some columns (what people read in a
        warning's evidence); the zh-CN label is also taken as the column's header on import."""
        table = await self.table(name)
        columns = [dict(c) for c in table.columns]
        names = {c["name"] for c in columns}
        unknown = sorted(set(data.columns) - names)
        if unknown:
            raise Invalid(
                f"table {name!r} has no column {unknown[0]!r}",
                code="unknown_column",
                extra={"field": unknown[0]},
            )
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for column in columns:
            given = data.columns.get(column["name"])
            if given is None:
                continue
            old[column["name"]] = {k: column.get(k) for k in ("label", "label_en", "unit")}
            column.update(label=given.label, label_en=given.label_en or None, unit=given.unit)
            new[column["name"]] = given.model_dump(mode="json")
        headers = [c["label"] for c in columns if c.get("label")]
        if len(set(headers)) != len(headers):
            raise Invalid("column labels must be unique", code="duplicate_label")
        table.columns = [ColumnSpec.model_validate(c).model_dump(mode="json") for c in columns]
        await self.trail.record(
            self.session,
            actor,
            action="data.table_labels",
            object_type="business_table",
            object_id=table.id,
            old=old,
            new=new,
            power="data.write",
        )
        await self.session.commit()
        return table

    # --- imports ------------------------------------------------------------------------
    async def import_file(
        self,
        table_name: str,
        source: Path,
        filename: str,
        actor: Actor,
        *,
        encoding: str | None = None,
        take_good_rows: bool = False,
        record: DataImport | None = None,
    ) -> ImportPublic:
        """Import a CSV/XLSX file the caller keeps. All rows or none unless ``take_good_rows``."""
        table = await self.table(table_name)
        if record is None:
            record = await self._start(table, filename, actor, encoding, take_good_rows)
        started = time.perf_counter()
        staged: Staged | None = None
        try:
            staged = await asyncio.to_thread(stage, source, filename, self.staging_dir, encoding)
            record.encoding, record.bytes = staged.encoding, staged.size
            spec = self._spec(table, staged.header, staged.path, staged.delimiter, record, take_good_rows)
            result = await asyncio.to_thread(self.store.load_csv, spec)
        except Invalid as exc:
            return await self._fail(record, table, actor, exc, started)
        finally:
            if staged is not None:
                staged.discard()
        return await self._finish(record, table, actor, result, started)

    async def import_rows(self, table_name: str, data: RowsPush, actor: Actor) -> ImportPublic:
        """Rows pushed as JSON: checked exactly like a file; errors name the row of the array (1-based)."""
        table = await self.table(table_name)
        names = [c["name"] for c in table.columns]
        unknown = sorted({k for row in data.rows for k in row} - set(names))
        record = await self._start(table, data.source, actor, "json", data.take_good_rows)
        started = time.perf_counter()
        path: Path | None = None
        try:
            if unknown:
                raise Invalid(
                    f"unknown field(s) {', '.join(unknown)}; {table.name} has: {', '.join(names)}",
                    code="unknown_columns",
                )
            if not data.rows:
                raise Invalid("no rows were sent", code="empty_file")
            path = await asyncio.to_thread(write_rows_csv, data.rows, names, self.staging_dir)
            spec = self._spec(table, names, path, ",", record, data.take_good_rows, line_offset=1)
            result = await asyncio.to_thread(self.store.load_csv, spec)
        except Invalid as exc:
            return await self._fail(record, table, actor, exc, started)
        finally:
            if path is not None:
                path.unlink(missing_ok=True)
        return await self._finish(record, table, actor, result, started)

    def _spec(
        self,
        table: BusinessTable,
        header: list[str],
        path: Path,
        delimiter: str,
        record: DataImport,
        take_good_rows: bool,
        line_offset: int = 0,
    ) -> LoadSpec:
        specs = table.specs()
        by_header = {c.name: c for c in specs} | {c.label: c for c in specs if c.label}
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise Invalid(f"the header names column(s) twice: {', '.join(dupes)}", code="duplicate_columns")
        found = {by_header[h].name for h in header if h in by_header}
        missing = [c.name for c in specs if c.name not in found and (c.required or c.name in table.key)]
        if missing:
            raise Invalid(
                f"missing column(s): {', '.join(missing)}; the header row must name them",
                code="missing_columns",
                extra={"errors": [{"row": 1, "column": m, "reason": "missing column"} for m in missing]},
            )
        columns = [
            (h, by_header[h].name, by_header[h].type) if h in by_header else (h, None, "VARCHAR")
            for h in header
        ]
        assert record.id is not None
        return LoadSpec(
            table=table.name,
            header=columns,
            required=[c.name for c in specs if c.required],
            key=list(table.key),
            period_column=table.period_column if table.period_column in found else None,
            path=path,
            delimiter=delimiter,
            import_id=record.id,
            take_good_rows=take_good_rows,
            line_offset=line_offset,
        )

    async def import_stream(
        self,
        table_name: str,
        chunks: AsyncIterator[bytes],
        actor: Actor,
        *,
        filename: Callable[[], str],
        encoding: str | None = None,
        take_good_rows: bool = False,
    ) -> ImportPublic:
        """Import an upload as it arrives (raw body or a multipart file part).

        The import record is opened first, so its ``bytes`` show the progress of a long upload. An
        upload that breaks off or is too large leaves a failed record, and the error goes back to
        the client.
        """
        table = await self.table(table_name)
        record = await self._start(table, "upload", actor, encoding, take_good_rows)
        started = time.perf_counter()
        target = staging_path(self.staging_dir, ".upload")
        try:
            limit = self.settings.upload_max_bytes
            record.bytes = await receive(chunks, target, limit, self._received(record))
            record.filename = filename()[:255]
        except BaseException as exc:
            target.unlink(missing_ok=True)
            broken = Invalid("the upload broke off", code="upload_broken")
            reason = exc if isinstance(exc, AppError) else broken
            await self._fail(record, table, actor, reason, started)
            raise
        try:
            return await self.import_file(
                table_name,
                target,
                record.filename,
                actor,
                encoding=encoding,
                take_good_rows=take_good_rows,
                record=record,
            )
        finally:
            target.unlink(missing_ok=True)

    def _received(self, record: DataImport) -> Callable[[int], Awaitable[None]]:
        async def progress(size: int) -> None:
            record.bytes = size
            await self.session.commit()

        return progress

    async def _start(
        self, table: BusinessTable, filename: str, actor: Actor, encoding: str | None, take_good_rows: bool
    ) -> DataImport:
        record = DataImport(
            table_name=table.name,
            filename=filename[:255],
            channel=actor.channel.value,
            encoding=encoding,
            take_good_rows=take_good_rows,
            person_id=actor.person_id,
        )
        self.session.add(record)
        await self.session.commit()
        return record

    async def _fail(
        self, record: DataImport, table: BusinessTable, actor: Actor, exc: AppError, started: float
    ) -> ImportPublic:
        record.status = ImportStatus.failed
        record.error = f"{exc.code}: {exc.detail}"[:1000]
        errors = [(e["row"], e.get("column"), e["reason"]) for e in exc.extra.get("errors", [])]
        return await self._close(record, table, actor, errors, started)

    async def _finish(
        self, record: DataImport, table: BusinessTable, actor: Actor, result: LoadResult, started: float
    ) -> ImportPublic:
        record.rows_read, record.rows_taken = result.rows_read, result.rows_taken
        record.rows_refused, record.rows_replaced = result.rows_refused, result.rows_replaced
        record.periods = result.periods
        if result.committed:
            record.status = ImportStatus.done
        else:
            record.status = ImportStatus.refused
            first = result.errors[0] if result.errors else (0, None, "")
            record.error = (
                f"{result.rows_refused} row(s) refused, nothing was imported; first: row {first[0]}"
                + (f", column {first[1]}" if first[1] else "")
                + f": {first[2]}"
            )[:1000]
        return await self._close(record, table, actor, result.errors, started)

    async def _close(
        self,
        record: DataImport,
        table: BusinessTable,
        actor: Actor,
        errors: list[tuple[int, str | None, str]],
        started: float,
    ) -> ImportPublic:
        record.duration_ms = round((time.perf_counter() - started) * 1000)
        record.finished_at = utcnow()
        assert record.id is not None
        for row, column, reason in errors[:MAX_ISSUES_PER_IMPORT]:
            self.session.add(
                DataQualityIssue(
                    import_id=record.id,
                    table_name=table.name,
                    owner_unit_id=table.owner_unit_id,
                    row=row,
                    column=column,
                    reason=reason[:500],
                )
            )
        await self.trail.record(
            self.session,
            actor,
            action="data.import" if record.status == ImportStatus.done else "data.import_refused",
            object_type="data_import",
            object_id=record.id,
            new={
                "table": table.name,
                "file": record.filename,
                "status": str(record.status),
                "rows_taken": record.rows_taken,
                "rows_refused": record.rows_refused,
                "rows_replaced": record.rows_replaced,
                "periods": record.periods[:20],
                "error": record.error,
            },
            power="data.write",
        )
        await self.session.commit()
        return self._import_public(record, errors)

    @staticmethod
    def _import_public(record: DataImport, errors: list[tuple[int, str | None, str]]) -> ImportPublic:
        public = ImportPublic.model_validate(record, from_attributes=True)
        public.errors = [{"row": r, "column": c, "reason": m} for r, c, m in errors[:MAX_ISSUES_PER_IMPORT]]
        return public

    # --- reading --------------------------------------------------------------------------
    async def imports(self, table_name: str | None, limit: int, offset: int) -> list[ImportPublic]:
        stmt = select(DataImport).order_by(col(DataImport.id).desc()).limit(limit).offset(offset)
        if table_name:
            stmt = stmt.where(col(DataImport.table_name) == table_name)
        return [self._import_public(r, []) for r in (await self.session.execute(stmt)).scalars()]

    async def get_import(self, import_id: int) -> ImportPublic:
        record = await self.session.get(DataImport, import_id)
        if record is None:
            raise NotFound(f"import {import_id} does not exist", code="import_not_found")
        issues = (
            await self.session.execute(
                select(DataQualityIssue)
                .where(col(DataQualityIssue.import_id) == import_id)
                .order_by(col(DataQualityIssue.row), col(DataQualityIssue.id))
            )
        ).scalars()
        return self._import_public(record, [(i.row, i.column, i.reason) for i in issues])

    async def issues(
        self, principal: Principal, table_name: str | None, limit: int, offset: int
    ) -> tuple[list[IssuePublic], int]:
        """Data-quality issues: topic experts and admins see all; others those of their units' tables."""
        stmt = select(DataQualityIssue)
        if not principal.has(Role.admin, Role.expert, Role.committee):
            stmt = stmt.where(col(DataQualityIssue.owner_unit_id).in_(sorted(principal.subtree_unit_ids)))
        if table_name:
            stmt = stmt.where(col(DataQualityIssue.table_name) == table_name)
        total = (await self.session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
        rows = await self.session.execute(
            stmt.order_by(col(DataQualityIssue.id).desc()).limit(limit).offset(offset)
        )
        return [IssuePublic.model_validate(i, from_attributes=True) for i in rows.scalars()], int(total)


REQUIRED_RULE_COLUMNS = ("employee_no", "object_key", "period_key")


async def check_rule(svc: DataService, sql: str, params: dict[str, object], measure: str) -> CheckedRule:
    """Parse-tree check, then a zero-row probe on the store: the columns a rule must return."""
    checked = check_rule_sql(sql, await svc.table_names())
    missing = sorted(set(checked.parameters) - set(params))
    extra = sorted(set(params) - set(checked.parameters))
    if missing or extra:
        raise RuleRejected(
            "rule rejected: "
            + (f"no value for parameter(s) {', '.join(missing)}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"parameter(s) {', '.join(extra)} are not used by the SQL" if extra else ""),
        )
    columns = await asyncio.to_thread(probe_columns, svc.settings, svc.store, checked.sql, params)
    needed = [c for c in (*REQUIRED_RULE_COLUMNS, measure) if c not in columns]
    if needed:
        raise RuleRejected(
            f"rule rejected: the SELECT must return column(s) {', '.join(needed)} "
            f"(it returns {', '.join(columns)})"
        )
    for key in REQUIRED_RULE_COLUMNS:
        key_text(key, columns[key])  # refuses a key type whose text is not stable
    return checked


def probe_columns(
    settings: Settings, store: BusinessStore | ParquetStore, sql: str, params: dict[str, object]
) -> dict[str, str]:
    """The columns a checked rule returns on the configured engine (a zero-row probe; on Spark the
    analysis of the transpiled query, which refuses what Spark cannot run, with Spark's reason)."""
    timeout = settings.rule_timeout_seconds
    if isinstance(store, BusinessStore):
        if settings.business_engine == "spark":
            raise RuleRejected("rule rejected: the Spark engine needs PROBITY_BUSINESS_STORE")
        return store.columns_of(sql, params, timeout)
    if settings.business_engine == "spark":
        from backend.data import spark

        found = spark.columns_of(settings, store, to_spark(sql, dict(params), _reject), timeout)
        same_types(parquet_columns(store, settings.duckdb_memory_limit, sql, params, timeout), found)
        return found
    return parquet_columns(store, settings.duckdb_memory_limit, sql, params, timeout)


def _kind(duck: str) -> str:
    """What a column's type means for the keys and the evidence: integers alike, decimals by scale."""
    if duck in INTEGER_TYPES:
        return "INTEGER"
    if duck.startswith("DECIMAL(") and "," in duck:
        return "DECIMAL(" + duck.split(",")[1]
    return duck


def same_types(duck: dict[str, str], spark: dict[str, str]) -> None:
    """Refuse a rule whose columns Spark would type otherwise than DuckDB: its hits would differ."""
    differ = [
        f"{name} is {kind} on DuckDB but {spark.get(name, 'missing')} on Spark"
        for name, kind in duck.items()
        if _kind(kind) != _kind(spark.get(name, ""))
    ]
    if differ:
        reason = (
            f"Spark cannot run this rule to the same hits: {'; '.join(differ)}; "
            "cast the column in the rule (e.g. CAST(… AS DATE))"
        )
        raise RuleRejected(f"rule rejected: {reason}", extra={"reason": reason})
