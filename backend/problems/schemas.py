"""API shapes of the problem list: each step's body, a problem as read, and the summed effect."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel

from backend.kernel.flow import StepPublic
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime
from backend.problems.models import ProblemCategory, ProblemOrigin, ProblemState


class ProblemCreate(SQLModel):
    """Registered by an inspector, or reported by a unit's head about their own unit (自查上报)."""

    model_config = STRICT

    unit_id: int = Field(ge=1)
    origin: ProblemOrigin
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)


class ProblemClassify(SQLModel):
    model_config = STRICT

    category: ProblemCategory


class ProblemAssign(SQLModel):
    model_config = STRICT

    assignee_person_id: int = Field(ge=1)


class ProblemPlan(SQLModel):
    """整改措施 and the date they are to be done by."""

    model_config = STRICT

    measures: str = Field(min_length=1, max_length=4000)
    due_on: date


class ProblemDone(SQLModel):
    model_config = STRICT

    text: str = Field(min_length=1, max_length=4000)


class ProblemCheck(SQLModel):
    model_config = STRICT

    passed: bool
    note: str = Field(min_length=1, max_length=2000)


class ProblemClose(SQLModel):
    """销号, with the effect and when to re-check."""

    model_config = STRICT

    money_recovered: float = Field(default=0, ge=0, le=1e12)
    problems_avoided: int = Field(default=0, ge=0, le=1_000_000)
    effect_note: str = Field(default="", max_length=1000)
    recheck_on: date | None = None


class ProblemRecheck(SQLModel):
    model_config = STRICT

    note: str = Field(min_length=1, max_length=2000)
    #: the problem came back: it is assigned again for new measures
    relapsed: bool = False


class ProblemPublic(SQLModel):
    id: int
    number: str
    unit_id: int
    unit_name: str
    origin: ProblemOrigin
    title: str
    description: str
    state: ProblemState
    category: ProblemCategory | None
    registered_at: LocalDateTime
    registered_by_name: str | None
    assignee_person_id: int | None
    assignee_name: str | None
    measures: str
    due_on: date | None
    overdue: bool
    rectified_text: str
    closed_at: LocalDateTime | None
    recheck_on: date | None
    rechecks: int
    money_recovered: float
    problems_avoided: int
    effect_note: str


class ProblemFile(SQLModel):
    problem: ProblemPublic
    steps: list[StepPublic]
    #: classify, assign, plan, done, check, close, recheck
    actions: list[str]


class ProblemEffect(SQLModel):
    """The list's effect over the caller's scope: problems by state, and the closed ones' effect."""

    total: int
    by_state: dict[str, int]
    closed: int
    money_recovered: float
    problems_avoided: int
