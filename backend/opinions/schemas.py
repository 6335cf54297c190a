"""API shapes of collaborative supervision opinions (B.15)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from backend.kernel.flow import StepPublic
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime
from backend.opinions.models import OpinionState


class OpinionCreate(SQLModel):
    model_config = STRICT

    unit_id: int = Field(ge=1)
    problem: str = Field(min_length=1, max_length=4000)
    advice: str = Field(min_length=1, max_length=4000)


class OpinionText(SQLModel):
    """The words of a step: the leader's or the committee's opinion, a reason, an answer, a follow-up."""

    model_config = STRICT

    text: str = Field(min_length=1, max_length=4000)


class OpinionFollow(OpinionText):
    #: the department's measures hold: the opinion is closed (else it goes back for another answer)
    settled: bool = True


class OpinionPublic(SQLModel):
    id: int
    number: str
    unit_id: int
    unit_name: str
    state: OpinionState
    problem: str
    advice: str
    drafted_at: LocalDateTime
    drafted_by_name: str | None
    leader_opinion: str
    leader_name: str | None
    leader_at: LocalDateTime | None
    committee_opinion: str
    committee_name: str | None
    committee_at: LocalDateTime | None
    sent_at: LocalDateTime | None
    answer: str
    answered_by_name: str | None
    answered_at: LocalDateTime | None
    follow_up: str
    closed_at: LocalDateTime | None


class OpinionFile(SQLModel):
    opinion: OpinionPublic
    steps: list[StepPublic]
    #: submit, approve, return, send, answer, follow
    actions: list[str]
