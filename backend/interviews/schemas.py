"""API shapes of interview records (B.12), their ratio to true warnings, and check sheets (B.17)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime
from backend.warnings.schemas import check_client_id

#: 9.2.2.2: interviews per true red warning, and per true orange/yellow warning
RED_GOAL = 0.8
OTHER_GOAL = 0.5


class Signer(StrEnum):
    interviewer = "interviewer"  # 约谈人
    interviewee = "interviewee"  # 约谈对象


class SignatureRef(SQLModel):
    """One uploaded signature image and whose it is."""

    model_config = STRICT

    signature_id: int = Field(ge=1)
    signer: Signer
    person_id: int = Field(ge=1)


class InterviewRecord(SQLModel):
    """What is written of an interview (约谈记录表, B.12), whatever it rests on. ``held_at``: ISO date
    and time, local (+08:00) unless it carries an offset. Each interviewer and the interviewee sign
    (uploaded first)."""

    model_config = STRICT

    client_id: str = Field(min_length=8, max_length=64)
    interviewer_ids: list[int] = Field(max_length=10)
    held_at: str = Field(min_length=1, max_length=40)
    place: str = Field(min_length=1, max_length=200)
    #: 三问
    q_true: str = Field(min_length=1, max_length=4000)
    q_cause: str = Field(min_length=1, max_length=4000)
    q_integrity: str = Field(min_length=1, max_length=4000)
    #: 三查
    c_collaboration: str = Field(min_length=1, max_length=4000)
    c_control: str = Field(min_length=1, max_length=4000)
    c_education: str = Field(min_length=1, max_length=4000)
    #: 一建议
    suggestion: str = Field(min_length=1, max_length=4000)
    #: 针对约谈要求的落实措施
    follow_up: str = Field(min_length=1, max_length=4000)
    signatures: list[SignatureRef] = Field(default_factory=list, max_length=12)

    _client_id = field_validator("client_id")(classmethod(lambda cls, v: check_client_id(v)))


class InterviewCreate(InterviewRecord):
    """An interview record of a person on their true warnings."""

    person_id: int = Field(ge=1)
    #: the true warnings talked about (none only for a talk with another basis, e.g. an evaluation)
    warning_ids: list[int] = Field(default_factory=list, max_length=50)


class InterviewerPublic(SQLModel):
    person_id: int
    name: str
    post: str | None


class SignaturePublic(SQLModel):
    id: int
    signer: Signer
    person_id: int
    sha256: str
    url: str


class UploadedSignature(SQLModel):
    id: int
    sha256: str
    content_type: str
    size: int
    uploaded_at: LocalDateTime


class InterviewPublic(SQLModel):
    id: int
    client_id: str
    person_id: int
    unit_id: int
    interviewee_name: str
    interviewee_unit: str
    interviewee_post: str
    held_at: LocalDateTime
    place: str
    q_true: str
    q_cause: str
    q_integrity: str
    c_collaboration: str
    c_control: str
    c_education: str
    suggestion: str
    follow_up: str
    interviewers: list[InterviewerPublic]
    signatures: list[SignaturePublic]
    warning_ids: list[int]
    recorded_by: int
    created_at: LocalDateTime
    pdf_url: str


class RatioCell(SQLModel):
    true_warnings: int
    interviewed: int
    #: interviewed / true (None when nothing was true)
    ratio: float | None
    goal: float
    met: bool | None


class UnitRatio(SQLModel):
    unit_id: int
    #: red (high)
    red: RatioCell
    #: orange and yellow (medium, low)
    orange_yellow: RatioCell


class InterviewRatio(SQLModel):
    """9.2.2.2: per unit, true warnings raised in the period and how many had an interview."""

    raised_from: date | None
    raised_to: date | None
    units: list[UnitRatio]
    total: UnitRatio


class CheckSheetCreate(SQLModel):
    """A high-risk check sheet (高风险问题核查单, B.17) for a true red warning."""

    model_config = STRICT

    risk_description: str = Field(min_length=1, max_length=4000)
    check_result: str = Field(min_length=1, max_length=4000)
    possible_risk: str = Field(min_length=1, max_length=4000)
    control_requirements: str = Field(min_length=1, max_length=4000)
    head_opinion: str = Field(min_length=1, max_length=2000)


class UnitOpinion(SQLModel):
    model_config = STRICT

    opinion: str = Field(min_length=1, max_length=2000)


class CheckSheetPublic(SQLModel):
    id: int
    warning_id: int
    person_id: int
    unit_id: int
    topic_code: str
    risk_description: str
    check_result: str
    possible_risk: str
    control_requirements: str
    head_opinion: str
    head_person_id: int
    head_opinion_at: LocalDateTime
    unit_opinion: str | None
    unit_person_id: int | None
    unit_opinion_at: LocalDateTime | None
    pdf_url: str
