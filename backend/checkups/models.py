"""Integrity check-up (廉洁体检, standard 6.1.3 and 10): questionnaires, grading policies,
campaigns, responses, dated results, in-app notices and care measures.

Privacy: answers, the free-text note, individual scores and grades, and care notes live only in
``sealed`` columns (AES-GCM, see ``crypto.py``). Plain columns hold ids, states, dates and counts.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator, model_validator
from sqlalchemy import Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow
from backend.org.models import STRICT


class Dimension(StrEnum):
    """The five dimensions of standard 6.1.3, in the order of form B.2."""

    cognitive = "cognitive"  # 认知方式
    personality = "personality"  # 个性特征
    stress = "stress"  # 压力水平
    support = "support"  # 社会支持
    emotion = "emotion"  # 情绪意志


DIMENSION_NAMES: dict[Dimension, tuple[str, str]] = {
    Dimension.cognitive: ("认知方式", "Cognitive style"),
    Dimension.personality: ("个性特征", "Personality traits"),
    Dimension.stress: ("压力水平", "Stress level"),
    Dimension.support: ("社会支持", "Social support"),
    Dimension.emotion: ("情绪意志", "Emotion and will"),
}


class Grade(StrEnum):
    """Standard 10.2.2: high, medium, low (low or basically none)."""

    high = "high"
    medium = "medium"
    low = "low"


class ResponseStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    submitted = "submitted"


class RiskType(StrEnum):
    """Standard 10.3: the three kinds of risk care measures address."""

    psychological = "psychological"
    post = "post"
    tenure = "tenure"


class CareKind(StrEnum):
    talk = "talk"
    counselling = "counselling"
    group_session = "group_session"
    controls = "controls"
    education = "education"
    rotation = "rotation"


CARE_KINDS: dict[RiskType, tuple[CareKind, ...]] = {
    RiskType.psychological: (CareKind.talk, CareKind.counselling, CareKind.group_session),
    RiskType.post: (CareKind.controls, CareKind.education),
    RiskType.tenure: (CareKind.rotation,),
}


class CareStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


# --- questionnaire ---------------------------------------------------------------------------


class ScaleLabel(SQLModel):
    model_config = STRICT
    zh: str = Field(min_length=1, max_length=40)
    en: str = Field(min_length=1, max_length=60)


class Item(SQLModel):
    """One Likert statement. ``reverse``: agreeing signals protection, not risk."""

    model_config = STRICT
    code: str = Field(min_length=1, max_length=16, regex=r"^[A-Za-z0-9_-]+$")
    dimension: Dimension
    text_zh: str = Field(min_length=2, max_length=200)
    text_en: str = Field(min_length=2, max_length=300)
    reverse: bool = False


class QuestionnaireCreate(SQLModel):
    model_config = STRICT
    code: str = Field(default="IC", min_length=1, max_length=32, regex=r"^[A-Za-z0-9_-]+$")
    title_zh: str = Field(min_length=1, max_length=120)
    title_en: str = Field(min_length=1, max_length=200)
    scale: list[ScaleLabel] = Field(min_length=3, max_length=7)
    items: list[Item] = Field(min_length=5, max_length=200)
    note_prompt_zh: str | None = Field(default=None, max_length=200)
    note_prompt_en: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _coherent(self) -> QuestionnaireCreate:
        codes = [i.code for i in self.items]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"item codes must be unique; repeated: {', '.join(dupes)}")
        missing = [d.value for d in Dimension if not any(i.dimension == d for i in self.items)]
        if missing:
            raise ValueError(f"every dimension needs at least one item; missing: {', '.join(missing)}")
        return self


class CheckupQuestionnaire(SQLModel, table=True):
    """A frozen questionnaire version: never edited, a change is a new version."""

    __tablename__ = "checkup_questionnaire"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_checkup_questionnaire_version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32)
    version: int
    title_zh: str = Field(max_length=120)
    title_en: str = Field(max_length=200)
    scale: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    items: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    note_prompt_zh: str | None = Field(default=None, max_length=200)
    note_prompt_en: str | None = Field(default=None, max_length=300)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    def item_list(self) -> list[Item]:
        return [Item.model_validate(i) for i in self.items]


class QuestionnairePublic(SQLModel):
    id: int
    code: str
    version: int
    title_zh: str
    title_en: str
    scale: list[ScaleLabel]
    items: list[Item]
    note_prompt_zh: str | None
    note_prompt_en: str | None
    created_at: LocalDateTime


# --- grading policy --------------------------------------------------------------------------


class PolicyCreate(SQLModel):
    """Weights and cut-offs for grading; weights of each group must add up to 1."""

    model_config = STRICT
    psych_weight: float = Field(ge=0, le=1)
    post_weight: float = Field(ge=0, le=1)
    tenure_weight: float = Field(ge=0, le=1)
    dimension_weights: dict[Dimension, float] = Field(
        default_factory=lambda: {d: 0.2 for d in Dimension},
        description="weight of each dimension in the psychological score; they add up to 1",
    )
    psych_high: float = Field(default=60, ge=0, le=100)
    psych_medium: float = Field(default=40, ge=0, le=100)
    composite_high: float = Field(default=65, ge=0, le=100)
    composite_medium: float = Field(default=45, ge=0, le=100)
    tenure_full_years: float = Field(
        default=5, gt=0, le=40, description="years in post at which the time-in-post score reaches 100"
    )
    post_attention: float = Field(
        default=70, ge=0, le=100, description="post risk value from which post care measures are suggested"
    )
    rotation_years: float = Field(
        default=5, gt=0, le=40, description="years in post from which a rotation is suggested"
    )
    note: str | None = Field(default=None, max_length=300)


class CheckupPolicy(SQLModel, table=True):
    """A grading policy version; never edited. The newest is the one in force."""

    __tablename__ = "checkup_policy"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    psych_weight: float
    post_weight: float
    tenure_weight: float
    dimension_weights: dict[str, float] = Field(sa_column=Column(JSONType, nullable=False))
    psych_high: float
    psych_medium: float
    composite_high: float
    composite_medium: float
    tenure_full_years: float
    post_attention: float
    rotation_years: float
    note: str | None = Field(default=None, max_length=300)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PolicyPublic(SQLModel):
    id: int
    version: int
    psych_weight: float
    post_weight: float
    tenure_weight: float
    dimension_weights: dict[str, float]
    psych_high: float
    psych_medium: float
    composite_high: float
    composite_medium: float
    tenure_full_years: float
    post_attention: float
    rotation_years: float
    note: str | None
    created_at: LocalDateTime


# --- campaigns -------------------------------------------------------------------------------


class CampaignCreate(SQLModel):
    model_config = STRICT
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=120)
    questionnaire_id: int
    opens_at: datetime
    closes_at: datetime
    late_until: datetime | None = Field(
        default=None, description="answers after closes_at and until this moment are taken, marked late"
    )
    unit_codes: list[str] = Field(min_length=1, max_length=200, description="target units (subtrees)")

    @field_validator("opens_at", "closes_at", "late_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-03-01T00:00:00+08:00")
        return value


class CheckupCampaign(SQLModel, table=True):
    __tablename__ = "checkup_campaign"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    title: str = Field(max_length=120)
    questionnaire_id: int = Field(foreign_key="checkup_questionnaire.id", index=True)
    opens_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    late_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: target units: each with its whole subtree
    unit_ids: list[int] = Field(sa_column=Column(JSONType, nullable=False))
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: the local day of the last scheduled reminder: claimed by a conditional UPDATE, so the daily
    #: reminder goes out once a day however many processes run the job
    reminded_on: date | None = Field(default=None)


class CampaignPublic(SQLModel):
    id: int
    year: int
    title: str
    questionnaire_id: int
    opens_at: LocalDateTime
    closes_at: LocalDateTime
    late_until: LocalDateTime | None
    unit_ids: list[int]
    window: str = Field(description="scheduled, open, late (after closes_at, late answers taken) or closed")
    participants: int
    submitted: int


class UnitProgress(SQLModel):
    unit_id: int
    unit_code: str
    unit_name: str
    participants: int
    submitted: int
    in_progress: int
    pending: int
    late: int
    rate: float


class CampaignProgress(SQLModel):
    campaign_id: int
    window: str
    units: list[UnitProgress]
    participants: int
    submitted: int
    rate: float


class ReopenRequest(SQLModel):
    model_config = STRICT
    person_id: int
    reason: str = Field(min_length=4, max_length=300)
    until: datetime

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-31T23:59:00+08:00")
        return value


class RegradeRequest(SQLModel):
    model_config = STRICT
    policy_id: int | None = Field(default=None, description="default: the policy in force")


class CountReport(SQLModel):
    count: int
    detail: str


_RESPONSE_VERSION = Column("version", Integer, nullable=False, server_default="1")


class CheckupResponse(SQLModel, table=True):
    """One per person per campaign (the participant list is taken when the campaign opens)."""

    __tablename__ = "checkup_response"
    __table_args__ = (UniqueConstraint("campaign_id", "person_id", name="uq_checkup_response_person"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="checkup_campaign.id", index=True)
    person_id: int = Field(index=True)
    #: the person's unit and post when the campaign opened (scopes and aggregates follow it)
    unit_id: int = Field(index=True)
    post_code: str | None = Field(default=None, max_length=32)
    status: ResponseStatus = Field(default=ResponseStatus.pending, sa_type=String(16), index=True)
    answered: int = 0
    #: sealed {"answers": {item: value}, "note": str | None}
    sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    submissions: int = 0
    late: bool = False
    reopened_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    reopen_reason: str | None = Field(default=None, max_length=300)
    #: raised by every update; an update made from an older read changes nothing and fails
    #: (StaleDataError), so two saves of different answers both count (migration 0011c)
    version: int = Field(default=1, sa_column=_RESPONSE_VERSION)

    __mapper_args__ = {"version_id_col": _RESPONSE_VERSION}


class AnswersUpdate(SQLModel):
    """Answers as given, merged into what is saved; ``null`` clears an answer."""

    model_config = STRICT
    #: an object {item code: 1..scale or null}; at most 200 (checked below: a max_length here
    #: made the API document describe an array)
    answers: dict[str, int | None] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=500)

    @field_validator("answers", mode="before")
    @classmethod
    def _whole_numbers(cls, value: Any) -> Any:
        """A Likert answer is a JSON whole number: no strings, fractions or booleans."""
        if isinstance(value, dict):
            if len(value) > 200:
                raise ValueError("at most 200 answers at once")
            wrong = sorted(str(k) for k, v in value.items() if v is not None and type(v) is not int)
            if wrong:
                raise ValueError(f"answers must be whole numbers; not for: {', '.join(wrong)}")
        return value


class QuestionView(SQLModel):
    index: int
    code: str
    dimension: Dimension
    text_zh: str
    text_en: str
    answer: int | None


class MyCheckup(SQLModel):
    """What the phone needs to show (and resume) the questionnaire."""

    campaign_id: int
    campaign_title: str
    year: int
    status: ResponseStatus
    window: str
    can_answer: bool
    deadline: LocalDateTime | None
    questionnaire_id: int
    questionnaire_version: int
    title_zh: str
    title_en: str
    scale: list[ScaleLabel]
    questions: list[QuestionView]
    answered: int
    total: int
    next_index: int | None = Field(description="first unanswered question (resume here); null when complete")
    note_prompt_zh: str | None
    note_prompt_en: str | None
    note: str | None
    late: bool
    reopened_until: LocalDateTime | None


class MyCampaign(SQLModel):
    campaign_id: int
    title: str
    year: int
    status: ResponseStatus
    window: str
    answered: int
    total: int
    deadline: LocalDateTime | None


class SaveReport(SQLModel):
    status: ResponseStatus
    answered: int
    total: int
    next_index: int | None


class CheckupStep(SQLModel):
    """Where I stand in my own check-up and what to show next, one statement at a time (the
    chat). It holds no answer: the next statement is the first unanswered one."""

    campaign_id: int
    status: ResponseStatus
    window: str
    can_answer: bool
    answered: int
    total: int
    scale: list[ScaleLabel]
    question: QuestionView | None = Field(description="the next unanswered statement; null when complete")


# --- results ---------------------------------------------------------------------------------


class CheckupResult(SQLModel, table=True):
    """A dated grading of one response under one policy. Never edited: a re-grade adds a row
    and stamps the previous one ``superseded_at``."""

    __tablename__ = "checkup_result"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="checkup_response.id", index=True)
    campaign_id: int = Field(index=True)
    person_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    policy_id: int = Field(foreign_key="checkup_policy.id")
    reason: str = Field(max_length=16)  # submit | resubmit | regrade
    graded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: sealed scores, grades and the inputs they came from
    sealed: str = Field(sa_column=Column(Text, nullable=False))


class WhyFactor(SQLModel):
    factor: str
    name_zh: str
    name_en: str
    score: float
    weight: float
    contribution: float


class Why(SQLModel):
    """Why this grade: the factors, their weights, the cut-offs and the rule version."""

    factors: list[WhyFactor]
    composite: float
    composite_high: float
    composite_medium: float
    psych_score: float
    psych_high: float
    psych_medium: float
    dimension_weights: dict[str, float]
    policy_id: int
    policy_version: int
    policy_date: LocalDateTime
    text_zh: str
    text_en: str


class CareResource(SQLModel):
    dimension: Dimension
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str


class ResultPublic(SQLModel):
    result_id: int
    campaign_id: int
    person_id: int
    unit_id: int
    graded_at: LocalDateTime
    reason: str
    current: bool
    superseded_at: LocalDateTime | None
    direction: str = "higher score = more risk"
    dimensions: dict[str, float]
    psych_total: float
    psych_score: float
    psych_grade: Grade
    post_risk: float
    post_risk_known: bool
    tenure_years: float | None
    tenure_score: float
    composite: float
    composite_grade: Grade
    risk_types: list[RiskType]
    care_suggestions: dict[str, list[CareKind]]
    why: Why
    resources: list[CareResource] = Field(default_factory=list)


class ResultRow(SQLModel):
    """One line of an inspector's list (and of form B.2)."""

    person_id: int
    employee_no: str
    name: str
    unit_id: int
    unit_name: str
    post_name: str | None
    status: ResponseStatus
    late: bool
    result: ResultPublic | None


