"""API shapes of the statistics: figures per group, the series, and the other results' tallies.

Keys are the stored values (a level, a topic code, a unit id …) for the client's drill-down to
the list behind a figure; ``label`` is the name people read where it is data (a topic's, a unit's
or a post's name); levels, specialties and tiers are labelled by the client's catalogue.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel

from backend.interviews.schemas import RatioCell
from backend.kernel.timeutil import LocalDateTime


class Figures(SQLModel):
    """Warnings raised in the period and where they stand now."""

    raised: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    #: no verification pending or accepted (7.3.2)
    open: int = 0
    #: open past the deadline
    overdue: int = 0
    #: a verification waits for the head's decision
    waiting: int = 0
    #: confirmed or closed
    closed: int = 0
    #: with a standing verification (submitted, confirmed or closed): true or not true
    decided: int = 0
    true: int = 0
    true_rate: float | None = Field(default=None, description="true / decided (the rule's precision)")
    #: true red warnings, and those with an interview record
    true_red: int = 0
    interviewed_red: int = 0
    true_other: int = 0
    interviewed_other: int = 0
    #: first replies, those by the deadline, and open items past it (never replied)
    answered: int = 0
    on_time: int = 0
    late_open: int = 0
    on_time_rate: float | None = Field(default=None, description="on time / (answered + late open)")


class Group(Figures):
    key: str
    label: str = ""
    #: the topic's specialty (topic rows)
    specialty: str | None = None


class PeriodPublic(SQLModel):
    kind: str
    start: date
    last_day: date


class SeriesPoint(SQLModel):
    start: date
    last_day: date
    raised: int
    high: int
    medium: int
    low: int


class InterviewFigures(SQLModel):
    red: RatioCell
    orange_yellow: RatioCell


class LinkedFigures(SQLModel):
    """Linked warnings (risk notice letters) raised in the period, by rule and where they stand."""

    letters: int = 0
    answered: int = 0
    closed: int = 0
    #: no risk report yet, past its due day
    overdue: int = 0
    by_rule: dict[str, int] = Field(default_factory=dict)


class TierFigures(SQLModel):
    tier: str
    opened: int = 0
    open: int = 0
    answered: int = 0
    lifted: int = 0
    withdrawn: int = 0


class LadderFigures(SQLModel):
    """Ladder cases opened in the period per tier, and the steps taken in it (by kind)."""

    tiers: list[TierFigures]
    steps: dict[str, int]


class CheckupFigures(SQLModel):
    """The latest check-up campaign opened before the period ends, within the caller's units."""

    campaign_id: int
    year: int
    title: str
    participants: int
    submitted: int
    rate: float | None
    min_cell: int
    #: graded people per composite grade (high/medium/low); a count under ``min_cell`` is null;
    #: null altogether when fewer than ``min_cell`` people were graded
    grades: dict[str, int | None] | None


class Stats(SQLModel):
    period: PeriodPublic
    previous: PeriodPublic
    computed_at: LocalDateTime
    totals: Figures
    previous_totals: Figures
    by_level: list[Group]
    by_topic: list[Group]
    by_specialty: list[Group]
    by_unit: list[Group]
    by_post: list[Group]
    #: the last periods of the same kind, oldest first, ending with this one
    series: list[SeriesPoint]
    interviews: InterviewFigures
    linked: LinkedFigures
    #: inspectors and the committee (a ladder case is a personal file)
    ladder: LadderFigures | None
    checkups: CheckupFigures | None
