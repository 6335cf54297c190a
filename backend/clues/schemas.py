"""API shapes of problem clues: registering, triage, instruction, handover, receipt, outcome."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from backend.clues.models import ClueLevel, ClueOutcome, ClueSource, ClueState, ClueText
from backend.kernel.flow import StepPublic
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime


class ClueCreate(ClueText):
    """A clue registered by an inspector. From a warning or a public report the unit and person
    follow from it where known; otherwise the person (被反映人) or the unit is named."""

    model_config = STRICT

    source: ClueSource
    warning_id: int | None = Field(default=None, ge=1)
    intake_report_id: int | None = Field(default=None, ge=1)
    subject_person_id: int | None = Field(default=None, ge=1)
    unit_id: int | None = Field(default=None, ge=1)
    subject_name: str = Field(default="", max_length=60)


class ClueTriage(SQLModel):
    model_config = STRICT

    level: ClueLevel
    proposal: str = Field(min_length=1, max_length=2000)


class ClueInstruction(SQLModel):
    model_config = STRICT

    instruction: str = Field(min_length=1, max_length=2000)


class ClueHandover(SQLModel):
    model_config = STRICT

    receiver_person_id: int = Field(ge=1)
    note: str = Field(default="", max_length=1000)


class ClueConclusion(SQLModel):
    model_config = STRICT

    outcome: ClueOutcome
    text: str = Field(min_length=1, max_length=4000)


class CluePublic(ClueText):
    id: int
    number: str
    unit_id: int
    unit_name: str
    source: ClueSource
    warning_id: int | None
    intake_report_id: int | None
    state: ClueState
    level: ClueLevel | None
    subject_person_id: int | None
    subject_name: str
    subject_unit: str
    subject_post: str
    proposal: str
    instruction: str
    instructed_at: LocalDateTime | None
    registered_at: LocalDateTime
    registered_by_name: str | None
    handed_at: LocalDateTime | None
    receiver_person_id: int | None
    receiver_name: str | None
    received_at: LocalDateTime | None
    outcome: ClueOutcome | None
    outcome_text: str
    concluded_at: LocalDateTime | None


class ClueFile(SQLModel):
    clue: CluePublic
    steps: list[StepPublic]
    #: what the caller may do next: triage, instruct, hand_over, receive, conclude
    actions: list[str]


class Receiver(SQLModel):
    person_id: int
    name: str
    unit_name: str
