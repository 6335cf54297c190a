"""Education hours over HTTP: an admin imports the training system's file; a person reads their
hours and marks a lesson studied."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, MultipartBody
from sqlalchemy.ext.asyncio import AsyncSession

from backend.education.models import EducationImport, EducationPublic, MyEducation
from backend.education.service import EducationService
from backend.kernel.access import Principal, Role, requires
from backend.kernel.web import DataForm, sent_file


async def provide_education(db_session: NamedDependency[AsyncSession], state: State) -> EducationService:
    return EducationService(db_session, state.trail, state.settings)


class EducationController(Controller):
    path = "/api/education"
    tags = ["education"]
    dependencies = {"education": Provide(provide_education)}
    guards = [requires()]

    @get("/mine", summary="My integrity education hours of the last twelve months, and the records")
    async def mine(
        self, education: NamedDependency[EducationService], request: Request[Principal, Any, Any]
    ) -> MyEducation:
        return await education.mine(request.user)

    @post(
        "/import",
        guards=[requires(Role.admin)],
        status_code=200,
        summary="Import education hours (employee_no, studied_on, hours, title): all rows or none (admin)",
    )
    async def import_file(
        self,
        education: NamedDependency[EducationService],
        request: Request[Principal, Any, Any],
        data: MultipartBody[DataForm],
    ) -> EducationImport:
        upload = sent_file(data.data, "data")
        return await education.import_file(request.user.actor, upload.filename, await upload.read())

    @post(
        "/lessons/{broadcast_id:int}",
        status_code=200,
        summary="Mark a lesson I received as studied: its hours are credited to me once",
    )
    async def studied(
        self,
        broadcast_id: FromPath[int],
        education: NamedDependency[EducationService],
        request: Request[Principal, Any, Any],
    ) -> EducationPublic:
        return await education.studied(request.user, broadcast_id)
