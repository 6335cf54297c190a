"""Warnings over HTTP: inbox views, detail with timeline, verification, confirmation, photos."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, cast

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.reads import ReadJournal
from backend.kernel.access import Principal, Role, requires
from backend.kernel.errors import Invalid
from backend.kernel.onehop import small_reads
from backend.kernel.web import FileForm, sent_file
from backend.warnings.detail import photo_public, verification_public
from backend.warnings.evidence import pick_lang
from backend.warnings.inbox import summary
from backend.warnings.inbox_json import own_inbox_json
from backend.warnings.kept import kept_details, parse_ids
from backend.warnings.linked import LinkedPublic, LinkedService, RiskReportCreate, linked_public
from backend.warnings.manual import ManualForm, raise_manual
from backend.warnings.models import Finding, Level, LinkedState, WarningState
from backend.warnings.schemas import (
    DecisionCreate,
    InboxBox,
    InboxPage,
    InboxView,
    PhotoPublic,
    TransitionResult,
    UnitOnTime,
    VerificationCreate,
    WarningDetail,
    WarningStatus,
)
from backend.warnings.service import InboxFilters, WarningService
from backend.warnings.urging import SupervisionOrder, UrgeCreate, supervision_orders, urge

DECIDERS = [requires(Role.head, Role.inspector)]
SUPERVISORS = [requires(Role.head, Role.inspector, Role.committee)]


async def provide_warnings(db_session: NamedDependency[AsyncSession], state: State) -> WarningService:
    return WarningService(db_session, state.trail, state.settings)


def parse_date(value: str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(
            f"{field} must be a date as YYYY-MM-DD, not {value[:40]!r}",
            code="invalid_date",
            extra={"field": field},
        ) from exc


class WarningController(Controller):
    path = "/api/warnings"
    tags = ["warnings"]
    dependencies = {"svc": Provide(provide_warnings)}
    guards = [requires()]

    @get("/", summary="Inbox: mine, my unit or my scope, filtered, with counts per level")
    async def inbox(
        self,
        state: State,
        request: Request[Principal, Any, Any],
        view: FromQuery[InboxView] = InboxView.mine,
        level: FromQuery[Level | None] = None,
        topic: Annotated[str | None, QueryParameter(max_length=32)] = None,
        in_state: Annotated[WarningState | None, QueryParameter(name="state")] = None,
        overdue: FromQuery[bool | None] = None,
        raised_from: Annotated[str | None, QueryParameter(max_length=40)] = None,
        raised_to: Annotated[str | None, QueryParameter(max_length=40)] = None,
        period: Annotated[str | None, QueryParameter(max_length=32)] = None,
        person_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        box: FromQuery[InboxBox | None] = None,
        unit_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        specialty: Annotated[str | None, QueryParameter(max_length=16)] = None,
        post_id: Annotated[int | None, QueryParameter(ge=0)] = None,
        status: FromQuery[WarningStatus | None] = None,
        finding: FromQuery[Finding | None] = None,
        lang: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> Response[InboxPage]:
        filters = InboxFilters(
            level=level,
            topic=topic,
            state=in_state,
            overdue=overdue,
            raised_from=parse_date(raised_from, "raised_from"),
            raised_to=parse_date(raised_to, "raised_to"),
            period=period,
            person_id=person_id,
            box=box,
            unit_id=unit_id,
            specialty=specialty,
            post_id=post_id,
            status=status,
            finding=finding,
        )
        lang = pick_lang(lang)
        reads: ReadJournal = state.reads
        if view is InboxView.mine:  # the phone's inbox: one statement, no ORM session, no models
            page = await own_inbox_json(
                state.db.engine,
                request.user,
                filters,
                limit=limit,
                offset=offset,
                keep=state.settings.inbox_cache_pages,
                lang=lang,
            )
            reads.note(request.user.actor, "warning.list", "warning", page.ids, view=view.value)
            # the JSON as bytes (InboxPage's shape), compressed once per kept page (the middleware
            # leaves an encoded body as it is)
            body, headers = page.encoded(request.headers.get("accept-encoding", ""))
            return Response(cast(InboxPage, body), media_type=MediaType.JSON, headers=headers)
        async with state.db.session() as session:
            svc = WarningService(session, state.trail, state.settings)
            listed = await svc.inbox(request.user, view, filters, limit=limit, offset=offset, lang=lang)
        reads.note(
            request.user.actor, "warning.list", "warning", [w.id for w in listed.items], view=view.value
        )
        return Response(listed)

    @get("/on-time", guards=SUPERVISORS, summary="On-time rate per unit (heads, inspectors)")
    async def on_time(
        self,
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
        raised_from: Annotated[str | None, QueryParameter(max_length=40)] = None,
        raised_to: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> list[UnitOnTime]:
        return await svc.on_time(
            request.user, parse_date(raised_from, "raised_from"), parse_date(raised_to, "raised_to")
        )

    @get("/supervision", guards=SUPERVISORS, summary="督办单: warnings of my scope under a supervision order")
    async def supervision(
        self, svc: NamedDependency[WarningService], request: Request[Principal, Any, Any], lang: str = ""
    ) -> list[SupervisionOrder]:
        return await supervision_orders(svc, request.user, lang=pick_lang(lang[:16]))

    @post(
        "/{warning_id:int}/urge",
        guards=DECIDERS,
        status_code=200,
        summary="催办 (kind urge: heads, inspectors) or 督办 (kind supervise, with due_on: inspectors)",
    )
    async def urge_warning(
        self,
        warning_id: FromPath[int],
        data: JSONBody[UrgeCreate],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
    ) -> TransitionResult:
        return TransitionResult(warning=summary(await urge(svc, request.user, warning_id, data)))

    @get("/kept", summary="Details of my open warnings to keep on the phone (not marked read)")
    async def kept(
        self,
        state: State,
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
        ids: Annotated[str, QueryParameter(max_length=700)],
        lang: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> list[WarningDetail]:
        return await kept_details(svc, request.user, parse_ids(ids), state.reads, pick_lang(lang))

    @get("/{warning_id:int}", summary="A warning: evidence, deadline, timeline, replies, photos")
    async def detail(
        self,
        state: State,
        warning_id: FromPath[int],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
        lang: Annotated[str | None, QueryParameter(max_length=16)] = None,
    ) -> WarningDetail:
        with small_reads():  # reads by key and by this warning's id
            return await svc.detail(request.user, warning_id, reads=state.reads, lang=pick_lang(lang))

    @post("/{warning_id:int}/verifications", summary="Submit a verification (idempotent under client_id)")
    async def verify(
        self,
        warning_id: FromPath[int],
        data: JSONBody[VerificationCreate],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
    ) -> Response[TransitionResult]:
        verification, created, warning = await svc.verify_showing(request.user, warning_id, data)
        body = TransitionResult(warning=summary(warning), verification=verification_public(verification))
        return Response(body, status_code=201 if created else 200)

    @post("/{warning_id:int}/confirm", guards=DECIDERS, status_code=200, summary="Confirm the reply (head)")
    async def confirm(
        self,
        warning_id: FromPath[int],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
        data: JSONBody[DecisionCreate | None] = None,
    ) -> TransitionResult:
        warning, v = await svc.decide(request.user, warning_id, data or DecisionCreate(), confirm=True)
        return TransitionResult(warning=summary(warning), verification=verification_public(v))

    @post(
        "/{warning_id:int}/return", guards=DECIDERS, status_code=200, summary="Return the reply with a reason"
    )
    async def return_reply(
        self,
        warning_id: FromPath[int],
        data: JSONBody[DecisionCreate],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
    ) -> TransitionResult:
        warning, v = await svc.decide(request.user, warning_id, data, confirm=False)
        return TransitionResult(warning=summary(warning), verification=verification_public(v))

    @post("/{warning_id:int}/close", guards=DECIDERS, status_code=200, summary="Close a confirmed warning")
    async def close(
        self,
        warning_id: FromPath[int],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
    ) -> TransitionResult:
        warning = await svc.close(request.user, warning_id)
        return TransitionResult(warning=summary(warning))

    @post(
        "/manual",
        guards=[requires(Role.inspector)],
        summary="Raise a warning by hand: offline topic or inspection (multipart; photos in 'files')",
    )
    async def raise_manual(
        self,
        state: State,
        request: Request[Principal, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[ManualForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> TransitionResult:
        form, photos = await data.parsed()
        warning = await raise_manual(db_session, state.trail, state.settings, request.user, form, photos)
        return TransitionResult(warning=summary(warning))

    @post(
        "/{warning_id:int}/photos",
        summary="Upload a photo for the reply (multipart field 'file')",
        responses={200: ResponseSpec(PhotoPublic, description="The same photo was uploaded before")},
    )
    async def add_photo(
        self,
        warning_id: FromPath[int],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
        data: Annotated[FileForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[PhotoPublic]:
        upload = sent_file(data.file, "file", "the photo")
        photo, created = await svc.add_photo(request.user, warning_id, await upload.read())
        return Response(photo_public(photo), status_code=201 if created else 200)

    @get(
        "/{warning_id:int}/photos/{photo_id:int}", summary="A photo (only for those who may see the warning)"
    )
    async def get_photo(
        self,
        state: State,
        warning_id: FromPath[int],
        photo_id: FromPath[int],
        svc: NamedDependency[WarningService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        photo, content = await svc.photo(request.user, warning_id, photo_id, reads=state.reads)
        return Response(
            content,
            media_type=photo.content_type,
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        )


async def provide_linked(db_session: NamedDependency[AsyncSession], state: State) -> LinkedService:
    return LinkedService(db_session, state.trail)


class LinkedController(Controller):
    path = "/api/linked"
    tags = ["linked warnings"]
    dependencies = {"linked": Provide(provide_linked)}
    guards = [requires(Role.head, Role.inspector, Role.committee)]

    @get("/", summary="Risk notice letters to departments in my scope")
    async def list_linked(
        self,
        linked: NamedDependency[LinkedService],
        request: Request[Principal, Any, Any],
        in_state: Annotated[LinkedState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[LinkedPublic]:
        rows = await linked.list(request.user, in_state, limit, offset)
        return [linked_public(r) for r in rows]

    @get("/{linked_id:int}", summary="A risk notice letter and its report")
    async def get_linked(
        self,
        linked_id: FromPath[int],
        linked: NamedDependency[LinkedService],
        request: Request[Principal, Any, Any],
    ) -> LinkedPublic:
        return linked_public(await linked.get(request.user, linked_id))

    @post(
        "/{linked_id:int}/report",
        guards=[requires(Role.head)],
        status_code=200,
        summary="Answer with a risk report",
    )
    async def report(
        self,
        linked_id: FromPath[int],
        data: JSONBody[RiskReportCreate],
        linked: NamedDependency[LinkedService],
        request: Request[Principal, Any, Any],
    ) -> LinkedPublic:
        return linked_public(await linked.report(request.user, linked_id, data))
