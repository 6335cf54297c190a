"""The risk portrait (B.18): per department, post or person, a score that is a weighted sum of its
factors, each shown with its value, weight and share; the rank within the caller's scope; and the
trend against the previous period (the same weights over the period before).

Factors, counted by the database within the caller's scope: warnings raised by level and true ones
(red, orange/yellow), open items past their deadline, risk notice letters, ladder cases by tier
(notice 1, inquiry 2, recommendation 3); and of the people themselves, averaged over a group: years
in post, age (from the year of birth of the people import; weight 0 until a deployment gives it
one: B.18 names age without saying which way it weighs), and the hours of integrity education
short of the yearly target in the last twelve months. The check-up grade (high 2, medium 1, low 0)
counts only in the portrait of people read by an inspector over them — the one reader the
check-ups let see a person's grade (the read is in their trail); elsewhere it is listed as missing,
never guessed. The weights are defaults here that an admin changes (``portrait_weight``, each
change in the trail).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.checkups.crypto import Sealer
from backend.checkups.service import CheckupService
from backend.education.service import hours_since, year_start
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Forbidden, Invalid
from backend.kernel.settings import Settings
from backend.kernel.timeutil import local, utcnow
from backend.ladder.models import LadderCase
from backend.portrait.models import FactorValue, Portrait, PortraitRow, PortraitWeight, WeightPublic
from backend.stats.periods import Period
from backend.stats.service import OPEN_VALUES, StatsService, W
from backend.warnings.inbox import WARNING
from backend.warnings.linked import TRUE_STATES
from backend.warnings.models import LinkedWarning

#: factor → default weight
DEFAULTS: dict[str, float] = {
    "true_red": 5.0,
    "true_other": 2.0,
    "raised_high": 2.0,
    "raised_medium": 1.0,
    "raised_low": 0.5,
    "overdue": 2.0,
    "letters": 3.0,
    "ladder": 3.0,
    "years_in_post": 0.5,
    "age": 0.0,
    "education_shortfall": 1.0,
    "checkup_grade": 2.0,
}
#: factors of the people themselves (as of now, the same in both periods)
PEOPLE_FACTORS = ("years_in_post", "age", "education_shortfall")
GRADE_POINTS = {"high": 2.0, "medium": 1.0, "low": 0.0}
BY = ("unit", "post", "person")
PERSON = table(
    "person",
    column("id"),
    column("name"),
    column("unit_id"),
    column("post_id"),
    column("started_in_post"),
    column("birth_year"),
    column("active"),
)
UNIT = table("unit", column("id"), column("name"))
POST = table("post", column("id"), column("name"))
LINKED: Any = LinkedWarning.__table__  # type: ignore[attr-defined]
CASE: Any = LadderCase.__table__  # type: ignore[attr-defined]
TIER_POINTS = {"notice": 1, "inquiry": 2, "recommendation": 3}
#: rows listed at most (the highest scores)
LISTED = 50


def _n(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class PortraitService:
    def __init__(self, session: AsyncSession, settings: Settings, trail: AuditTrail) -> None:
        self.session = session
        self.settings = settings
        self.trail = trail

    # --- weights ------------------------------------------------------------------
    async def weights(self) -> dict[str, float]:
        rows = (await self.session.execute(select(PortraitWeight))).scalars()
        return {**DEFAULTS, **{r.factor: r.weight for r in rows if r.factor in DEFAULTS}}

    async def weights_public(self) -> list[WeightPublic]:
        kept = {r.factor: r for r in (await self.session.execute(select(PortraitWeight))).scalars()}
        return [
            WeightPublic(
                factor=f,
                weight=kept[f].weight if f in kept else d,
                default=d,
                updated_at=kept[f].updated_at if f in kept else None,
            )
            for f, d in DEFAULTS.items()
        ]

    async def set_weights(self, principal: Principal, new: dict[str, float]) -> list[WeightPublic]:
        unknown = sorted(set(new) - set(DEFAULTS))
        if unknown:
            raise Invalid(f"unknown factors: {', '.join(unknown)}", code="unknown_factor")
        if any(not (0 <= w <= 100) for w in new.values()):
            raise Invalid("a weight is between 0 and 100", code="invalid_weight")
        old = await self.weights()
        for factor, weight in new.items():
            row = await self.session.get(PortraitWeight, factor)
            if row is None:
                self.session.add(PortraitWeight(factor=factor, weight=weight, updated_by=principal.person_id))
            else:
                row.weight, row.updated_at, row.updated_by = weight, utcnow(), principal.person_id
        await self.trail.record(
            self.session,
            principal.actor,
            action="portrait.weights",
            object_type="portrait_weight",
            old={f: old[f] for f in new},
            new=dict(new),
            power="config.portrait",
        )
        await self.session.commit()
        return await self.weights_public()

    # --- the portrait -------------------------------------------------------------
    async def portrait(self, principal: Principal, by: str, period: Period) -> Portrait:
        if by not in BY:
            raise Invalid("by is unit, post or person", code="invalid_grouping", extra={"field": "by"})
        if by == "person" and not principal.has(Role.inspector, Role.committee):
            raise Forbidden(
                "the portrait of people is for inspectors and the committee", code="role_required"
            )
        weights = await self.weights()
        now = utcnow()
        people = await self._people(principal, by)
        grades = await self._grades(principal, by)
        if grades is None:
            weights.pop("checkup_grade", None)
        current = await self._values(principal, by, period, now)
        previous = await self._values(principal, by, period.previous, now)
        weighing = {  # people who score on their own standing (education short, a high grade …)
            k
            for k, v in [*people.items(), *((k, {"checkup_grade": g}) for k, g in (grades or {}).items())]
            if any(x * weights.get(f, 0.0) > 0 for f, x in v.items())
        }
        keys = set(current) | set(previous) | weighing
        scored = []
        for key in keys:
            standing = {**people.get(key, {}), "checkup_grade": (grades or {}).get(key, 0.0)}
            values = {**current.get(key, {}), **standing}
            before = {**previous.get(key, {}), **standing}
            factors = [
                FactorValue(
                    factor=f,
                    value=round(values.get(f, 0.0), 2),
                    weight=w,
                    contribution=round(values.get(f, 0.0) * w, 2),
                )
                for f, w in weights.items()
            ]
            score = round(sum(x.contribution for x in factors), 2)
            prior = round(sum(before.get(f, 0.0) * w for f, w in weights.items()), 2)
            scored.append((key, score, prior, factors))
        scored.sort(key=lambda s: (-s[1], s[0]))
        labels = await self._labels(by, [k for k, *_ in scored[:LISTED]])
        rows = [
            PortraitRow(
                key=key,
                label=labels.get(key, ""),
                score=score,
                rank=i + 1,
                previous_score=prior,
                trend="rising" if score > prior else "falling" if score < prior else "steady",
                factors=factors,
            )
            for i, (key, score, prior, factors) in enumerate(scored[:LISTED])
        ]
        return Portrait(
            by=by,
            period_start=period.start.isoformat(),
            period_last_day=period.last_day.isoformat(),
            rows=rows,
            missing_factors=[] if grades is not None else ["checkup_grade"],
        )

    def _units(self, principal: Principal, unit_col: Any) -> list[ColumnElement[bool]]:
        units = principal.case_unit_ids()
        return [] if units is None else [unit_col.in_(sorted(units))]

    async def _values(
        self, principal: Principal, by: str, period: Period, now: datetime
    ) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = defaultdict(dict)
        # warnings
        true_ = and_(W.finding == "true", W.state.in_(TRUE_STATES))
        red = W.level == "high"
        key, source = self._key(by, W.unit_id, W.person_id, WARNING)
        stmt = (
            select(
                key.label("key"),
                _n(and_(true_, red)).label("true_red"),
                _n(and_(true_, ~red)).label("true_other"),
                _n(red).label("raised_high"),
                _n(W.level == "medium").label("raised_medium"),
                _n(W.level == "low").label("raised_low"),
                _n(and_(W.state.in_(OPEN_VALUES), W.due_at < now)).label("overdue"),
            )
            .select_from(source)
            .where(StatsService.scope(principal), W.raised_at >= period.start_at, W.raised_at < period.end_at)
            .group_by(key)
        )
        for row in (await self.session.execute(stmt)).all():
            if row.key is not None:
                out[str(row.key)].update({f: float(getattr(row, f)) for f in row._fields if f != "key"})
        # letters and ladder cases
        c = LINKED.c
        key, source = self._key(by, c.unit_id, c.person_id, LINKED)
        letters = (
            select(key.label("key"), func.count().label("n"))
            .select_from(source)
            .where(
                *self._units(principal, c.unit_id),
                c.raised_at >= period.start_at,
                c.raised_at < period.end_at,
            )
            .group_by(key)
        )
        for row in (await self.session.execute(letters)).all():
            if row.key is not None:
                out[str(row.key)]["letters"] = float(row.n)
        lc = CASE.c
        key, source = self._key(by, lc.unit_id, lc.person_id, CASE)
        points = case(TIER_POINTS, value=lc.tier, else_=0)
        ladder = (
            select(key.label("key"), func.coalesce(func.sum(points), 0).label("n"))
            .select_from(source)
            .where(
                *self._units(principal, lc.unit_id),
                lc.opened_at >= period.start_at,
                lc.opened_at < period.end_at,
            )
            .group_by(key)
        )
        for row in (await self.session.execute(ladder)).all():
            if row.key is not None:
                out[str(row.key)]["ladder"] = float(row.n)
        return out

    @staticmethod
    def _key(by: str, unit_col: Any, person_col: Any, source: Any) -> tuple[Any, Any]:
        """The grouping column for ``by`` and the FROM it needs (posts: through the person)."""
        if by == "unit":
            return unit_col, source
        if by == "person":
            return person_col, source
        return PERSON.c.post_id, source.join(PERSON, PERSON.c.id == person_col)

    async def _people(self, principal: Principal, by: str) -> dict[str, dict[str, float]]:
        """Per group, of the active people in the caller's units: average years in post, average
        age, average hours of education short of the target (the last twelve months)."""
        p = PERSON.c
        stmt = select(p.id, p.unit_id, p.post_id, p.started_in_post, p.birth_year).where(
            *self._units(principal, p.unit_id), p.active.is_(True)
        )
        rows = (await self.session.execute(stmt)).all()
        today = local(utcnow()).date()
        studied = await hours_since(self.session, [int(r.id) for r in rows], year_start(today))
        target = self.settings.education_hours_required
        spans: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            key = {"unit": row.unit_id, "post": row.post_id, "person": row.id}[by]
            if key is None:
                continue
            group = spans[str(key)]
            if row.started_in_post is not None:
                started = (
                    row.started_in_post
                    if isinstance(row.started_in_post, date)
                    else date.fromisoformat(str(row.started_in_post))
                )
                group["years_in_post"].append((today - started).days / 365.25)
            if row.birth_year is not None:
                group["age"].append(float(today.year - int(row.birth_year)))
            group["education_shortfall"].append(max(0.0, target - studied.get(int(row.id), 0.0)))
        return {key: {f: sum(v) / len(v) for f, v in group.items() if v} for key, group in spans.items()}

    async def _grades(self, principal: Principal, by: str) -> dict[str, float] | None:
        """The latest check-up grade of each person an inspector oversees, as points; ``None`` where
        the reader may not see people's grades (groups, the committee)."""
        if by != "person" or not principal.has(Role.inspector):
            return None
        checkups = CheckupService(self.session, self.trail, Sealer.from_settings(self.settings))
        latest = await checkups.latest_grades(principal)
        return {str(pid): GRADE_POINTS.get(grade, 0.0) for pid, grade in latest.items()}

    async def _labels(self, by: str, keys: list[str]) -> dict[str, str]:
        named = {"unit": UNIT, "post": POST, "person": PERSON}[by]
        ids = [int(k) for k in keys]
        if not ids:
            return {}
        rows = await self.session.execute(select(named.c.id, named.c.name).where(named.c.id.in_(ids)))
        return {str(i): str(n) for i, n in rows.all()}
