"""Scoring and grading, pure functions (no database, no keys).

Every score is risk-oriented: 0 = no sign of risk, 100 = the strongest sign.

* item: a Likert answer ``v`` on ``1..n`` gives ``(v-1)/(n-1)``; a reverse item ``(n-v)/(n-1)``;
* dimension score: the mean of its items × 100;
* psychological score: the dimensions weighted by the policy; total: their plain sum (form B.2);
* time-in-post score: years in post / ``tenure_full_years`` × 100, capped at 100;
* composite: psych × w1 + post risk value × w2 + time-in-post score × w3 (w1+w2+w3 = 1);
* grades: ``>= high`` cut-off is high, ``>= medium`` is medium, else low (standard 10.2.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from backend.checkups.models import (
    CARE_KINDS,
    DIMENSION_NAMES,
    CheckupPolicy,
    Dimension,
    Grade,
    Item,
    PolicyCreate,
    RiskType,
    Why,
    WhyFactor,
)
from backend.kernel.errors import Invalid

WEIGHT_TOLERANCE = 1e-6
UNKNOWN_POST_RISK = 50.0
GRADE_ZH = {Grade.high: "高", Grade.medium: "中", Grade.low: "低"}


def _r(value: float) -> float:
    return round(value + 0.0, 1)


def check_policy(data: PolicyCreate) -> None:
    """Weights must add up to 1 and cut-offs must be ordered; raise with a clear code."""
    total = data.psych_weight + data.post_weight + data.tenure_weight
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise Invalid(
            f"psych_weight + post_weight + tenure_weight must add up to 1, not {total:g}",
            code="weights_not_summing",
            extra={"field": "psych_weight", "sum": total},
        )
    missing = [d.value for d in Dimension if d not in data.dimension_weights]
    if missing:
        raise Invalid(
            f"dimension_weights needs every dimension; missing: {', '.join(missing)}",
            code="weights_incomplete",
            extra={"field": "dimension_weights"},
        )
    dim_total = sum(data.dimension_weights.values())
    if any(w < 0 for w in data.dimension_weights.values()) or abs(dim_total - 1) > WEIGHT_TOLERANCE:
        raise Invalid(
            f"dimension_weights must be non-negative and add up to 1, not {dim_total:g}",
            code="weights_not_summing",
            extra={"field": "dimension_weights", "sum": dim_total},
        )
    for prefix in ("psych", "composite"):
        high, medium = getattr(data, f"{prefix}_high"), getattr(data, f"{prefix}_medium")
        if medium >= high:
            raise Invalid(
                f"{prefix}_medium ({medium:g}) must be below {prefix}_high ({high:g})",
                code="cutoffs_out_of_order",
                extra={"field": f"{prefix}_medium"},
            )


def item_risk(value: int, points: int, reverse: bool) -> float:
    span = points - 1
    return (points - value) / span if reverse else (value - 1) / span


def dimension_scores(items: Iterable[Item], answers: Mapping[str, int], points: int) -> dict[str, float]:
    sums: dict[str, list[float]] = {d.value: [] for d in Dimension}
    for item in items:
        sums[item.dimension.value].append(item_risk(answers[item.code], points, item.reverse))
    return {d: _r(100 * sum(v) / len(v)) if v else 0.0 for d, v in sums.items()}


def grade_of(score: float, high: float, medium: float) -> Grade:
    if score >= high:
        return Grade.high
    if score >= medium:
        return Grade.medium
    return Grade.low


def years_between(start: date | None, end: date) -> float | None:
    if start is None:
        return None
    return round(max((end - start).days, 0) / 365.25, 2)


def evaluate(
    dimensions: Mapping[str, float],
    post_risk: float | None,
    tenure_years: float | None,
    policy: CheckupPolicy,
) -> dict[str, Any]:
    """The sealed payload of one result: inputs, scores, grades and risk types."""
    psych = sum(dimensions[d.value] * policy.dimension_weights[d.value] for d in Dimension)
    post = UNKNOWN_POST_RISK if post_risk is None else float(post_risk)
    tenure_score = 0.0 if tenure_years is None else min(100.0, 100 * tenure_years / policy.tenure_full_years)
    composite = psych * policy.psych_weight + post * policy.post_weight + tenure_score * policy.tenure_weight
    psych_grade = grade_of(_r(psych), policy.psych_high, policy.psych_medium)
    risk_types: list[str] = []
    if psych_grade != Grade.low:
        risk_types.append(RiskType.psychological.value)
    if post >= policy.post_attention:
        risk_types.append(RiskType.post.value)
    if tenure_years is not None and tenure_years >= policy.rotation_years:
        risk_types.append(RiskType.tenure.value)
    return {
        "dimensions": {d.value: float(dimensions[d.value]) for d in Dimension},
        "psych_total": _r(sum(dimensions[d.value] for d in Dimension)),
        "psych_score": _r(psych),
        "psych_grade": psych_grade.value,
        "post_risk": _r(post),
        "post_risk_known": post_risk is not None,
        "tenure_years": tenure_years,
        "tenure_score": _r(tenure_score),
        "composite": _r(composite),
        "composite_grade": grade_of(_r(composite), policy.composite_high, policy.composite_medium).value,
        "risk_types": risk_types,
    }


def care_suggestions(risk_types: Iterable[str]) -> dict[str, list[str]]:
    return {t: [k.value for k in CARE_KINDS[RiskType(t)]] for t in risk_types}


def explain(payload: Mapping[str, Any], policy: CheckupPolicy) -> Why:
    """Why this grade ("why am I medium"): factors with weights and contributions, and cut-offs."""
    factors = [
        WhyFactor(
            factor=factor,
            name_zh=zh,
            name_en=en,
            score=payload[key],
            weight=weight,
            contribution=_r(payload[key] * weight),
        )
        for factor, zh, en, key, weight in (
            ("psychological", "心理得分", "psychological score", "psych_score", policy.psych_weight),
            ("post", "岗位风险值", "post risk value", "post_risk", policy.post_weight),
            ("tenure", "任职时长", "time in post", "tenure_score", policy.tenure_weight),
        )
    ]
    grade = Grade(payload["composite_grade"])
    parts_zh = " + ".join(f"{f.name_zh} {f.score:g}×{f.weight:g}" for f in factors)
    parts_en = " + ".join(f"{f.name_en} {f.score:g}×{f.weight:g}" for f in factors)
    cut_zh = f"高 ≥ {policy.composite_high:g}，中 ≥ {policy.composite_medium:g}，其余为低"
    cut_en = f"high ≥ {policy.composite_high:g}, medium ≥ {policy.composite_medium:g}, otherwise low"
    notes_zh, notes_en = [], []
    if not payload["post_risk_known"]:
        notes_zh.append(f"未设置岗位，岗位风险值按 {UNKNOWN_POST_RISK:g} 计")
        notes_en.append(f"no post on record: post risk taken as {UNKNOWN_POST_RISK:g}")
    if payload["tenure_years"] is None:
        notes_zh.append("任职起始日期未知，任职时长按 0 计")
        notes_en.append("start in post unknown: time in post taken as 0")
    text_zh = (
        f"综合得分 = {parts_zh} = {payload['composite']:g}，等级「{GRADE_ZH[grade]}」（{cut_zh}；"
        f"评定规则第 {policy.version} 版）。" + ("".join(f"{n}。" for n in notes_zh))
    )
    text_en = (
        f"Composite = {parts_en} = {payload['composite']:g}, grade {grade.value} ({cut_en}; "
        f"grading policy version {policy.version})." + "".join(f" {n.capitalize()}." for n in notes_en)
    )
    return Why(
        factors=factors,
        composite=payload["composite"],
        composite_high=policy.composite_high,
        composite_medium=policy.composite_medium,
        psych_score=payload["psych_score"],
        psych_high=policy.psych_high,
        psych_medium=policy.psych_medium,
        dimension_weights=dict(policy.dimension_weights),
        policy_id=policy.id or 0,
        policy_version=policy.version,
        policy_date=policy.created_at,
        text_zh=text_zh,
        text_en=text_en,
    )


# --- small-cell suppression ----------------------------------------------------------------------

MIN_CELL = 5


def summarise(payloads: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Averages and grade counts of a group of results (before suppression)."""
    n = len(payloads)
    if n == 0:
        return {"people": 0, "dimensions": None, "psych_score": None, "composite": None, "grades": None}
    counts = {g.value: sum(1 for p in payloads if p["composite_grade"] == g.value) for g in Grade}
    return {
        "people": n,
        "dimensions": {d.value: _r(sum(p["dimensions"][d.value] for p in payloads) / n) for d in Dimension},
        "psych_score": _r(sum(p["psych_score"] for p in payloads) / n),
        "composite": _r(sum(p["composite"] for p in payloads) / n),
        "grades": counts,
    }


def suppressed_keys(sizes: Mapping[str, int], total: int, min_cell: int = MIN_CELL) -> set[str]:
    """Cells to hide: those under ``min_cell`` people, and, when exactly one is hidden while the
    total is shown, the next smallest too (else total minus the others gives it away)."""
    if total < min_cell:
        return set(sizes)
    hidden = {k for k, n in sizes.items() if 0 < n < min_cell}
    if len(hidden) == 1:
        rest = sorted((n, k) for k, n in sizes.items() if k not in hidden and n > 0)
        if rest:
            hidden.add(rest[0][1])
    return hidden


def small_counts_hidden(grades: Mapping[str, int], min_cell: int = MIN_CELL) -> dict[str, int | None]:
    """Grade counts from 1 to ``min_cell - 1`` are shown as null, with the same complementary
    rule as cells (the cell's size is shown, so one hidden count alone would be derivable)."""
    hidden = suppressed_keys(grades, sum(grades.values()), min_cell)
    return {g: (None if g in hidden else n) for g, n in grades.items()}


def dimension_label(dimension: Dimension) -> tuple[str, str]:
    return DIMENSION_NAMES[dimension]