class Cell(SQLModel):
    key: str
    label: str
    people: int | None = Field(description="graded people; null when suppressed")
    suppressed: bool
    dimensions: dict[str, float] | None
    psych_score: float | None
    composite: float | None
    grades: dict[str, int | None] | None = Field(description="grade counts; a count under 5 is null")


class Aggregates(SQLModel):
    campaign_id: int
    by: str
    min_cell: int
    total: Cell
    cells: list[Cell]


# --- notices ---------------------------------------------------------------------------------


class CheckupNotice(SQLModel, table=True):
    """In-app notices (invitation, reminder, reopened) until the delivery layer takes over."""

    __tablename__ = "checkup_notice"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(index=True)
    campaign_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=16)
    title_zh: str = Field(max_length=120)
    title_en: str = Field(max_length=200)
    body_zh: str = Field(max_length=500)
    body_en: str = Field(max_length=800)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class NoticePublic(SQLModel):
    id: int
    campaign_id: int | None
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    created_at: LocalDateTime
    read_at: LocalDateTime | None


# --- care measures ---------------------------------------------------------------------------


class CareCreate(SQLModel):
    model_config = STRICT
    person_id: int
    campaign_id: int | None = None
    risk_type: RiskType
    kind: CareKind
    assignee_person_id: int
    due_date: date
    note: str | None = Field(default=None, max_length=1000)


