"""Business tables and imports: topic experts and admins manage; owners read their data-quality issues."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.data.models import ImportPublic, IssuePage, RowsPush, TableDeclare, TableLabels, TablePublic
from backend.data.service import DataService
from backend.data.upload import Part, boundary_of, multipart_file
from backend.kernel.access import Principal, Role, requires

MANAGE = [requires(Role.admin, Role.expert)]
#: the app-wide body limit is small; uploads are bounded by ``upload_max_bytes`` instead
UPLOAD_BODY_LIMIT = 64 * 1024**3
#: pushed JSON rows are parsed in memory: at most 100 000 rows, so a bounded body
ROWS_BODY_LIMIT = 256 * 1024**2


async def provide_data(db_session: NamedDependency[AsyncSession], state: State) -> DataService:
    return DataService(db_session, state.trail, state.settings)


class DataController(Controller):
    path = "/api/data"
    tags = ["business data"]
    dependencies = {"data_svc": Provide(provide_data)}

    @get("/tables", guards=MANAGE, summary="Declared business tables with row counts")
    async def list_tables(self, data_svc: NamedDependency[DataService]) -> list[TablePublic]:
        return await data_svc.public(await data_svc.tables())

    @get("/tables/{name:str}", guards=MANAGE, summary="One business table")
    async def get_table(self, name: FromPath[str], data_svc: NamedDependency[DataService]) -> TablePublic:
        return (await data_svc.public([await data_svc.table(name)]))[0]

    @post("/tables", guards=MANAGE, summary="Declare a business table (columns, types, key, period, owner)")
    async def declare_table(
        self,
        data: JSONBody[TableDeclare],
        data_svc: NamedDependency[DataService],
        request: Request[Principal, Any, Any],
    ) -> TablePublic:
        return (await data_svc.public([await data_svc.declare(data, request.user.actor)]))[0]

    @patch(
        "/tables/{name:str}/labels",
        guards=MANAGE,
        summary="Label columns for people: zh-CN label (also the import header), English label, unit",
    )
    async def label_columns(
        self,
        name: FromPath[str],
        data: JSONBody[TableLabels],
        data_svc: NamedDependency[DataService],
        request: Request[Principal, Any, Any],
    ) -> TablePublic:
        return (await data_svc.public([await data_svc.set_labels(name, data, request.user.actor)]))[0]

    @post(
        "/tables/{name:str}/import",
        guards=MANAGE,
        status_code=200,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        summary="Import a CSV/XLSX file sent as multipart/form-data field `data`, streamed to disk as it "
        "arrives (bytes received show on the import record); all rows or none unless take_good_rows",
    )
    async def import_multipart(
        self,
        name: FromPath[str],
        data_svc: NamedDependency[DataService],
        request: Request[Principal, Any, Any],
        encoding: FromQuery[str | None] = None,
        take_good_rows: FromQuery[bool] = False,
    ) -> ImportPublic:
        boundary, part = boundary_of(request.content_type), Part()
        return await data_svc.import_stream(
            name,
            multipart_file(request.stream(), boundary, part),
            request.user.actor,
            filename=lambda: part.filename or "upload.csv",
            encoding=encoding,
            take_good_rows=take_good_rows,
        )

    @put(
        "/tables/{name:str}/upload",
        guards=MANAGE,
        status_code=200,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        summary="Stream a file as the raw request body; progress (bytes received) shows on its import record",
    )
    async def upload_stream(
        self,
        name: FromPath[str],
        data_svc: NamedDependency[DataService],
        request: Request[Principal, Any, Any],
        filename: Annotated[str, QueryParameter(min_length=1, max_length=255)] = "upload.csv",
        encoding: FromQuery[str | None] = None,
        take_good_rows: FromQuery[bool] = False,
    ) -> ImportPublic:
        return await data_svc.import_stream(
            name,
            request.stream(),
            request.user.actor,
            filename=lambda: filename,
            encoding=encoding,
            take_good_rows=take_good_rows,
        )

    @post(
        "/tables/{name:str}/rows",
        guards=MANAGE,
        status_code=200,
        request_max_body_size=ROWS_BODY_LIMIT,
        summary="Push rows as JSON (for systems that push); checked like a file",
    )
    async def push_rows(
        self,
        name: FromPath[str],
        data: JSONBody[RowsPush],
        data_svc: NamedDependency[DataService],
        request: Request[Principal, Any, Any],
    ) -> ImportPublic:
        return await data_svc.import_rows(name, data, request.user.actor)

    @get("/imports", guards=MANAGE, summary="Import records, newest first")
    async def list_imports(
        self,
        data_svc: NamedDependency[DataService],
        table: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[ImportPublic]:
        return await data_svc.imports(table, limit, offset)

    @get("/imports/{import_id:int}", guards=MANAGE, summary="One import record with its refused rows")
    async def get_import(
        self, import_id: FromPath[int], data_svc: NamedDependency[DataService]
    ) -> ImportPublic:
        return await data_svc.get_import(import_id)

    @get(
        "/issues",
        guards=[requires()],
        summary="Data-quality issues: experts/admins/committee all; others those of tables their units own",
    )
    async def list_issues(
        self,
        data_svc: NamedDependency[DataService],
        request: Request[Principal, Any, Any],
        table: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> IssuePage:
        items, total = await data_svc.issues(request.user, table, limit, offset)
        return IssuePage(items=items, total=total, limit=limit, offset=offset)
