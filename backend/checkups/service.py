"""Integrity check-up rules: questionnaires, policies, campaigns, answering, grading, outputs,
care measures. Every query and commit of the domain is here.

Who sees an individual's answers, scores and grades: the person, and discipline inspectors whose
subtree holds the person's unit (as taken when the campaign opened). Everyone else gets
aggregates (``aggregates``), with cells under five people suppressed. Each read of individual data
is an act in the trail; the trail never holds an answer, a note, a score or a grade. Going through
my own questionnaire one statement at a time (``next_step``, ``answer_at``) shows no answer and so
records no read; every answer saved is recorded as a change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.checkups.content import resources_for
from backend.checkups.crypto import Sealer
from backend.checkups.models import (
    CARE_KINDS,
    Aggregates,
    AnswersUpdate,
    CampaignCreate,
    CampaignProgress,
    CampaignPublic,
    CareCreate,
    CareOutcome,
    CarePublic,
    CareStatus,
    Cell,
    CheckupCampaign,
    CheckupCare,
    CheckupNotice,
    CheckupPolicy,
    CheckupQuestionnaire,
    CheckupResponse,
    CheckupResult,
    CheckupStep,
    Item,
    MyCampaign,
    MyCheckup,
    NoticePublic,
    PolicyCreate,
    QuestionnaireCreate,
    QuestionView,
    ReopenRequest,
    ResponseStatus,
    ResultPublic,
    ResultRow,
    SaveReport,
    ScaleLabel,
    UnitProgress,
)
from backend.checkups.notify import Message, Notifier, default_notifier
from backend.checkups.orgport import OrgPort
from backend.checkups.scoring import (
    MIN_CELL,
    care_suggestions,
    check_policy,
    dimension_scores,
    evaluate,
    explain,
    small_counts_hidden,
    summarise,
    suppressed_keys,
    years_between,
)
from backend.kernel.access import Actor, Principal, Role
from backend.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from backend.kernel.timeutil import local, utcnow

POWER = "checkup"
#: fresh reads a save or submit makes when other saves keep coming in between (then 409)
STALE_RETRIES = 5
T = TypeVar("T")
POWER_READ = "checkup.read_individual"
SAVED_AS_YOU_GO = "Answers are saved as you go; you can stop and resume."


def window_of(campaign: CheckupCampaign, now: datetime) -> str:
    if now < campaign.opens_at:
        return "scheduled"
    if now <= campaign.closes_at:
        return "open"
    if campaign.late_until is not None and now <= campaign.late_until:
        return "late"
    return "closed"


def inspects(principal: Principal, unit_id: int) -> bool:
    """A discipline inspector whose subtree holds ``unit_id``."""
    return principal.has(Role.inspector) and unit_id in principal.subtree_unit_ids


def _response_aad(r: CheckupResponse) -> str:
    return f"checkup-response:{r.id}:{r.person_id}"


def _result_aad(response_id: int, person_id: int) -> str:
    return f"checkup-result:{response_id}:{person_id}"


def _care_aad(person_id: int) -> str:
    return f"checkup-care:{person_id}"


def _question(index: int, item: Item, answer: int | None) -> QuestionView:
    return QuestionView(
        index=index,
        code=item.code,
        dimension=item.dimension,
        text_zh=item.text_zh,
        text_en=item.text_en,
        answer=answer,
    )


class CheckupService:
    def __init__(
        self,
        session: AsyncSession,
        trail: AuditTrail,
        sealer: Sealer,
        notifier: Notifier | None = None,
    ) -> None:
        self.session = session
        self.trail = trail
        self.sealer = sealer
        self.notifier = notifier or default_notifier()
        self.org = OrgPort(session, trail)

    async def _record(
        self,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: object,
        *,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        power: str = POWER,
    ) -> None:
        await self.trail.record(
            self.session,
            actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            old=old,
            new=new,
            power=power,
        )

    async def _tell(
        self,
        person_ids: Iterable[int],
        kind: str,
        campaign: CheckupCampaign,
        title: tuple[str, str],
        body: tuple[str, str],
        due_at: datetime | None = None,
    ) -> int:
        """Through the notifier (in-app until the delivery layer lands): (zh, en) title and body."""
        due = due_at or campaign.late_until or campaign.closes_at
        message = Message(kind, campaign.id, title[0], title[1], body[0], body[1], due)
        return await self.notifier.send(self.session, person_ids, message)

    # --- questionnaires ------------------------------------------------------------------------
    async def create_questionnaire(self, data: QuestionnaireCreate, actor: Actor) -> CheckupQuestionnaire:
        latest = (
            await self.session.execute(
                select(func.max(CheckupQuestionnaire.version)).where(
                    col(CheckupQuestionnaire.code) == data.code
                )
            )
        ).scalar_one()
        q = CheckupQuestionnaire(
            code=data.code,
            version=int(latest or 0) + 1,
            title_zh=data.title_zh,
            title_en=data.title_en,
            scale=[s.model_dump() for s in data.scale],
            items=[i.model_dump(mode="json") for i in data.items],
            note_prompt_zh=data.note_prompt_zh,
            note_prompt_en=data.note_prompt_en,
            created_by=actor.person_id,
        )
        self.session.add(q)
        await self.session.flush()
        await self._record(
            actor,
            "checkup.questionnaire.create",
            "checkup_questionnaire",
            q.id,
            new={"code": q.code, "version": q.version, "items": len(q.items)},
        )
        await self.session.commit()
        return q

    async def list_questionnaires(self) -> list[CheckupQuestionnaire]:
        stmt = select(CheckupQuestionnaire).order_by(
            col(CheckupQuestionnaire.code), col(CheckupQuestionnaire.version).desc()
        )
        return list((await self.session.execute(stmt)).scalars())

    async def questionnaire(self, questionnaire_id: int) -> CheckupQuestionnaire:
        q = await self.session.get(CheckupQuestionnaire, questionnaire_id)
        if q is None:
            raise NotFound(f"questionnaire {questionnaire_id} does not exist", code="questionnaire_not_found")
        return q

    # --- grading policies ------------------------------------------------------------------------
    async def create_policy(self, data: PolicyCreate, actor: Actor, *, commit: bool = True) -> CheckupPolicy:
        check_policy(data)
        latest = (await self.session.execute(select(func.max(CheckupPolicy.version)))).scalar_one()
        values = data.model_dump(mode="json")
        policy = CheckupPolicy(**values, version=int(latest or 0) + 1, created_by=actor.person_id)
        self.session.add(policy)
        await self.session.flush()
        await self._record(
            actor,
            "checkup.policy.create",
            "checkup_policy",
            policy.id,
            new={**values, "version": policy.version},
        )
        if commit:
            await self.session.commit()
        return policy

    async def list_policies(self) -> list[CheckupPolicy]:
        stmt = select(CheckupPolicy).order_by(col(CheckupPolicy.version).desc())
        return list((await self.session.execute(stmt)).scalars())

    async def current_policy(self) -> CheckupPolicy | None:
        stmt = select(CheckupPolicy).order_by(col(CheckupPolicy.version).desc()).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def _policy_in_force(self) -> CheckupPolicy:
        policy = await self.current_policy()
        if policy is None:
            raise Conflict(
                "no grading policy yet: an admin sets weights and cut-offs first (checkups/policies)",
                code="no_policy",
            )
        return policy

    async def _policy(self, policy_id: int) -> CheckupPolicy:
        policy = await self.session.get(CheckupPolicy, policy_id)
        if policy is None:
            raise NotFound(f"grading policy {policy_id} does not exist", code="policy_not_found")
        return policy

    # --- campaigns -------------------------------------------------------------------------------
    async def create_campaign(self, data: CampaignCreate, actor: Actor) -> CampaignPublic:
        if await self.session.get(CheckupQuestionnaire, data.questionnaire_id) is None:
            raise Invalid(
                f"questionnaire {data.questionnaire_id} does not exist",
                code="unknown_questionnaire",
                extra={"field": "questionnaire_id"},
            )
        if data.closes_at <= data.opens_at:
            raise Invalid(
                "closes_at must be after opens_at", code="window_invalid", extra={"field": "closes_at"}
            )
        if data.late_until is not None and data.late_until < data.closes_at:
            raise Invalid(
                "late_until must not be before closes_at",
                code="window_invalid",
                extra={"field": "late_until"},
            )
        roots: list[int] = []
        for code in data.unit_codes:
            unit = await self.org.unit_by_code(code)
            if unit is None or unit.id is None:
                raise Invalid(
                    f"unit {code!r} does not exist", code="unknown_unit", extra={"field": "unit_codes"}
                )
            roots.append(unit.id)
        campaign = CheckupCampaign(
            year=data.year,
            title=data.title,
            questionnaire_id=data.questionnaire_id,
            opens_at=data.opens_at,
            closes_at=data.closes_at,
            late_until=data.late_until,
            unit_ids=sorted(set(roots)),
            created_by=actor.person_id,
        )
        self.session.add(campaign)
        await self.session.flush()
        added = await self._add_participants(campaign)
        await self._record(
            actor,
            "checkup.campaign.open",
            "checkup_campaign",
            campaign.id,
            new={
                "year": campaign.year,
                "title": campaign.title,
                "questionnaire_id": campaign.questionnaire_id,
                "opens_at": campaign.opens_at,
                "closes_at": campaign.closes_at,
                "late_until": campaign.late_until,
                "unit_ids": campaign.unit_ids,
                "participants": len(added),
            },
        )
        await self.session.commit()
        return await self.campaign_public(campaign)

    async def _add_participants(self, campaign: CheckupCampaign) -> list[int]:
        assert campaign.id is not None
        have = set(
            (
                await self.session.execute(
                    select(col(CheckupResponse.person_id)).where(
                        col(CheckupResponse.campaign_id) == campaign.id
                    )
                )
            ).scalars()
        )
        people = await self.org.people_under(campaign.unit_ids)
        added = [p for pid, p in sorted(people.items()) if p.active and pid not in have]
        for p in added:
            self.session.add(
                CheckupResponse(
                    campaign_id=campaign.id, person_id=p.id, unit_id=p.unit_id, post_code=p.post_code
                )
            )
        await self.session.flush()
        if added:
            until = f"{local(campaign.closes_at):%Y-%m-%d %H:%M}"
            await self._tell(
                [p.id for p in added],
                "invitation",
                campaign,
                (f"请参加{campaign.title}", f"Please take part: {campaign.title}"),
                (
                    f"廉洁体检问卷已开放，截止时间 {until}。答题随时保存，可中断后继续。",
                    f"The check-up is open until {until} (Beijing time). {SAVED_AS_YOU_GO}",
                ),
                due_at=campaign.closes_at,
            )
        return [p.id for p in added]

    async def sync_participants(self, campaign_id: int, actor: Actor) -> int:
        campaign = await self.campaign(campaign_id)
        added = await self._add_participants(campaign)
        if added:
            await self._record(
                actor,
                "checkup.campaign.participants_added",
                "checkup_campaign",
                campaign.id,
                new={"person_ids": added},
            )
        await self.session.commit()
        return len(added)

    async def campaign(self, campaign_id: int) -> CheckupCampaign:
        c = await self.session.get(CheckupCampaign, campaign_id)
        if c is None:
            raise NotFound(f"campaign {campaign_id} does not exist", code="campaign_not_found")
        return c

    async def campaign_public(self, c: CheckupCampaign) -> CampaignPublic:
        counts: dict[str, int] = dict(
            (
                await self.session.execute(
                    select(col(CheckupResponse.status), func.count())
                    .where(col(CheckupResponse.campaign_id) == c.id)
                    .group_by(CheckupResponse.status)
                )
            ).all()
        )
        return CampaignPublic(
            id=c.id or 0,
            year=c.year,
            title=c.title,
            questionnaire_id=c.questionnaire_id,
            opens_at=c.opens_at,
            closes_at=c.closes_at,
            late_until=c.late_until,
            unit_ids=list(c.unit_ids),
            window=window_of(c, utcnow()),
            participants=int(sum(counts.values())),
            submitted=int(counts.get(ResponseStatus.submitted, 0)),
        )

    async def list_campaigns(self, year: int | None = None) -> list[CampaignPublic]:
        stmt = select(CheckupCampaign).order_by(
            col(CheckupCampaign.opens_at).desc(), col(CheckupCampaign.id).desc()
        )
        if year is not None:
            stmt = stmt.where(col(CheckupCampaign.year) == year)
        return [await self.campaign_public(c) for c in (await self.session.execute(stmt)).scalars()]

    @staticmethod
    def _unit_scope(principal: Principal) -> frozenset[int] | None:
        """Units whose completion and aggregates the caller sees; ``None`` = every unit."""
        if principal.has(Role.committee, Role.admin):
            return None
        if principal.has(Role.inspector, Role.head):
            return principal.subtree_unit_ids
        raise Forbidden(
            "Campaign figures are for admins, committee, inspectors and heads.", code="role_required"
        )

    async def _responses(self, campaign_id: int, units: frozenset[int] | None) -> list[CheckupResponse]:
        stmt = select(CheckupResponse).where(col(CheckupResponse.campaign_id) == campaign_id)
        if units is not None:
            stmt = stmt.where(col(CheckupResponse.unit_id).in_(sorted(units)))
        return list((await self.session.execute(stmt.order_by(col(CheckupResponse.id)))).scalars())

    async def progress(self, campaign_id: int, principal: Principal) -> CampaignProgress:
        campaign = await self.campaign(campaign_id)
        responses = await self._responses(campaign_id, self._unit_scope(principal))
        units = await self.org.units()
        by_unit: dict[int, list[CheckupResponse]] = {}
        for r in responses:
            by_unit.setdefault(r.unit_id, []).append(r)
        rows = []
        for unit_id, rs in sorted(by_unit.items(), key=lambda kv: units[kv[0]].path + str(kv[0])):
            done = sum(1 for r in rs if r.status == ResponseStatus.submitted)
            rows.append(
                UnitProgress(
                    unit_id=unit_id,
                    unit_code=units[unit_id].code,
                    unit_name=units[unit_id].name,
                    participants=len(rs),
                    submitted=done,
                    in_progress=sum(1 for r in rs if r.status == ResponseStatus.in_progress),
                    pending=sum(1 for r in rs if r.status == ResponseStatus.pending),
                    late=sum(1 for r in rs if r.late),
                    rate=round(done / len(rs), 3),
                )
            )
        total = len(responses)
        submitted = sum(u.submitted for u in rows)
        return CampaignProgress(
            campaign_id=campaign_id,
            window=window_of(campaign, utcnow()),
            units=rows,
            participants=total,
            submitted=submitted,
            rate=round(submitted / total, 3) if total else 0.0,
        )

    async def remind(self, campaign_id: int, principal: Principal) -> int:
        """Remind everyone in the caller's scope who has not submitted (admin: everyone)."""
        campaign = await self.campaign(campaign_id)
        if window_of(campaign, utcnow()) in {"scheduled", "closed"}:
            raise Conflict(
                "reminders go out only while the campaign takes answers", code="campaign_not_answerable"
            )
        scope = None if principal.has(Role.admin) else self._unit_scope(principal)
        count = await self._remind(campaign, scope, principal.actor)
        await self.session.commit()
        return count

    async def remind_all(self, actor: Actor) -> dict[int, int]:
        """Remind everyone not done in every campaign that takes answers now (for a schedule), once
        per campaign and local day: the day is claimed by a conditional UPDATE before anyone is told
        and commits with the reminders, so two processes running the schedule at once (or a run
        again after a crash) remind no one twice."""
        now = utcnow()
        today = local(now).date()
        sent = {}
        for campaign in (await self.session.execute(select(CheckupCampaign))).scalars().all():
            if (
                window_of(campaign, now) in {"open", "late"}
                and campaign.id is not None
                and await self._claim_reminder_day(campaign.id, today)
            ):
                sent[campaign.id] = await self._remind(campaign, None, actor)
        await self.session.commit()
        return sent

    async def _claim_reminder_day(self, campaign_id: int, today: date) -> bool:
        claimed = await self.session.execute(
            update(CheckupCampaign)
            .where(
                col(CheckupCampaign.id) == campaign_id,
                or_(col(CheckupCampaign.reminded_on).is_(None), col(CheckupCampaign.reminded_on) < today),
            )
            .values(reminded_on=today)
            .execution_options(synchronize_session=False)
        )
        return claimed.rowcount == 1  # type: ignore[attr-defined]

    async def _remind(self, campaign: CheckupCampaign, scope: frozenset[int] | None, actor: Actor) -> int:
        assert campaign.id is not None
        responses = await self._responses(campaign.id, scope)
        waiting = [r.person_id for r in responses if r.status != ResponseStatus.submitted]
        until = f"{local(campaign.late_until or campaign.closes_at):%Y-%m-%d %H:%M}"
        count = await self._tell(
            waiting,
            "reminder",
            campaign,
            (f"提醒：{campaign.title}尚未完成", f"Reminder: {campaign.title} is not done yet"),
            (
                f"请在 {until} 前完成廉洁体检问卷，已答内容已为你保存。",
                f"Please finish the check-up before {until} (Beijing time); what you answered is saved.",
            ),
        )
        await self._record(
            actor,
            "checkup.campaign.remind",
            "checkup_campaign",
            campaign.id,
            new={"reminded": count, "scope_unit_ids": None if scope is None else sorted(scope)},
        )
        return count

    async def reopen(self, campaign_id: int, data: ReopenRequest, actor: Actor) -> CheckupResponse:
        """Let one person answer (again) until ``data.until``, with a reason; kept in the trail."""
        campaign = await self.campaign(campaign_id)
        response = await self._response_of(campaign_id, data.person_id)
        if response is None:
            raise NotFound(
                f"person {data.person_id} is not a participant of campaign {campaign_id}",
                code="participant_not_found",
            )
        if data.until <= utcnow():
            raise Invalid("until must be in the future", code="reopen_until_past", extra={"field": "until"})
        old = {"status": response.status, "reopened_until": response.reopened_until}
        if response.status == ResponseStatus.submitted:
            response.status = ResponseStatus.in_progress
        response.reopened_until = data.until
        response.reopen_reason = data.reason
        await self._record(
            actor,
            "checkup.response.reopen",
            "checkup_response",
            response.id,
            old=old,
            new={"status": response.status, "reopened_until": data.until, "reason": data.reason},
        )
        until = f"{local(data.until):%Y-%m-%d %H:%M}"
        await self._tell(
            [response.person_id],
            "reopened",
            campaign,
            (f"{campaign.title}已为你重新开放", f"{campaign.title} has been reopened for you"),
            (
                f"你可以在 {until} 前修改并重新提交问卷。",
                f"You may change and resubmit your answers until {until} (Beijing time).",
            ),
            due_at=data.until,
        )
        await self.session.commit()
        return response

    # --- answering -------------------------------------------------------------------------------
    async def _response_of(
        self, campaign_id: int, person_id: int, *, lock: bool = False
    ) -> CheckupResponse | None:
        stmt = select(CheckupResponse).where(
            col(CheckupResponse.campaign_id) == campaign_id, col(CheckupResponse.person_id) == person_id
        )
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def _mine(self, campaign_id: int, principal: Principal, *, lock: bool = False) -> CheckupResponse:
        response = await self._response_of(campaign_id, principal.person_id, lock=lock)
        if response is None:
            raise NotFound(f"you have no check-up in campaign {campaign_id}", code="checkup_not_found")
        return response

    def _opened(self, response: CheckupResponse) -> dict[str, Any]:
        if response.sealed is None:
            return {"answers": {}, "note": None}
        value: dict[str, Any] = self.sealer.open(response.sealed, _response_aad(response))
        return value

    @staticmethod
    def deadline(campaign: CheckupCampaign, response: CheckupResponse) -> datetime:
        ends = campaign.late_until or campaign.closes_at
        if response.reopened_until is not None and response.reopened_until > ends:
            return response.reopened_until
        return ends

    @staticmethod
    def _answerable(campaign: CheckupCampaign, response: CheckupResponse, now: datetime) -> str | None:
        """``None`` if the person may answer now, else the error code."""
        if response.status == ResponseStatus.submitted:
            return "already_submitted"
        if response.reopened_until is not None and now <= response.reopened_until:
            return None
        window = window_of(campaign, now)
        if window == "scheduled":
            return "campaign_not_open"
        if window == "closed":
            return "campaign_closed"
        return None

    def _check_answerable(self, campaign: CheckupCampaign, response: CheckupResponse, now: datetime) -> None:
        problem = self._answerable(campaign, response, now)
        if problem == "already_submitted":
            raise Conflict(
                "you have already submitted this check-up; an admin can reopen it with a reason",
                code="already_submitted",
            )
        if problem == "campaign_not_open":
            raise Conflict(
                f"this check-up opens at {local(campaign.opens_at):%Y-%m-%d %H:%M}", code="campaign_not_open"
            )
        if problem == "campaign_closed":
            raise Conflict(
                "this check-up is closed; an admin can reopen it for you with a reason",
                code="campaign_closed",
            )

    @staticmethod
    def _next_index(items: Sequence[Item], answers: dict[str, int]) -> int | None:
        return next((i for i, item in enumerate(items) if item.code not in answers), None)

    async def my_campaigns(self, principal: Principal) -> list[MyCampaign]:
        rows = (
            await self.session.execute(
                select(CheckupResponse, CheckupCampaign, CheckupQuestionnaire)
                .join(CheckupCampaign, col(CheckupCampaign.id) == CheckupResponse.campaign_id)
                .join(CheckupQuestionnaire, col(CheckupQuestionnaire.id) == CheckupCampaign.questionnaire_id)
                .where(col(CheckupResponse.person_id) == principal.person_id)
                .order_by(col(CheckupCampaign.opens_at).desc(), col(CheckupCampaign.id).desc())
            )
        ).all()
        now = utcnow()
        return [
            MyCampaign(
                campaign_id=c.id or 0,
                title=c.title,
                year=c.year,
                status=r.status,
                window=window_of(c, now),
                answered=r.answered,
                total=len(q.items),
                deadline=self.deadline(c, r),
            )
            for r, c, q in rows
        ]

    async def my_checkup(self, campaign_id: int, principal: Principal) -> MyCheckup:
        response = await self._mine(campaign_id, principal)
        campaign = await self.campaign(campaign_id)
        q = await self.questionnaire(campaign.questionnaire_id)
        items = q.item_list()
        saved = self._opened(response)
        answers: dict[str, int] = saved["answers"]
        await self._record(
            principal.actor,
            "checkup.answers.read",
            "checkup_response",
            response.id,
            new={"person_id": response.person_id, "campaign_id": campaign_id, "reader": "self"},
            power=POWER_READ,
        )
        await self.session.commit()
        return MyCheckup(
            campaign_id=campaign_id,
            campaign_title=campaign.title,
            year=campaign.year,
            status=response.status,
            window=window_of(campaign, utcnow()),
            can_answer=self._answerable(campaign, response, utcnow()) is None,
            deadline=self.deadline(campaign, response),
            questionnaire_id=q.id or 0,
            questionnaire_version=q.version,
            title_zh=q.title_zh,
            title_en=q.title_en,
            scale=[ScaleLabel.model_validate(s) for s in q.scale],
            questions=[_question(i, item, answers.get(item.code)) for i, item in enumerate(items)],
            answered=len(answers),
            total=len(items),
            next_index=self._next_index(items, answers),
            note_prompt_zh=q.note_prompt_zh,
            note_prompt_en=q.note_prompt_en,
            note=saved.get("note"),
            late=response.late,
            reopened_until=response.reopened_until,
        )

    def _step(
        self,
        campaign: CheckupCampaign,
        q: CheckupQuestionnaire,
        response: CheckupResponse,
        answers: dict[str, int],
    ) -> CheckupStep:
        items = q.item_list()
        index = self._next_index(items, answers)
        now = utcnow()
        return CheckupStep(
            campaign_id=campaign.id or 0,
            status=response.status,
            window=window_of(campaign, now),
            can_answer=self._answerable(campaign, response, now) is None,
            answered=len(answers),
            total=len(items),
            scale=[ScaleLabel.model_validate(s) for s in q.scale],
            question=None if index is None else _question(index, items[index], None),
        )

    async def next_step(self, campaign_id: int, principal: Principal) -> CheckupStep:
        """My own progress and the next statement to answer, without my answers: the person's
        own way through the questionnaire, so no power is exercised and nothing is recorded
        (compare :meth:`my_checkup`, which shows the answers given)."""
        response = await self._mine(campaign_id, principal)
        campaign = await self.campaign(campaign_id)
        q = await self.questionnaire(campaign.questionnaire_id)
        return self._step(campaign, q, response, self._opened(response)["answers"])

    async def _fresh(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (read the response, merge, write). The write is conditional on the
        response's version (``version_id_col``): if another save or a submit changed it after this
        read, nothing is written (StaleDataError) and the whole attempt runs again on a fresh
        read, so an answer saved meanwhile is merged, never overwritten."""
        for _ in range(STALE_RETRIES):
            try:
                return await attempt()
            except StaleDataError:
                await self.session.rollback()
        return await attempt()

    async def answer_at(self, campaign_id: int, index: int, value: int, principal: Principal) -> CheckupStep:
        """Answer the statement at ``index`` (0-based, in the campaign's questionnaire) with
        ``value`` (1..scale), saved and recorded as :meth:`save_answers` does; then the next step."""
        return await self._fresh(lambda: self._answer_at(campaign_id, index, value, principal))

    async def _answer_at(self, campaign_id: int, index: int, value: int, principal: Principal) -> CheckupStep:
        response, campaign, q = await self._answering(campaign_id, principal)
        items = q.item_list()
        if not 0 <= index < len(items):
            raise Invalid(
                f"there is no statement {index + 1} in this check-up (it has {len(items)})",
                code="unknown_position",
                extra={"index": index, "total": len(items)},
            )
        answers = await self._save(response, q, AnswersUpdate(answers={items[index].code: value}), principal)
        return self._step(campaign, q, response, answers)

    async def save_answers(self, campaign_id: int, data: AnswersUpdate, principal: Principal) -> SaveReport:
        """Merge answers as given. Everything is checked before anything is stored."""
        return await self._fresh(lambda: self._save_answers(campaign_id, data, principal))

    async def _save_answers(self, campaign_id: int, data: AnswersUpdate, principal: Principal) -> SaveReport:
        response, _campaign, q = await self._answering(campaign_id, principal)
        answers = await self._save(response, q, data, principal)
        items = q.item_list()
        return SaveReport(
            status=response.status,
            answered=len(answers),
            total=len(items),
            next_index=self._next_index(items, answers),
        )

    async def _answering(
        self, campaign_id: int, principal: Principal
    ) -> tuple[CheckupResponse, CheckupCampaign, CheckupQuestionnaire]:
        """My response, its campaign and questionnaire, once I may answer now. Not locked (SQLite
        has no row locks): the write checks the version instead (:meth:`_fresh`)."""
        response = await self._mine(campaign_id, principal)
        campaign = await self.campaign(campaign_id)
        self._check_answerable(campaign, response, utcnow())
        return response, campaign, await self.questionnaire(campaign.questionnaire_id)

    async def _save(
        self, response: CheckupResponse, q: CheckupQuestionnaire, data: AnswersUpdate, principal: Principal
    ) -> dict[str, int]:
        """Check, merge, seal, record and commit; the answers now saved."""
        known = {i.code for i in q.item_list()}
        points = len(q.scale)
        unknown = sorted(code for code in data.answers if code not in known)
        if unknown:
            raise Invalid(
                f"unknown item(s): {', '.join(unknown)}", code="unknown_item", extra={"items": unknown}
            )
        bad = sorted(code for code, v in data.answers.items() if v is not None and not 1 <= v <= points)
        if bad:
            raise Invalid(
                f"answers must be whole numbers from 1 to {points}; out of range: {', '.join(bad)}",
                code="answer_out_of_range",
                extra={"items": bad, "min": 1, "max": points},
            )
        now = utcnow()
        saved = self._opened(response)
        answers: dict[str, int] = dict(saved["answers"])
        for code, value in data.answers.items():
            if value is None:
                answers.pop(code, None)
            else:
                answers[code] = value
        if "note" in data.model_fields_set:
            saved["note"] = data.note or None
        saved["answers"] = answers
        response.sealed = self.sealer.seal(saved, _response_aad(response))
        response.answered = len(answers)
        if response.status == ResponseStatus.pending:
            response.status = ResponseStatus.in_progress
            response.started_at = now
        response.updated_at = now
        await self._record(
            principal.actor,
            "checkup.answers.save",
            "checkup_response",
            response.id,
            new={"answered": response.answered, "items_given": len(data.answers)},
        )
        await self.session.commit()
        return answers

    async def submit(self, campaign_id: int, principal: Principal) -> ResultPublic:
        """Grade the saved answers; graded again from a fresh read if a save came in between."""
        return await self._fresh(lambda: self._submit(campaign_id, principal))

    async def _submit(self, campaign_id: int, principal: Principal) -> ResultPublic:
        response, campaign, q = await self._answering(campaign_id, principal)
        now = utcnow()
        items = q.item_list()
        answers: dict[str, int] = self._opened(response)["answers"]
        missing = [i.code for i in items if i.code not in answers]
        if missing:
            raise Invalid(
                f"{len(missing)} question(s) not answered yet: {', '.join(missing)}",
                code="incomplete",
                extra={"items": missing},
            )
        policy = await self._policy_in_force()
        person = await self.org.person(response.person_id)
        post_risk = person.post_risk_value if person else None
        tenure = years_between(person.started_in_post if person else None, local(now).date())
        dims = dimension_scores(items, answers, len(q.scale))
        reason = "resubmit" if response.submissions else "submit"
        result = await self._grade(response, dims, post_risk, tenure, policy, reason, now)
        response.status = ResponseStatus.submitted
        response.submitted_at = now
        response.submissions += 1
        response.late = response.late or now > campaign.closes_at
        response.reopened_until = None
        response.updated_at = now
        await self._record(
            principal.actor,
            "checkup.submit",
            "checkup_response",
            response.id,
            new={
                "campaign_id": campaign_id,
                "submissions": response.submissions,
                "late": response.late,
                "result_id": result.id,
                "policy_id": policy.id,
            },
        )
        await self.session.commit()
        return self._public(result, self._payload(result), policy, with_resources=True)

    async def _grade(
        self,
        response: CheckupResponse,
        dims: dict[str, float],
        post_risk: float | None,
        tenure: float | None,
        policy: CheckupPolicy,
        reason: str,
        now: datetime,
    ) -> CheckupResult:
        assert response.id is not None and policy.id is not None
        previous = (
            await self.session.execute(
                select(CheckupResult).where(
                    col(CheckupResult.response_id) == response.id, col(CheckupResult.superseded_at).is_(None)
                )
            )
        ).scalars()
        for old in previous:
            old.superseded_at = now
        payload = evaluate(dims, post_risk, tenure, policy)
        result = CheckupResult(
            response_id=response.id,
            campaign_id=response.campaign_id,
            person_id=response.person_id,
            unit_id=response.unit_id,
            policy_id=policy.id,
            reason=reason,
            graded_at=now,
            sealed=self.sealer.seal(payload, _result_aad(response.id, response.person_id)),
        )
        self.session.add(result)
        await self.session.flush()
        return result

    async def regrade(self, campaign_id: int, policy_id: int | None, actor: Actor) -> int:
        """Grade every submitted response again under a policy: new dated results, old ones kept."""
        await self.campaign(campaign_id)
        policy = await self._policy(policy_id) if policy_id is not None else await self._policy_in_force()
        now = utcnow()
        current = (
            await self.session.execute(
                select(CheckupResult, CheckupResponse)
                .join(CheckupResponse, col(CheckupResponse.id) == CheckupResult.response_id)
                .where(
                    col(CheckupResult.campaign_id) == campaign_id, col(CheckupResult.superseded_at).is_(None)
                )
                .order_by(col(CheckupResult.id))
            )
        ).all()
        for result, response in current:
            before = self._payload(result)
            await self._grade(
                response,
                before["dimensions"],
                before["post_risk"] if before["post_risk_known"] else None,
                before["tenure_years"],
                policy,
                "regrade",
                now,
            )
        await self._record(
            actor,
            "checkup.campaign.regrade",
            "checkup_campaign",
            campaign_id,
            new={"policy_id": policy.id, "policy_version": policy.version, "results": len(current)},
        )
        await self.session.commit()
        return len(current)

    # --- individual results ----------------------------------------------------------------------
    def _payload(self, result: CheckupResult) -> dict[str, Any]:
        value: dict[str, Any] = self.sealer.open(
            result.sealed, _result_aad(result.response_id, result.person_id)
        )
        return value

    def _public(
        self, result: CheckupResult, payload: dict[str, Any], policy: CheckupPolicy, *, with_resources: bool
    ) -> ResultPublic:
        return ResultPublic(
            result_id=result.id or 0,
            campaign_id=result.campaign_id,
            person_id=result.person_id,
            unit_id=result.unit_id,
            graded_at=result.graded_at,
            reason=result.reason,
            current=result.superseded_at is None,
            superseded_at=result.superseded_at,
            dimensions=payload["dimensions"],
            psych_total=payload["psych_total"],
            psych_score=payload["psych_score"],
            psych_grade=payload["psych_grade"],
            post_risk=payload["post_risk"],
            post_risk_known=payload["post_risk_known"],
            tenure_years=payload["tenure_years"],
            tenure_score=payload["tenure_score"],
            composite=payload["composite"],
            composite_grade=payload["composite_grade"],
            risk_types=payload["risk_types"],
            care_suggestions=care_suggestions(payload["risk_types"]),  # type: ignore[arg-type]
            why=explain(payload, policy),
            resources=resources_for(payload["dimensions"], policy.psych_medium) if with_resources else [],
        )

    async def _results_of(self, response_id: int) -> list[CheckupResult]:
        stmt = (
            select(CheckupResult)
            .where(col(CheckupResult.response_id) == response_id)
            .order_by(col(CheckupResult.graded_at).desc(), col(CheckupResult.id).desc())
        )
        return list((await self.session.execute(stmt)).scalars())

    async def _publics(self, results: Iterable[CheckupResult], *, with_resources: bool) -> list[ResultPublic]:
        policies: dict[int, CheckupPolicy] = {}
        out = []
        for r in results:
            if r.policy_id not in policies:
                policies[r.policy_id] = await self._policy(r.policy_id)
            out.append(
                self._public(r, self._payload(r), policies[r.policy_id], with_resources=with_resources)
            )
        return out

    async def person_results(
        self, campaign_id: int, person_id: int, principal: Principal
    ) -> list[ResultPublic]:
        """All dated results of one person in a campaign, newest first: self or their inspectors."""
        response = await self._response_of(campaign_id, person_id)
        is_self = person_id == principal.person_id
        if response is None or not (is_self or inspects(principal, response.unit_id)):
            raise NotFound(
                f"no check-up result for person {person_id} in campaign {campaign_id} in your scope",
                code="result_not_found",
            )
        assert response.id is not None
        results = await self._results_of(response.id)
        await self._record(
            principal.actor,
            "checkup.result.read",
            "checkup_response",
            response.id,
            new={
                "person_id": person_id,
                "campaign_id": campaign_id,
                "reader": "self" if is_self else "inspector",
            },
            power=POWER_READ,
        )
        await self.session.commit()
        return await self._publics(results, with_resources=is_self)

    async def latest_grades(self, principal: Principal) -> dict[int, str]:
        """{person id: composite grade} of each person's latest result, for an inspector over
        them (the risk portrait of people); the read is in the trail (who, not what)."""
        if not principal.has(Role.inspector):
            raise Forbidden("Individual check-up grades are for discipline inspectors.", code="role_required")
        stmt = (
            select(CheckupResult)
            .where(
                col(CheckupResult.superseded_at).is_(None),
                col(CheckupResult.unit_id).in_(sorted(principal.subtree_unit_ids)),
            )
            .order_by(col(CheckupResult.graded_at), col(CheckupResult.id))
        )
        latest = {r.person_id: r for r in (await self.session.execute(stmt)).scalars()}
        grades = {pid: str(self._payload(r)["composite_grade"]) for pid, r in latest.items()}
        if grades:
            await self._record(
                principal.actor,
                "checkup.grades.read",
                "checkup_result",
                None,
                new={"reader": "inspector", "purpose": "portrait", "person_ids": sorted(grades)},
                power=POWER_READ,
            )
            await self.session.commit()
        return grades

    async def my_result(self, campaign_id: int, principal: Principal) -> ResultPublic:
        results = await self.person_results(campaign_id, principal.person_id, principal)
        if not results:
            raise NotFound("you have not submitted this check-up yet", code="result_not_found")
        return results[0]

    async def _inspector_rows(
        self, campaign_id: int, principal: Principal, unit_id: int | None
    ) -> tuple[list[ResultRow], frozenset[int]]:
        if not principal.has(Role.inspector):
            raise Forbidden(
                "Individual check-up results are for discipline inspectors.", code="role_required"
            )
        await self.campaign(campaign_id)
        scope = principal.subtree_unit_ids
        if unit_id is not None:
            if unit_id not in scope:
                raise NotFound(f"unit {unit_id} is not in your scope", code="unit_not_found")
            scope = await self.org.subtree(unit_id)
        responses = await self._responses(campaign_id, scope)
        results = (
            await self.session.execute(
                select(CheckupResult).where(
                    col(CheckupResult.campaign_id) == campaign_id,
                    col(CheckupResult.superseded_at).is_(None),
                    col(CheckupResult.unit_id).in_(sorted(scope)),
                )
            )
        ).scalars()
        by_response = {r.response_id: r for r in results}
        publics = {p.result_id: p for p in await self._publics(by_response.values(), with_resources=False)}
        people = await self.org.people_under([principal.unit_id if unit_id is None else unit_id])
        units = await self.org.units()
        rows = []
        for r in responses:
            person = people.get(r.person_id) or await self.org.person(r.person_id)
            result = by_response.get(r.id or 0)
            rows.append(
                ResultRow(
                    person_id=r.person_id,
                    employee_no=person.employee_no if person else "",
                    name=person.name if person else "",
                    unit_id=r.unit_id,
                    unit_name=units[r.unit_id].name if r.unit_id in units else "",
                    post_name=person.post_name if person else None,
                    status=r.status,
                    late=r.late,
                    result=publics[result.id] if result is not None and result.id is not None else None,
                )
            )
        return rows, scope

    async def inspector_results(
        self, campaign_id: int, principal: Principal, unit_id: int | None = None, *, action: str = "list"
    ) -> list[ResultRow]:
        rows, _scope = await self._inspector_rows(campaign_id, principal, unit_id)
        await self._record(
            principal.actor,
            f"checkup.results.{action}",
            "checkup_campaign",
            campaign_id,
            new={
                "unit_id": unit_id,
                "people": len(rows),
                "person_ids": [r.person_id for r in rows if r.result is not None],
            },
            power=POWER_READ,
        )
        await self.session.commit()
        return rows

    async def b2_rows(
        self, campaign_id: int, principal: Principal, unit_id: int | None
    ) -> tuple[CheckupCampaign, list[ResultRow], dict[str, str | None]]:
        """Rows of form B.2 (graded people only) and each person's note, for the export."""
        rows = [
            r
            for r in await self.inspector_results(campaign_id, principal, unit_id, action="export_b2")
            if r.result is not None
        ]
        notes: dict[str, str | None] = {}
        for row in rows:
            response = await self._response_of(campaign_id, row.person_id)
            notes[str(row.person_id)] = self._opened(response)["note"] if response else None
        return await self.campaign(campaign_id), rows, notes

    # --- aggregates ------------------------------------------------------------------------------
    async def aggregates(self, campaign_id: int, principal: Principal, by: str) -> Aggregates:
        if by not in {"unit", "post"}:
            raise Invalid("by must be unit or post", code="invalid_grouping", extra={"field": "by"})
        await self.campaign(campaign_id)
        scope = self._unit_scope(principal)
        stmt = (
            select(CheckupResult, CheckupResponse)
            .join(CheckupResponse, col(CheckupResponse.id) == CheckupResult.response_id)
            .where(col(CheckupResult.campaign_id) == campaign_id, col(CheckupResult.superseded_at).is_(None))
        )
        if scope is not None:
            stmt = stmt.where(col(CheckupResult.unit_id).in_(sorted(scope)))
        groups: dict[str, list[dict[str, Any]]] = {}
        everyone: list[dict[str, Any]] = []
        for result, response in (await self.session.execute(stmt)).all():
            key = str(result.unit_id) if by == "unit" else (response.post_code or "-")
            payload = self._payload(result)
            groups.setdefault(key, []).append(payload)
            everyone.append(payload)
        units, posts = await self.org.units(), await self.org.posts()

        def label(key: str) -> str:
            if by == "unit":
                unit = units.get(int(key))
                return unit.name if unit else key
            post = posts.get(key)
            return post.name if post else "未设岗位"

        hidden = suppressed_keys({k: len(v) for k, v in groups.items()}, len(everyone))
        cells = [self._cell(k, label(k), v, k in hidden) for k, v in sorted(groups.items())]
        total = self._cell("total", "合计", everyone, len(everyone) < MIN_CELL)
        await self._record(
            principal.actor,
            "checkup.aggregates.read",
            "checkup_campaign",
            campaign_id,
            new={"by": by, "cells": len(cells), "suppressed": len(hidden)},
        )
        await self.session.commit()
        return Aggregates(campaign_id=campaign_id, by=by, min_cell=MIN_CELL, total=total, cells=cells)

    @staticmethod
    def _cell(key: str, label: str, payloads: list[dict[str, Any]], hidden: bool) -> Cell:
        if hidden:
            return Cell(
                key=key,
                label=label,
                people=None,
                suppressed=True,
                dimensions=None,
                psych_score=None,
                composite=None,
                grades=None,
            )
        s = summarise(payloads)
        return Cell(
            key=key,
            label=label,
            people=s["people"],
            suppressed=False,
            dimensions=s["dimensions"],
            psych_score=s["psych_score"],
            composite=s["composite"],
            grades=small_counts_hidden(s["grades"]) if s["grades"] is not None else None,
        )

    # --- notices ---------------------------------------------------------------------------------
    async def my_notices(self, principal: Principal, unread_only: bool = False) -> list[NoticePublic]:
        stmt = select(CheckupNotice).where(col(CheckupNotice.person_id) == principal.person_id)
        if unread_only:
            stmt = stmt.where(col(CheckupNotice.read_at).is_(None))
        rows = (await self.session.execute(stmt.order_by(col(CheckupNotice.id).desc()).limit(200))).scalars()
        return [NoticePublic.model_validate(n, from_attributes=True) for n in rows]

    async def mark_read(self, notice_id: int, principal: Principal) -> NoticePublic:
        notice = await self.session.get(CheckupNotice, notice_id)
        if notice is None or notice.person_id != principal.person_id:
            raise NotFound(f"notice {notice_id} does not exist", code="notice_not_found")
        if notice.read_at is None:
            notice.read_at = utcnow()
            await self.session.commit()
        return NoticePublic.model_validate(notice, from_attributes=True)

    # --- care measures ---------------------------------------------------------------------------
    async def create_care(self, data: CareCreate, principal: Principal) -> CarePublic:
        person = await self.org.person(data.person_id)
        if person is None or not inspects(principal, person.unit_id):
            raise NotFound(f"person {data.person_id} is not in your scope", code="person_not_found")
        if data.kind not in CARE_KINDS[data.risk_type]:
            allowed = ", ".join(k.value for k in CARE_KINDS[data.risk_type])
            raise Invalid(
                f"{data.kind.value} is not a measure for {data.risk_type.value} risk; use {allowed}",
                code="kind_not_for_risk_type",
                extra={"field": "kind"},
            )
        assignee = await self.org.facts(data.assignee_person_id)
        if (
            assignee is None
            or not assignee.active
            or not {"head", "inspector"} & set(assignee.roles)
            or person.unit_id not in assignee.subtree_unit_ids
        ):
            raise Invalid(
                "the assignee must be a head or discipline inspector over the person's unit",
                code="assignee_not_eligible",
                extra={"field": "assignee_person_id"},
            )
        if data.due_date < local(utcnow()).date():
            raise Invalid("due_date is in the past", code="due_in_past", extra={"field": "due_date"})
        if data.campaign_id is not None:
            await self.campaign(data.campaign_id)
        care = CheckupCare(
            person_id=data.person_id,
            unit_id=person.unit_id,
            campaign_id=data.campaign_id,
            risk_type=data.risk_type,
            kind=data.kind,
            assignee_person_id=data.assignee_person_id,
            due_date=data.due_date,
            sealed=self.sealer.seal({"note": data.note, "outcome": None}, _care_aad(data.person_id)),
            created_by=principal.person_id,
        )
        self.session.add(care)
        await self.session.flush()
        await self._record(
            principal.actor,
            "checkup.care.assign",
            "checkup_care",
            care.id,
            new={
                "person_id": care.person_id,
                "kind": care.kind,
                "risk_type": care.risk_type,
                "assignee_person_id": care.assignee_person_id,
                "due_date": care.due_date,
            },
        )
        await self.session.commit()
        return (await self._care_publics([care]))[0]

    def _sees_care(self, principal: Principal, care: CheckupCare) -> bool:
        return care.assignee_person_id == principal.person_id or inspects(principal, care.unit_id)

    async def _care_publics(self, rows: Sequence[CheckupCare]) -> list[CarePublic]:
        today = local(utcnow()).date()
        out = []
        names: dict[int, str | None] = {}
        for c in rows:
            for pid in (c.person_id, c.assignee_person_id):
                if pid not in names:
                    p = await self.org.person(pid)
                    names[pid] = p.name if p else None
            opened = self.sealer.open(c.sealed, _care_aad(c.person_id))
            out.append(
                CarePublic(
                    id=c.id or 0,
                    person_id=c.person_id,
                    person_name=names[c.person_id],
                    unit_id=c.unit_id,
                    campaign_id=c.campaign_id,
                    risk_type=c.risk_type,
                    kind=c.kind,
                    assignee_person_id=c.assignee_person_id,
                    assignee_name=names[c.assignee_person_id],
                    due_date=c.due_date,
                    overdue=c.status == CareStatus.open and c.due_date < today,
                    status=c.status,
                    note=opened.get("note"),
                    outcome=opened.get("outcome"),
                    created_at=c.created_at,
                    closed_at=c.closed_at,
                )
            )
        return out

    async def list_care(
        self, principal: Principal, status: CareStatus | None, campaign_id: int | None
    ) -> list[CarePublic]:
        stmt = select(CheckupCare)
        mine = col(CheckupCare.assignee_person_id) == principal.person_id
        if principal.has(Role.inspector):
            stmt = stmt.where(mine | col(CheckupCare.unit_id).in_(sorted(principal.subtree_unit_ids)))
        else:
            stmt = stmt.where(mine)
        if status is not None:
            stmt = stmt.where(col(CheckupCare.status) == status)
        if campaign_id is not None:
            stmt = stmt.where(col(CheckupCare.campaign_id) == campaign_id)
        rows = list(
            (
                await self.session.execute(stmt.order_by(col(CheckupCare.due_date), col(CheckupCare.id)))
            ).scalars()
        )
        await self._record(
            principal.actor,
            "checkup.care.list",
            "checkup_care",
            None,
            new={"care_ids": [c.id for c in rows], "status": status},
            power=POWER_READ,
        )
        await self.session.commit()
        return await self._care_publics(rows)

    async def close_care(self, care_id: int, data: CareOutcome, principal: Principal) -> CarePublic:
        care = await self.session.get(CheckupCare, care_id)
        if care is None or not self._sees_care(principal, care):
            raise NotFound(f"care measure {care_id} does not exist or is not yours", code="care_not_found")
        if care.status != CareStatus.open:
            raise Conflict(f"care measure {care_id} is already {care.status}", code="care_closed")
        opened = self.sealer.open(care.sealed, _care_aad(care.person_id))
        opened["outcome"] = data.outcome
        care.sealed = self.sealer.seal(opened, _care_aad(care.person_id))
        care.status = data.status
        care.closed_at = utcnow()
        care.closed_by = principal.person_id
        await self._record(
            principal.actor,
            "checkup.care.close",
            "checkup_care",
            care.id,
            old={"status": CareStatus.open},
            new={"status": care.status},
        )
        await self.session.commit()
        return (await self._care_publics([care]))[0]
