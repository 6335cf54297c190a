"""The "1+3" evaluation over HTTP: user management, data filing, evaluation analysis, result use."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.evaluation.rounds import RoundService
from backend.evaluation.schemas import (
    CategoryCreate,
    CategoryPublic,
    CommentCreate,
    LibraryContent,
    LibraryPublic,
    RoundCreate,
    RoundDetail,
    RoundPublic,
    ScorePublic,
    SubjectCreate,
    SubjectPublic,
    SubjectsByPost,
    TagFile,
    TagPublic,
    TalkInterview,
    TalkRecorded,
    TrendPoint,
    UploadedPhoto,
)
from backend.evaluation.service import MANAGERS
from backend.kernel.access import Principal, Role, requires
from backend.kernel.web import FileForm, sent_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MANAGE = [requires(*MANAGERS)]
FILE = [requires(Role.head, Role.inspector, Role.committee)]
SUBJECTS = [requires(Role.inspector, Role.committee, Role.admin)]


async def provide_evaluation(db_session: NamedDependency[AsyncSession], state: State) -> RoundService:
    return RoundService(db_session, state.trail, state.settings)


class EvaluationController(Controller):
    path = "/api/evaluation"
    tags = ["evaluation"]
    dependencies = {"ev": Provide(provide_evaluation)}
    guards = [requires()]

    # --- categories and libraries ---------------------------------------------------
    @get("/categories", summary='Business categories with their current "1+3" library')
    async def categories(self, ev: NamedDependency[RoundService]) -> list[CategoryPublic]:
        return await ev.categories()

    @post("/categories", guards=MANAGE, summary="A category with its first library version")
    async def create_category(
        self,
        data: JSONBody[CategoryCreate],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> CategoryPublic:
        return await ev.create_category(request.user, data)

    @get("/categories/{category_id:int}/library", summary="A library version (default: the current one)")
    async def library(
        self,
        category_id: FromPath[int],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> LibraryPublic:
        return await ev.library_for(request.user, category_id, version)

    @post(
        "/categories/{category_id:int}/library", guards=MANAGE, summary="Edit: adds the next library version"
    )
    async def edit_library(
        self,
        category_id: FromPath[int],
        data: JSONBody[LibraryContent],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> LibraryPublic:
        return await ev.edit_library(request.user, category_id, data)

    # --- subjects -------------------------------------------------------------------
    @get("/categories/{category_id:int}/subjects", summary="People evaluated in the category, in my scope")
    async def subjects(
        self,
        category_id: FromPath[int],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> list[SubjectPublic]:
        return await ev.subjects(request.user, category_id)

    @post(
        "/categories/{category_id:int}/subjects",
        guards=SUBJECTS,
        status_code=200,
        summary="Evaluate a person in the category, with their evaluators",
    )
    async def add_subject(
        self,
        category_id: FromPath[int],
        data: JSONBody[SubjectCreate],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> SubjectPublic:
        return await ev.add_subject(request.user, category_id, data)

    @post(
        "/categories/{category_id:int}/subjects/by-post",
        guards=SUBJECTS,
        status_code=200,
        summary="Evaluate everyone holding a post (in my scope), with the heads and inspectors over each",
    )
    async def add_post(
        self,
        category_id: FromPath[int],
        data: JSONBody[SubjectsByPost],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> list[SubjectPublic]:
        return await ev.add_post(request.user, category_id, data)

    # --- data filing ------------------------------------------------------------------
    @post("/tags", guards=FILE, summary="File a tag about a person (idempotent under client_id)")
    async def file_tag(
        self,
        data: JSONBody[TagFile],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> Response[TagPublic]:
        row, created = await ev.file_tag(request.user, data)
        return Response((await ev.tags_public([row]))[0], status_code=201 if created else 200)

    @post(
        "/photos",
        guards=FILE,
        summary="Upload a photo to file with a tag (JPEG/PNG/WebP/HEIC/GIF, field 'file'); stored by SHA-256",
        responses={200: ResponseSpec(UploadedPhoto, description="The same photo was uploaded before")},
    )
    async def add_photo(
        self,
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
        data: Annotated[FileForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[UploadedPhoto]:
        row, created = await ev.photos.upload(
            request.user, await sent_file(data.file, "file", "the photo").read()
        )
        return Response(
            UploadedPhoto.model_validate(row, from_attributes=True), status_code=201 if created else 200
        )

    @get("/tags/{tag_id:int}/photo", summary="The photo filed with a tag I may see (in the trail)")
    async def tag_photo(
        self, tag_id: FromPath[int], ev: NamedDependency[RoundService], request: Request[Principal, Any, Any]
    ) -> Response[bytes]:
        row, content = await ev.photos.content(request.user, await ev.tag(request.user, tag_id))
        return Response(
            content,
            media_type=row.content_type,
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        )

    @get("/tags", summary="Filed tags I may see (mine: all but confidential ones)")
    async def list_tags(
        self,
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
        person_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        category_id: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> list[TagPublic]:
        rows = await ev.tags(request.user, person_id=person_id, category_id=category_id)
        return await ev.tags_public(rows)

    @get("/tags/{tag_id:int}", summary="One filed tag with its comments")
    async def tag(
        self, tag_id: FromPath[int], ev: NamedDependency[RoundService], request: Request[Principal, Any, Any]
    ) -> TagPublic:
        return (await ev.tags_public([await ev.tag(request.user, tag_id)]))[0]

    @post("/tags/{tag_id:int}/comments", summary="Comment on a tag (the person, or who sees it)")
    async def comment(
        self,
        tag_id: FromPath[int],
        data: JSONBody[CommentCreate],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> TagPublic:
        return await ev.comment(request.user, tag_id, data)

    # --- rounds ---------------------------------------------------------------------------
    @post(
        "/categories/{category_id:int}/rounds",
        guards=MANAGE,
        summary="Run a round on a library version (default: the current one)",
    )
    async def create_round(
        self,
        category_id: FromPath[int],
        data: JSONBody[RoundCreate],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> RoundPublic:
        return await ev.create_round(request.user, category_id, data)

    @get("/rounds", summary="Rounds, newest first; people = results I may see")
    async def rounds(
        self,
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
        category_id: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> list[RoundPublic]:
        return await ev.rounds(request.user, category_id)

    @get("/rounds/{round_id:int}", summary="A round's results in my scope, each explained")
    async def round(
        self,
        round_id: FromPath[int],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> RoundDetail:
        return await ev.detail(request.user, round_id)

    @get(
        "/rounds/{round_id:int}/export", guards=FILE, summary="Reference export (xlsx), scoped, in the trail"
    )
    async def export(
        self,
        round_id: FromPath[int],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        name, content = await ev.export(request.user, round_id)
        return Response(
            content,
            media_type=XLSX,
            headers={
                "Cache-Control": "private, no-store",
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )

    @get("/people/{person_id:int}/trend", summary="A person's results over rounds, oldest first")
    async def trend(
        self,
        person_id: FromPath[int],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> list[TrendPoint]:
        return await ev.trend(request.user, person_id)

    # --- result use -------------------------------------------------------------------
    @get("/talks", summary="Results suggesting a first-form talk (第一种形态谈话), in my scope")
    async def talks(
        self, ev: NamedDependency[RoundService], request: Request[Principal, Any, Any]
    ) -> list[ScorePublic]:
        return await ev.talks(request.user)

    @post(
        "/scores/{score_id:int}/interview",
        guards=[requires(Role.head, Role.inspector)],
        summary="Record the suggested talk as an interview in one step",
    )
    async def talk_interview(
        self,
        score_id: FromPath[int],
        data: JSONBody[TalkInterview],
        ev: NamedDependency[RoundService],
        request: Request[Principal, Any, Any],
    ) -> Response[TalkRecorded]:
        interview_id, created = await ev.talk_interview(request.user, score_id, data)
        return Response(
            TalkRecorded(id=interview_id, client_id=data.client_id), status_code=201 if created else 200
        )