class CareOutcome(SQLModel):
    model_config = STRICT
    status: CareStatus
    outcome: str = Field(min_length=2, max_length=2000)

    @field_validator("status")
    @classmethod
    def _closing(cls, value: CareStatus) -> CareStatus:
        if value == CareStatus.open:
            raise ValueError("an outcome closes the measure: use done or cancelled")
        return value


class CheckupCare(SQLModel, table=True):
    """A care measure (廉洁关爱, 10.3) for one person, carried out by a head or inspector."""

    __tablename__ = "checkup_care"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    campaign_id: int | None = Field(default=None, index=True)
    risk_type: RiskType = Field(sa_type=String(16))
    kind: CareKind = Field(sa_type=String(16))
    assignee_person_id: int = Field(index=True)
    due_date: date
    status: CareStatus = Field(default=CareStatus.open, sa_type=String(16), index=True)
    #: sealed {"note": str | None, "outcome": str | None}
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    closed_by: int | None = None
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class CarePublic(SQLModel):
    id: int
    person_id: int
    person_name: str | None
    unit_id: int
    campaign_id: int | None
    risk_type: RiskType
    kind: CareKind
    assignee_person_id: int
    assignee_name: str | None
    due_date: date
    overdue: bool
    status: CareStatus
    note: str | None
    outcome: str | None
    created_at: LocalDateTime
    closed_at: LocalDateTime | None
