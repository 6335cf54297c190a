"""Demo check-up: the first questionnaire, the default grading policy, this year's open campaign
for the whole company, and synthetic submissions by the generated staff (not the named demo
accounts, who answer themselves). Adds only what is missing: running it twice changes nothing."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.checkups.content import ITEMS, default_policy, first_questionnaire
from backend.checkups.crypto import Sealer
from backend.checkups.models import (
    AnswersUpdate,
    CampaignCreate,
    CheckupCampaign,
    CheckupQuestionnaire,
    CheckupResponse,
    ResponseStatus,
)
from backend.checkups.service import CheckupService
from backend.kernel.access import Actor, Channel, Principal, Role
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.kernel.timeutil import SHANGHAI, utcnow

ORDER = 50
ROOT_UNIT = "P00"
#: share of generated staff who have already answered in the demo
ANSWERED_SHARE = 0.8


def demo_window(now: datetime) -> tuple[datetime, datetime, datetime]:
    """This year's window in Beijing time: 1 January to 31 December, late answers for 15 days."""
    year = now.astimezone(SHANGHAI).year
    opens = datetime(year, 1, 1, tzinfo=SHANGHAI)
    closes = datetime(year, 12, 31, 23, 59, tzinfo=SHANGHAI)
    return opens, closes, closes + timedelta(days=15)


async def load_demo(db: Database, settings: Settings, progress: Callable[[str], None]) -> str:
    actor = Actor.system(Channel.cli, "probity demo")
    trail = AuditTrail(settings.secret_key.get_secret_value())
    added: list[str] = []
    async with db.session() as session:
        svc = CheckupService(session, trail, Sealer.from_settings(settings))
        q = (
            (
                await session.execute(
                    select(CheckupQuestionnaire).where(col(CheckupQuestionnaire.code) == "IC")
                )
            )
            .scalars()
            .first()
        )
        if q is None:
            q = await svc.create_questionnaire(first_questionnaire(), actor)
            added.append("questionnaire IC v1")
        if await svc.current_policy() is None:
            await svc.create_policy(default_policy(), actor)
            added.append("grading policy v1")
        opens, closes, late = demo_window(utcnow())
        campaign = (
            (await session.execute(select(CheckupCampaign).where(col(CheckupCampaign.year) == opens.year)))
            .scalars()
            .first()
        )
        if campaign is None:
            public = await svc.create_campaign(
                CampaignCreate(
                    year=opens.year,
                    title=f"{opens.year}年度廉洁体检",
                    questionnaire_id=q.id or 0,
                    opens_at=opens,
                    closes_at=closes,
                    late_until=late,
                    unit_codes=[ROOT_UNIT],
                ),
                actor,
            )
            added.append(f"campaign {public.title} ({public.participants} participants)")
            campaign = await svc.campaign(public.id)
            answered = await _simulate_answers(svc, campaign)
            added.append(f"{answered} synthetic submissions")
        progress("check-ups: " + (", ".join(added) or "nothing to add"))
    return ", ".join(added) or "already loaded"


async def _simulate_answers(svc: CheckupService, campaign: CheckupCampaign) -> int:
    """Generated staff (E01xx) answer with a fixed seed; named demo accounts are left to answer."""
    rng = random.Random(20260301)  # noqa: S311 - synthetic demo answers, not security
    responses = (
        (
            await svc.session.execute(
                select(CheckupResponse).where(
                    col(CheckupResponse.campaign_id) == campaign.id,
                    col(CheckupResponse.status) == ResponseStatus.pending,
                )
            )
        )
        .scalars()
        .all()
    )
    count = 0
    for response in responses:
        person = await svc.org.person(response.person_id)
        if person is None or not person.employee_no.startswith("E01") or rng.random() > ANSWERED_SHARE:
            continue
        principal = Principal(
            account_id=0,
            session_id="demo",
            person_id=response.person_id,
            unit_id=response.unit_id,
            roles=frozenset({Role.employee}),
            subtree_unit_ids=frozenset({response.unit_id}),
            username="probity demo",
            channel=Channel.cli,
        )
        lean = rng.choice((1, 2, 2, 3, 3, 4))
        answers = {code: max(1, min(5, lean + rng.choice((-1, 0, 0, 1)))) for code, *_ in ITEMS}
        assert campaign.id is not None
        await svc.save_answers(campaign.id, AnswersUpdate(answers=answers), principal)  # type: ignore[arg-type]
        await svc.submit(campaign.id, principal)
        count += 1
    return count
