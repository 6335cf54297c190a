"""The "1+3" score, pure arithmetic (no database): every point is an explained item.

For one person in a round over library ``L``:

* base = ``L.base_points`` + Σ over indicators of sign × coefficient × value, where value is what
  the indicator's SQL returned for the person over the round's period (0 if no row);
* each dimension (behaviour, awareness, problems) = Σ over the tags filed about the person within
  the period whose code is in ``L``: sign × coefficient (the coefficient of ``L``, not of the
  version the tag was filed under);
* total = base + behaviour + awareness + problems.

Ranks: 1 = highest total; equal totals share a rank (1, 1, 3). Flags: ``fell`` when the total is
at least ``L.drop_alert`` below the person's previous round in the category, ``below`` when under
``L.alert_below``. A talk is suggested for a flagged result and for one whose problems dimension
is negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.evaluation.models import DIMENSIONS
from backend.evaluation.schemas import Direction, LibraryContent


def sign(direction: Direction | str) -> int:
    return 1 if Direction(direction) is Direction.plus else -1


def r2(value: float) -> float:
    return round(value + 0.0, 2)


@dataclass
class Result:
    person_id: int
    base: float = 0.0
    dims: dict[str, float] = field(default_factory=lambda: {d.value: 0.0 for d in DIMENSIONS})
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> float:
        return r2(self.base + sum(self.dims.values()))


def score(
    library: LibraryContent,
    people: Iterable[int],
    indicator_values: Mapping[str, Mapping[int, float]],
    tags: Iterable[tuple[int, str]],
) -> dict[int, Result]:
    """Scores of ``people``: ``indicator_values`` is {indicator code: {person id: value}},
    ``tags`` the (person id, tag code) of every filing in the period."""
    out = {p: Result(p, base=library.base_points) for p in people}
    for result in out.values():
        result.items.append(
            {
                "source": "base",
                "code": "base_points",
                "name": "",
                "dimension": "base",
                "value": 1,
                "unit": "",
                "coefficient": library.base_points,
                "direction": "plus",
                "points": library.base_points,
            }
        )
        for ind in library.indicators:
            value = float(indicator_values.get(ind.code, {}).get(result.person_id, 0.0))
            points = r2(sign(ind.direction) * ind.coefficient * value)
            result.base = r2(result.base + points)
            result.items.append(
                {
                    "source": "indicator",
                    "code": ind.code,
                    "name": ind.name,
                    "dimension": "base",
                    "value": r2(value),
                    "unit": ind.unit,
                    "coefficient": ind.coefficient,
                    "direction": ind.direction.value,
                    "points": points,
                }
            )
    defs = {t.code: t for t in library.tags}
    counts: dict[tuple[int, str], int] = {}
    for person_id, code in tags:
        if person_id in out and code in defs:
            counts[(person_id, code)] = counts.get((person_id, code), 0) + 1
    for (person_id, code), n in sorted(counts.items()):
        tag = defs[code]
        points = r2(sign(tag.direction) * tag.coefficient * n)
        result = out[person_id]
        result.dims[tag.dimension.value] = r2(result.dims[tag.dimension.value] + points)
        result.items.append(
            {
                "source": "tag",
                "code": code,
                "name": tag.name,
                "dimension": tag.dimension.value,
                "value": n,
                "unit": "",
                "coefficient": tag.coefficient,
                "direction": tag.direction.value,
                "points": points,
            }
        )
    return out


def ranks(totals: Mapping[int, float]) -> dict[int, int]:
    """Competition ranking: 1 = highest; equal totals share a rank."""
    ordered = sorted(totals.values(), reverse=True)
    return {p: ordered.index(t) + 1 for p, t in totals.items()}


def flags(library: LibraryContent, total: float, previous: float | None) -> list[str]:
    out = []
    if library.drop_alert is not None and previous is not None and previous - total >= library.drop_alert:
        out.append("fell")
    if library.alert_below is not None and total < library.alert_below:
        out.append("below")
    return out


def talk_suggested(flagged: list[str], problems: float) -> bool:
    return bool(flagged) or problems < 0
