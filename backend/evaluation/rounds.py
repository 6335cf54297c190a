"""Evaluation rounds: scores per person and dimension from the round's library version, ranks in
the category and the unit, trend against the previous round, "分析研判提醒" flags to the person's
heads and inspectors, first-form talk suggestions, and the scoped reference export.

A round keeps its scores and its library version: a later version changes later rounds only.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlmodel import col

from backend.evaluation import scoring
from backend.evaluation.indicators import indicator_values
from backend.evaluation.models import EvalRound, EvalScore, EvalSubject, EvalTag
from backend.evaluation.schemas import (
    ExplainedItem,
    RoundCreate,
    RoundDetail,
    RoundPublic,
    ScorePublic,
    TalkInterview,
    TrendPoint,
)
from backend.evaluation.service import EvaluationService, score_filter
from backend.evaluation.words import DIMENSION_ZH, FLAG_ZH, day_zh
from backend.events.service import emit
from backend.interviews.schemas import InterviewCreate
from backend.interviews.service import InterviewService
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Conflict, Forbidden, NotFound
from backend.kernel.schemas import pk
from backend.kernel.tabular import xlsx_row
from backend.org.models import Unit
from backend.warnings.routing import Routing
from backend.warnings.service import record_read


class RoundService(EvaluationService):
    async def create_round(self, principal: Principal, category_id: int, data: RoundCreate) -> RoundPublic:
        category = await self.category(category_id)
        library = await self.library(category_id, data.library_version)
        content = self.content(library)
        subjects = list(
            (
                await self.session.execute(
                    select(EvalSubject).where(
                        col(EvalSubject.category_id) == category_id, col(EvalSubject.active).is_(True)
                    )
                )
            ).scalars()
        )
        if not principal.has(Role.committee, Role.admin, Role.expert):
            outside = [s.person_id for s in subjects if s.unit_id not in principal.subtree_unit_ids]
            if outside:
                raise Forbidden(
                    "the category has people outside your scope: the committee opens this round",
                    code="not_in_scope",
                )
        values = await indicator_values(
            self.session, self.trail, self.settings, content.indicators, data.period_start, data.period_end
        )
        filed = (
            await self.session.execute(
                select(col(EvalTag.person_id), col(EvalTag.tag_code)).where(
                    col(EvalTag.category_id) == category_id,
                    col(EvalTag.occurred_on) >= data.period_start,
                    col(EvalTag.occurred_on) <= data.period_end,
                )
            )
        ).all()
        people = [s.person_id for s in subjects]
        results = scoring.score(content, people, values, [(int(p), str(c)) for p, c in filed])
        units = {s.person_id: s.unit_id for s in subjects}
        previous = await self._previous(category_id, data)
        row = EvalRound(
            category_id=category_id,
            library_id=pk(library),
            name=data.name,
            period_start=data.period_start,
            period_end=data.period_end,
            created_by=principal.person_id,
        )
        self.session.add(row)
        await self.session.flush()
        totals = {p: r.total for p, r in results.items()}
        in_category = scoring.ranks(totals)
        in_unit: dict[int, int] = {}
        for unit_id in set(units.values()):
            in_unit.update(scoring.ranks({p: t for p, t in totals.items() if units[p] == unit_id}))
        routing = Routing(self.org)
        flagged = 0
        for person_id, result in sorted(results.items()):
            before = previous.get(person_id)
            flags = scoring.flags(content, result.total, before)
            score = EvalScore(
                round_id=pk(row),
                person_id=person_id,
                unit_id=units[person_id],
                base=result.base,
                behaviour=result.dims["behaviour"],
                awareness=result.dims["awareness"],
                problems=result.dims["problems"],
                total=result.total,
                rank_category=in_category[person_id],
                rank_unit=in_unit[person_id],
                previous_total=before,
                flags=flags,
                explanation=result.items,
            )
            self.session.add(score)
            await self.session.flush()
            if flags:
                flagged += 1
                told = [(p, "head") for p in await routing.heads(units[person_id])]
                told += [(p, "inspector") for p in await routing.inspectors(units[person_id])]
                told = [(p, r) for p, r in told if p != person_id]
                if told:
                    await emit(
                        self.session,
                        "evaluation.flag",
                        subject_type="eval_score",
                        subject_id=pk(score),
                        recipients=told,
                        level="medium",
                        data={"round_id": row.id, "flags": flags},
                    )
        await self._record(
            principal,
            "evaluation.round.create",
            "eval_round",
            row.id,
            category_id=category_id,
            library_version=library.version,
            name=data.name,
            people=len(results),
            flagged=flagged,
            period=[data.period_start, data.period_end],
        )
        await self.session.commit()
        return self._round_public(row, category.name, library.version, len(results))

    async def _previous_round(self, category_id: int, before: date) -> EvalRound | None:
        """The latest round of the category that ended before ``before``."""
        return (
            await self.session.execute(
                select(EvalRound)
                .where(col(EvalRound.category_id) == category_id, col(EvalRound.period_end) < before)
                .order_by(col(EvalRound.period_end).desc(), col(EvalRound.id).desc())
                .limit(1)
            )
        ).scalar()

    async def _previous(self, category_id: int, data: RoundCreate) -> dict[int, float]:
        """Each person's total in the latest earlier round of the category."""
        earlier = await self._previous_round(category_id, data.period_start)
        if earlier is None:
            return {}
        rows = await self.session.execute(
            select(col(EvalScore.person_id), col(EvalScore.total)).where(
                col(EvalScore.round_id) == earlier.id
            )
        )
        return {int(p): float(t) for p, t in rows.all()}

    @staticmethod
    def _round_public(row: EvalRound, category_name: str, version: int, people: int) -> RoundPublic:
        return RoundPublic(
            id=pk(row),
            category_id=row.category_id,
            category_name=category_name,
            library_id=row.library_id,
            library_version=version,
            name=row.name,
            period_start=row.period_start,
            period_end=row.period_end,
            computed_at=row.computed_at,
            people=people,
        )

    async def round(self, round_id: int) -> EvalRound:
        row = await self.session.get(EvalRound, round_id)
        if row is None:
            raise NotFound(f"round {round_id} does not exist", code="round_not_found")
        return row

    async def rounds(self, principal: Principal, category_id: int | None) -> list[RoundPublic]:
        stmt = select(EvalRound)
        if category_id is not None:
            stmt = stmt.where(col(EvalRound.category_id) == category_id)
        out = []
        for row in list(
            (
                await self.session.execute(
                    stmt.order_by(col(EvalRound.period_end).desc(), col(EvalRound.id).desc())
                )
            ).scalars()
        ):
            out.append(await self._public_of(principal, row))
        return out

    async def _public_of(self, principal: Principal, row: EvalRound) -> RoundPublic:
        category = await self.category(row.category_id)
        library = await self.library_by_id(row.library_id)
        return self._round_public(
            row, category.name, library.version, len(await self._scores(principal, row))
        )

    async def _scores(self, principal: Principal, row: EvalRound) -> list[EvalScore]:
        stmt = select(EvalScore).where(
            col(EvalScore.round_id) == row.id,
            score_filter(principal, col(EvalScore.person_id), col(EvalScore.unit_id)),
        )
        return list(
            (
                await self.session.execute(stmt.order_by(col(EvalScore.rank_category), col(EvalScore.id)))
            ).scalars()
        )

    async def _confidential(self, round_ids: set[int]) -> dict[int, set[str]]:
        """The confidential tag codes of each round's library version."""
        out: dict[int, set[str]] = {}
        for round_id in round_ids:
            rnd = await self.round(round_id)
            content = self.content(await self.library_by_id(rnd.library_id))
            out[round_id] = {t.code for t in content.tags if t.confidential}
        return out

    async def own_view(self, score: EvalScore) -> EvalScore:
        """A person's own result as they may see it: as if the confidential tags about them (which
        they may not see) had not been filed. The dimensions and the total leave out those tags'
        points; the ranks place that total among the others' stored totals; the change and the
        flags compare it with the person's own view of the previous round; the explanation lists
        no hidden line. A transient copy, never stored (the stored result stays whole)."""
        rnd = await self.round(score.round_id)
        total, dims, items = await self._visible(rnd, score)
        others = (
            await self.session.execute(
                select(col(EvalScore.unit_id), col(EvalScore.total)).where(
                    col(EvalScore.round_id) == rnd.id, col(EvalScore.person_id) != score.person_id
                )
            )
        ).all()
        previous = score.previous_total
        if previous is not None:
            before = await self._previous_round(rnd.category_id, rnd.period_start)
            earlier = None
            if before is not None:
                earlier = (
                    await self.session.execute(
                        select(EvalScore).where(
                            col(EvalScore.round_id) == before.id, col(EvalScore.person_id) == score.person_id
                        )
                    )
                ).scalar_one_or_none()
            if before is not None and earlier is not None:
                previous = (await self._visible(before, earlier))[0]
        content = self.content(await self.library_by_id(rnd.library_id))
        return EvalScore(
            id=score.id,
            round_id=score.round_id,
            person_id=score.person_id,
            unit_id=score.unit_id,
            base=score.base,
            behaviour=dims["behaviour"],
            awareness=dims["awareness"],
            problems=dims["problems"],
            total=total,
            rank_category=1 + sum(1 for _, t in others if t > total),
            rank_unit=1 + sum(1 for u, t in others if u == score.unit_id and t > total),
            previous_total=previous,
            flags=scoring.flags(content, total, previous),
            explanation=items,
            interview_id=score.interview_id,
        )

    async def _visible(
        self, rnd: EvalRound, score: EvalScore
    ) -> tuple[float, dict[str, float], list[dict[str, Any]]]:
        """(total, dimensions, explanation) of a result without its confidential tags' lines."""
        hidden = (await self._confidential({pk(rnd)}))[pk(rnd)]
        items = [i for i in score.explanation if not (i.get("source") == "tag" and i.get("code") in hidden)]
        dims = {
            d: scoring.r2(
                sum(float(i["points"]) for i in items if i.get("source") == "tag" and i["dimension"] == d)
            )
            for d in ("behaviour", "awareness", "problems")
        }
        return scoring.r2(score.base + sum(dims.values())), dims, items

    async def as_seen(self, principal: Principal, rows: list[EvalScore]) -> list[EvalScore]:
        """The caller's own results as :meth:`own_view`; others' as stored."""
        return [await self.own_view(r) if r.person_id == principal.person_id else r for r in rows]

    async def scores_public(self, principal: Principal, rows: list[EvalScore]) -> list[ScorePublic]:
        """Results as the caller sees them: their own without the confidential tags they may not
        see (:meth:`own_view`); another's confidential tag line (its points count) is named only to
        inspectors over the person and the committee."""
        if not rows:
            return []
        rows = await self.as_seen(principal, rows)
        hidden = await self._confidential({r.round_id for r in rows})
        names = await self.names({r.person_id for r in rows})
        units = {u.id: u.name for u in (await self.session.execute(select(Unit))).scalars()}
        sizes: dict[int, list[tuple[int, int]]] = {}
        for round_id in {r.round_id for r in rows}:
            sizes[round_id] = [
                (int(p), int(u))
                for p, u in (
                    await self.session.execute(
                        select(col(EvalScore.person_id), col(EvalScore.unit_id)).where(
                            col(EvalScore.round_id) == round_id
                        )
                    )
                ).all()
            ]
        return [
            ScorePublic(
                id=pk(r),
                round_id=r.round_id,
                person_id=r.person_id,
                person_name=names.get(r.person_id, ""),
                unit_id=r.unit_id,
                unit_name=units.get(r.unit_id, ""),
                base=r.base,
                behaviour=r.behaviour,
                awareness=r.awareness,
                problems=r.problems,
                total=r.total,
                rank_category=r.rank_category,
                rank_unit=r.rank_unit,
                of_category=len(sizes[r.round_id]),
                of_unit=sum(1 for _, u in sizes[r.round_id] if u == r.unit_id),
                previous_total=r.previous_total,
                change=None if r.previous_total is None else scoring.r2(r.total - r.previous_total),
                flags=r.flags,
                explanation=[self._shown(principal, r, i, hidden[r.round_id]) for i in r.explanation],
                interview_id=r.interview_id,
                talk_suggested=scoring.talk_suggested(r.flags, r.problems),
            )
            for r in rows
        ]

    @staticmethod
    def _shown(
        principal: Principal, score: EvalScore, item: dict[str, Any], hidden: set[str]
    ) -> ExplainedItem:
        sees = principal.person_id != score.person_id and (
            principal.has(Role.committee)
            or (principal.has(Role.inspector) and score.unit_id in principal.subtree_unit_ids)
        )
        if item.get("source") == "tag" and item.get("code") in hidden and not sees:
            return ExplainedItem.model_validate({**item, "code": "", "name": "", "confidential": True})
        return ExplainedItem.model_validate(item)

    async def detail(self, principal: Principal, round_id: int) -> RoundDetail:
        row = await self.round(round_id)
        scores = await self._scores(principal, row)
        await record_read(
            self.session, self.trail, principal.actor, "evaluation.round.read", "eval_round", round_id
        )
        return RoundDetail(
            round=await self._public_of(principal, row), scores=await self.scores_public(principal, scores)
        )

    async def trend(self, principal: Principal, person_id: int) -> list[TrendPoint]:
        """A person's results over rounds, oldest first (as far as the caller may see them)."""
        stmt = (
            select(EvalScore, EvalRound)
            .join(EvalRound, col(EvalRound.id) == col(EvalScore.round_id))
            .where(
                col(EvalScore.person_id) == person_id,
                score_filter(principal, col(EvalScore.person_id), col(EvalScore.unit_id)),
            )
            .order_by(col(EvalRound.period_end), col(EvalRound.id))
        )
        out = []
        sizes: dict[int, int] = {}
        for score, rnd in (await self.session.execute(stmt)).all():
            if score.person_id == principal.person_id:
                score = await self.own_view(score)
            if pk(rnd) not in sizes:
                sizes[pk(rnd)] = len(
                    (
                        await self.session.execute(
                            select(col(EvalScore.id)).where(col(EvalScore.round_id) == rnd.id)
                        )
                    ).all()
                )
            category = await self.category(rnd.category_id)
            out.append(
                TrendPoint(
                    round_id=pk(rnd),
                    round_name=rnd.name,
                    category_name=category.name,
                    period_end=rnd.period_end,
                    total=score.total,
                    behaviour=score.behaviour,
                    awareness=score.awareness,
                    problems=score.problems,
                    base=score.base,
                    rank_category=score.rank_category,
                    of_category=sizes[pk(rnd)],
                    flags=score.flags,
                )
            )
        return out

    # --- result use ---------------------------------------------------------------------
    async def talks(self, principal: Principal) -> list[ScorePublic]:
        """Results that suggest a first-form talk, not yet recorded, in the caller's scope (not own)."""
        if not principal.has(Role.head, Role.inspector, Role.committee):
            return []
        stmt = (
            select(EvalScore)
            .where(
                col(EvalScore.interview_id).is_(None),
                col(EvalScore.person_id) != principal.person_id,
                score_filter(principal, col(EvalScore.person_id), col(EvalScore.unit_id)),
            )
            .order_by(col(EvalScore.round_id).desc(), col(EvalScore.id))
        )
        rows = [
            r
            for r in (await self.session.execute(stmt)).scalars()
            if scoring.talk_suggested(r.flags, r.problems)
        ]
        return await self.scores_public(principal, rows)

    async def talk_interview(
        self, principal: Principal, score_id: int, data: TalkInterview
    ) -> tuple[int, bool]:
        """The suggestion's interview record, in one step: the person and the basis come from the result."""
        score = (
            await self.session.execute(
                select(EvalScore).where(
                    col(EvalScore.id) == score_id,
                    score_filter(principal, col(EvalScore.person_id), col(EvalScore.unit_id)),
                )
            )
        ).scalar_one_or_none()
        if score is None:
            raise NotFound(
                f"result {score_id} does not exist or is not in your scope", code="score_not_found"
            )
        if score.interview_id is not None:
            raise Conflict(
                "the talk of this result was recorded",
                code="talk_recorded",
                extra={"interview_id": score.interview_id},
            )
        if not scoring.talk_suggested(score.flags, score.problems):
            raise Conflict("no talk is suggested for this result", code="talk_not_suggested")
        rnd = await self.round(score.round_id)
        record = InterviewCreate.model_validate(
            {**data.model_dump(), "person_id": score.person_id, "warning_ids": []}
        )
        interviews = InterviewService(self.session, self.trail, self.settings)
        basis = {"evaluation_round_id": rnd.id, "eval_score_id": score.id, "form": "first"}
        interview, created = await interviews.create(principal, record, basis=basis)
        score.interview_id = interview.id
        self.session.add(score)
        await self._record(
            principal, "evaluation.talk.recorded", "eval_score", score.id, interview_id=interview.id
        )
        await self.session.commit()
        return pk(interview), created

    async def export(self, principal: Principal, round_id: int) -> tuple[str, bytes]:
        """The round's results in the caller's scope as a workbook (a reference for appraisal,
        promotion and awards), in the trail."""
        if not principal.has(Role.head, Role.inspector, Role.committee):
            raise Forbidden(
                "the reference export is for heads, inspectors and the committee", code="role_required"
            )
        row = await self.round(round_id)
        category = await self.category(row.category_id)
        scores = await self.scores_public(principal, await self._scores(principal, row))
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "评价结果"
        ws.append(
            xlsx_row([f"{category.name}·{row.name}（{day_zh(row.period_start)}至{day_zh(row.period_end)}）"])
        )
        ws.append(
            ["排名", "姓名", "单位", "基础分", *DIMENSION_ZH.values(), "总分", "单位内排名", "较上期", "提醒"]
        )
        for s in scores:
            ws.append(
                xlsx_row(
                    [
                        s.rank_category,
                        s.person_name,
                        s.unit_name,
                        s.base,
                        s.behaviour,
                        s.awareness,
                        s.problems,
                        s.total,
                        s.rank_unit,
                        "—" if s.change is None else s.change,
                        "、".join(FLAG_ZH[f] for f in s.flags) or "—",
                    ]
                )
            )
        out = io.BytesIO()
        wb.save(out)
        await self._record(
            principal, "evaluation.round.export", "eval_round", round_id, people=[s.person_id for s in scores]
        )
        await self.session.commit()
        return f"evaluation-{round_id}.xlsx", out.getvalue()
