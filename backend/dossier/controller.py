"""The personal integrity archive over HTTP: the page's data and the one-PDF export."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from backend.dossier.pdf import dossier_pdf
from backend.dossier.service import Dossier, DossierService, dossier_rows
from backend.kernel.access import Principal, requires


async def provide_dossier(db_session: NamedDependency[AsyncSession], state: State) -> DossierService:
    return DossierService(db_session, state.trail, state.settings)


class DossierController(Controller):
    path = "/api/dossier"
    tags = ["integrity archive"]
    dependencies = {"dossier": Provide(provide_dossier)}
    guards = [requires()]

    @get("/{person_id:int}", summary="A person's integrity archive, as far as I may see it")
    async def read(
        self,
        person_id: FromPath[int],
        dossier: NamedDependency[DossierService],
        request: Request[Principal, Any, Any],
    ) -> Dossier:
        return await dossier.assemble(request.user, person_id)

    @get("/{person_id:int}/pdf", summary="The archive as one PDF (in the trail)")
    async def pdf(
        self,
        person_id: FromPath[int],
        dossier: NamedDependency[DossierService],
        request: Request[Principal, Any, Any],
    ) -> Response[bytes]:
        content = await dossier.export(request.user, person_id, dossier_pdf, dossier_rows)
        return Response(
            content,
            media_type="application/pdf",
            headers={
                "Cache-Control": "private, no-store",
                "Content-Disposition": 'inline; filename="dossier.pdf"',
            },
        )
