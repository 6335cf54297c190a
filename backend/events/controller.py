"""The in-app notification list: what each person was told, newest first."""

from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.serialization import encode_json
from sqlalchemy.ext.asyncio import AsyncSession

from backend.events.models import NotificationPage
from backend.events.service import NotificationService
from backend.events.subjects import describe
from backend.kernel.access import Principal, requires
from backend.kernel.onehop import small_reads


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ["notifications"]
    guards = [requires()]

    @get("/", summary="My notifications, newest first")
    async def list_mine(
        self,
        db_session: NamedDependency[AsyncSession],
        request: Request[Principal, Any, Any],
        unread: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        lang: Annotated[str, QueryParameter(max_length=16)] = "zh-CN",
    ) -> Response[NotificationPage]:
        svc = NotificationService(db_session)
        with small_reads():  # a page of one person's rows by index, and what they are about by key
            page = await svc.page(request.user.person_id, unread_only=unread, limit=limit, offset=offset)
            await describe(db_session, page["items"], "en" if lang.lower().startswith("en") else "zh-CN")
        # NotificationPage's JSON from plain values (no model made and dumped per notification)
        return Response(cast(NotificationPage, encode_json(page)), media_type=MediaType.JSON)

    @post("/{notification_id:int}/read", status_code=204, summary="Mark one of my notifications read")
    async def mark_read(
        self,
        notification_id: FromPath[int],
        db_session: NamedDependency[AsyncSession],
        request: Request[Principal, Any, Any],
    ) -> None:
        with small_reads():
            await NotificationService(db_session).mark_read(request.user.person_id, notification_id)
