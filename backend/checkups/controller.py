"""Check-up API under ``/api/checkups``: the person's own questionnaire (phone and bot), campaign
administration, inspectors' individual results and form B.2, aggregates, care measures."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from backend.checkups.crypto import Sealer
from backend.checkups.export import b2_workbook
from backend.checkups.models import (
    Aggregates,
    AnswersUpdate,
    CampaignCreate,
    CampaignProgress,
    CampaignPublic,
    CareCreate,
    CareOutcome,
    CarePublic,
    CareStatus,
    CountReport,
    MyCampaign,
    MyCheckup,
    NoticePublic,
    PolicyCreate,
    PolicyPublic,
    QuestionnaireCreate,
    QuestionnairePublic,
    RegradeRequest,
    ReopenRequest,
    ResultPublic,
    ResultRow,
    SaveReport,
)
from backend.checkups.service import CheckupService
from backend.kernel.access import Principal, Role, requires

ADMIN = [requires(Role.admin)]
INSPECTOR = [requires(Role.inspector)]
FIGURES = [requires(Role.admin, Role.committee, Role.inspector, Role.head)]


class Grouping(StrEnum):
    unit = "unit"
    post = "post"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def provide_checkups(db_session: NamedDependency[AsyncSession], state: State) -> CheckupService:
    return CheckupService(db_session, state.trail, Sealer.from_settings(state.settings))


def _questionnaire(q: Any) -> QuestionnairePublic:
    return QuestionnairePublic.model_validate(q, from_attributes=True)


class CheckupController(Controller):
    path = "/api/checkups"
    tags = ["check-ups"]
    dependencies = {"checkups": Provide(provide_checkups)}
    guards = [requires()]

    # --- my check-up (phone, bot) --------------------------------------------------------------
    @get("/mine", summary="My check-up campaigns with status and progress")
    async def my_campaigns(
        self, checkups: NamedDependency[CheckupService], request: Request[Principal, Any, Any]
    ) -> list[MyCampaign]:
        return await checkups.my_campaigns(request.user)

    @get("/mine/{campaign_id:int}", summary="My questionnaire with saved answers; next_index = resume here")
    async def my_checkup(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> MyCheckup:
        return await checkups.my_checkup(campaign_id, request.user)

    @put(
        "/mine/{campaign_id:int}/answers",
        summary="Save answers as given (one or many; null clears one); all or nothing",
    )
    async def save_answers(
        self,
        campaign_id: FromPath[int],
        data: JSONBody[AnswersUpdate],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> SaveReport:
        return await checkups.save_answers(campaign_id, data, request.user)

    @post("/mine/{campaign_id:int}/submit", status_code=200, summary="Submit once: graded at once")
    async def submit(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> ResultPublic:
        return await checkups.submit(campaign_id, request.user)

    @get("/mine/{campaign_id:int}/result", summary="My profile: five dimensions, grades, why, care resources")
    async def my_result(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> ResultPublic:
        return await checkups.my_result(campaign_id, request.user)

    @get("/notices", summary="My check-up notices (invitations, reminders, reopenings)")
    async def notices(
        self,
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
        unread: FromQuery[bool] = False,
    ) -> list[NoticePublic]:
        return await checkups.my_notices(request.user, unread_only=unread)

    @post("/notices/{notice_id:int}/read", status_code=200, summary="Mark one of my notices read")
    async def read_notice(
        self,
        notice_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> NoticePublic:
        return await checkups.mark_read(notice_id, request.user)

    # --- questionnaires and policies (admin) ---------------------------------------------------
    @get("/questionnaires", guards=ADMIN, summary="Questionnaire versions (admin)")
    async def list_questionnaires(
        self, checkups: NamedDependency[CheckupService]
    ) -> list[QuestionnairePublic]:
        return [_questionnaire(q) for q in await checkups.list_questionnaires()]

    @post("/questionnaires", guards=ADMIN, summary="Add a questionnaire version (frozen once added)")
    async def create_questionnaire(
        self,
        data: JSONBody[QuestionnaireCreate],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> QuestionnairePublic:
        return _questionnaire(await checkups.create_questionnaire(data, request.user.actor))

    @get("/questionnaires/{questionnaire_id:int}", guards=ADMIN, summary="One questionnaire version")
    async def get_questionnaire(
        self, questionnaire_id: FromPath[int], checkups: NamedDependency[CheckupService]
    ) -> QuestionnairePublic:
        return _questionnaire(await checkups.questionnaire(questionnaire_id))

    @get("/policies", summary="Grading policies (weights, cut-offs), newest = in force")
    async def list_policies(self, checkups: NamedDependency[CheckupService]) -> list[PolicyPublic]:
        return [PolicyPublic.model_validate(p, from_attributes=True) for p in await checkups.list_policies()]

    @post(
        "/policies", guards=ADMIN, summary="Set new weights and cut-offs (a new version; weights add up to 1)"
    )
    async def create_policy(
        self,
        data: JSONBody[PolicyCreate],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> PolicyPublic:
        policy = await checkups.create_policy(data, request.user.actor)
        return PolicyPublic.model_validate(policy, from_attributes=True)

    # --- campaigns -----------------------------------------------------------------------------
    @post("/campaigns", guards=ADMIN, summary="Open a campaign for units (subtrees) with a window (admin)")
    async def create_campaign(
        self,
        data: JSONBody[CampaignCreate],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CampaignPublic:
        return await checkups.create_campaign(data, request.user.actor)

    @get("/campaigns", guards=FIGURES, summary="Campaigns (admin, committee, inspectors, heads)")
    async def list_campaigns(
        self, checkups: NamedDependency[CheckupService], year: FromQuery[int | None] = None
    ) -> list[CampaignPublic]:
        return await checkups.list_campaigns(year)

    @get("/campaigns/{campaign_id:int}", guards=FIGURES, summary="One campaign")
    async def get_campaign(
        self, campaign_id: FromPath[int], checkups: NamedDependency[CheckupService]
    ) -> CampaignPublic:
        return await checkups.campaign_public(await checkups.campaign(campaign_id))

    @get("/campaigns/{campaign_id:int}/progress", guards=FIGURES, summary="Completion per unit in my scope")
    async def progress(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CampaignProgress:
        return await checkups.progress(campaign_id, request.user)

    @post(
        "/campaigns/{campaign_id:int}/remind",
        guards=[requires(Role.admin, Role.inspector)],
        status_code=200,
        summary="Remind those not done (admin: all; inspector: own subtree)",
    )
    async def remind(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CountReport:
        count = await checkups.remind(campaign_id, request.user)
        return CountReport(count=count, detail=f"{count} reminder(s) sent")

    @post(
        "/campaigns/{campaign_id:int}/participants/sync",
        guards=ADMIN,
        status_code=200,
        summary="Add people who joined the target units since the campaign opened (admin)",
    )
    async def sync_participants(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CountReport:
        count = await checkups.sync_participants(campaign_id, request.user.actor)
        return CountReport(count=count, detail=f"{count} participant(s) added")

    @post(
        "/campaigns/{campaign_id:int}/reopen",
        guards=ADMIN,
        status_code=200,
        summary="Reopen one person's check-up until a date, with a reason (admin)",
    )
    async def reopen(
        self,
        campaign_id: FromPath[int],
        data: JSONBody[ReopenRequest],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CountReport:
        response = await checkups.reopen(campaign_id, data, request.user.actor)
        return CountReport(count=1, detail=f"reopened until {response.reopened_until:%Y-%m-%d %H:%M} UTC")

    @post(
        "/campaigns/{campaign_id:int}/regrade",
        guards=ADMIN,
        status_code=200,
        summary="Grade submitted check-ups again under a policy: new dated results (admin)",
    )
    async def regrade(
        self,
        campaign_id: FromPath[int],
        data: JSONBody[RegradeRequest],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CountReport:
        count = await checkups.regrade(campaign_id, data.policy_id, request.user.actor)
        return CountReport(count=count, detail=f"{count} result(s) graded again")

    # --- individual results (inspectors of the unit, or the person) ----------------------------
    @get(
        "/campaigns/{campaign_id:int}/results",
        guards=INSPECTOR,
        summary="Each person's status and current grade in my subtree (inspectors)",
    )
    async def results(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
        unit_id: FromQuery[int | None] = None,
    ) -> list[ResultRow]:
        return await checkups.inspector_results(campaign_id, request.user, unit_id)

    @get(
        "/campaigns/{campaign_id:int}/people/{person_id:int}/results",
        summary="One person's dated results, newest first (the person or inspectors of their unit)",
    )
    async def person_results(
        self,
        campaign_id: FromPath[int],
        person_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> list[ResultPublic]:
        return await checkups.person_results(campaign_id, person_id, request.user)

    @get(
        "/campaigns/{campaign_id:int}/b2.xlsx",
        guards=INSPECTOR,
        summary="Form B.2, the psychological list, for my subtree or one unit in it (inspectors)",
    )
    async def b2(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
        unit_id: FromQuery[int | None] = None,
    ) -> Response[bytes]:
        campaign, rows, notes = await checkups.b2_rows(campaign_id, request.user, unit_id)
        units = await checkups.org.units()
        unit = units.get(unit_id if unit_id is not None else request.user.unit_id)
        content = b2_workbook(campaign, unit.name if unit else "", rows, notes)
        name = f"B2-{campaign.year}-{unit.code if unit else 'all'}.xlsx"
        return Response(
            content,
            media_type=XLSX,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        )

    # --- aggregates ----------------------------------------------------------------------------
    @get(
        "/campaigns/{campaign_id:int}/aggregates",
        guards=FIGURES,
        summary="Averages and grade counts by unit or post; cells under 5 people suppressed",
    )
    async def aggregates(
        self,
        campaign_id: FromPath[int],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
        by: FromQuery[Grouping] = Grouping.unit,
    ) -> Aggregates:
        return await checkups.aggregates(campaign_id, request.user, by.value)

    # --- care measures -------------------------------------------------------------------------
    @post("/care", guards=INSPECTOR, summary="Assign a care measure to a head or inspector (inspectors)")
    async def create_care(
        self,
        data: JSONBody[CareCreate],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CarePublic:
        return await checkups.create_care(data, request.user)

    @get("/care", summary="Care measures: assigned to me, and (inspectors) in my subtree")
    async def list_care(
        self,
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
        status: FromQuery[CareStatus | None] = None,
        campaign_id: FromQuery[int | None] = None,
    ) -> list[CarePublic]:
        return await checkups.list_care(request.user, status, campaign_id)

    @post("/care/{care_id:int}/outcome", status_code=200, summary="Record the outcome and close the measure")
    async def close_care(
        self,
        care_id: FromPath[int],
        data: JSONBody[CareOutcome],
        checkups: NamedDependency[CheckupService],
        request: Request[Principal, Any, Any],
    ) -> CarePublic:
        return await checkups.close_care(care_id, data, request.user)
