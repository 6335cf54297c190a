"""API shapes of the personal ladder: issuing, answers from the phone, steps, appeals, the file."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime
from backend.ladder.models import CaseState, Tier
from backend.warnings.schemas import check_client_id


class CaseCreate(SQLModel):
    """An inspector issues a notice, an inquiry or (for serious matters at once) a recommendation."""

    model_config = STRICT

    person_id: int = Field(ge=1)
    tier: Tier = Tier.notice
    subject: str = Field(min_length=1, max_length=200)
    problem: str = Field(min_length=1, max_length=4000)
    requirements: str = Field(default="", max_length=2000)
    warning_ids: list[int] = Field(default_factory=list, max_length=50)


class AnswerCreate(SQLModel):
    """The person's written answer (说明 / 答复 / 整改情况), from the phone."""

    model_config = STRICT

    client_id: str = Field(min_length=8, max_length=64)
    text: str = Field(min_length=1, max_length=4000)
    #: rectification measures: required for an inquiry and a recommendation
    measures: str = Field(default="", max_length=4000)

    _client_id = field_validator("client_id")(classmethod(lambda cls, v: check_client_id(v)))


class Reason(SQLModel):
    model_config = STRICT

    reason: str = Field(min_length=1, max_length=2000)


class ExtensionCreate(SQLModel):
    """One extension of a recommendation's correction deadline, by at most a month."""

    model_config = STRICT

    until: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=2000)


class VisitCreate(SQLModel):
    """A follow-up visit (回访): reports heard, documents read; lifted when corrected."""

    model_config = STRICT

    note: str = Field(min_length=1, max_length=4000)
    lifted: bool


class AppealCreate(SQLModel):
    model_config = STRICT

    text: str = Field(min_length=1, max_length=4000)


class AppealOutcome(StrEnum):
    upheld = "upheld"  # 申诉成立: the case is withdrawn
    rejected = "rejected"  # 不成立: the case stands


class AppealAnswer(SQLModel):
    model_config = STRICT

    answer: str = Field(min_length=1, max_length=4000)
    outcome: AppealOutcome


class CasePublic(SQLModel):
    id: int
    person_id: int
    #: whose case (in lists an inspector reads)
    person_name: str | None = None
    unit_id: int
    tier: Tier
    colour: str
    state: CaseState
    subject: str
    problem: str
    requirements: str
    warning_ids: list[int]
    opened_by: int
    opened_at: LocalDateTime
    due_at: LocalDateTime
    due_provisional: bool
    overdue: bool
    extended: bool
    closed_at: LocalDateTime | None


class StepPublic(SQLModel):
    id: int
    at: LocalDateTime
    kind: str
    tier: Tier
    actor_person_id: int | None
    actor_label: str | None
    channel: str
    text: str | None
    data: dict[str, Any]


class AppealPublic(SQLModel):
    id: int
    case_id: int
    person_id: int
    text: str
    filed_at: LocalDateTime
    answer: str | None
    outcome: AppealOutcome | None
    answered_by: int | None
    answered_at: LocalDateTime | None


class CaseFile(SQLModel):
    """One case, one file (一事一档): the case, every step and every appeal."""

    case: CasePublic
    steps: list[StepPublic]
    appeals: list[AppealPublic]
    #: what the caller may do now: answer, appeal, escalate, extend, visit, answer_appeal
    actions: list[str]
