"""API shapes of the "1+3" evaluation: libraries, subjects, filed tags, rounds and scores."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from backend.evaluation.models import Dimension
from backend.interviews.schemas import InterviewRecord
from backend.kernel.access import Role
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime
from backend.warnings.schemas import check_client_id

CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
#: who may file a tag: the person's department head, a discipline inspector, a committee member
FILERS = frozenset({Role.head, Role.inspector, Role.committee})


def _code(value: str) -> str:
    if not CODE.match(value):
        raise ValueError("a code is 1-32 lower-case letters, digits or '_', starting with a letter")
    return value


class Direction(StrEnum):
    plus = "plus"  # adds to the score (good conduct)
    minus = "minus"  # takes from it


class IndicatorDef(SQLModel):
    """A base indicator (the "1"): one SELECT over business tables returning ``employee_no`` and
    ``value`` per person; ``$period_start`` and ``$period_end`` (dates) are the round's period."""

    model_config = STRICT

    code: str
    name: str = Field(min_length=1, max_length=60)
    sql: str = Field(min_length=1, max_length=20_000)
    coefficient: float = Field(gt=0, le=1000)
    direction: Direction
    #: the value's unit, shown after it (件, %, 天 …)
    unit: str = Field(default="", max_length=10)

    _c = field_validator("code")(classmethod(lambda cls, v: _code(v)))


class TagDef(SQLModel):
    """A tag of one of the three dimensions."""

    model_config = STRICT

    code: str
    name: str = Field(min_length=1, max_length=60)
    dimension: Dimension
    coefficient: float = Field(gt=0, le=1000)
    direction: Direction
    evidence_required: bool = False
    filers: list[Role] = Field(min_length=1, max_length=3)
    #: hidden from the person: seen by inspectors and the committee only
    confidential: bool = False

    _c = field_validator("code")(classmethod(lambda cls, v: _code(v)))

    @field_validator("filers")
    @classmethod
    def _filers(cls, value: list[Role]) -> list[Role]:
        wrong = [r.value for r in value if r not in FILERS]
        if wrong:
            raise ValueError(f"tags are filed by heads, inspectors or the committee, not {', '.join(wrong)}")
        return sorted(set(value))


class LibraryContent(SQLModel):
    """A whole library version: what an edit submits (the next version)."""

    model_config = STRICT

    base_points: float = Field(default=60, ge=0, le=1000)
    #: a total under this is flagged ("分析研判提醒"); none: no such flag
    alert_below: float | None = Field(default=None, ge=-1000, le=2000)
    #: a fall of this much or more from the person's previous round is flagged
    drop_alert: float | None = Field(default=None, gt=0, le=2000)
    indicators: list[IndicatorDef] = Field(default_factory=list, max_length=20)
    tags: list[TagDef] = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _unique(self) -> LibraryContent:
        codes = [i.code for i in self.indicators] + [t.code for t in self.tags]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"codes used twice: {', '.join(twice)}")
        return self


class CategoryCreate(SQLModel):
    model_config = STRICT

    code: str
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    library: LibraryContent

    _c = field_validator("code")(classmethod(lambda cls, v: _code(v)))


class LibraryPublic(SQLModel):
    id: int
    category_id: int
    version: int
    content: dict[str, Any]
    note: str
    created_at: LocalDateTime


class CategoryPublic(SQLModel):
    id: int
    code: str
    name: str
    description: str
    library: LibraryPublic
    subjects: int


class SubjectCreate(SQLModel):
    model_config = STRICT

    person_id: int = Field(ge=1)
    evaluator_ids: list[int] = Field(default_factory=list, max_length=10)


class SubjectsByPost(SQLModel):
    """Everyone holding a post (in the caller's scope) evaluated in a category."""

    model_config = STRICT

    post_id: int = Field(ge=1)


class SubjectPublic(SQLModel):
    id: int
    category_id: int
    person_id: int
    person_name: str
    unit_id: int
    unit_name: str
    post_name: str | None
    evaluator_ids: list[int]
    evaluator_names: list[str]
    #: tags the caller may file about this person (codes of the category's current library)
    may_file: list[str]


class TagFile(SQLModel):
    """A tag filed from the phone (offline-safe: stored once under ``client_id``) or the bot."""

    model_config = STRICT

    client_id: str = Field(min_length=8, max_length=64)
    category_id: int = Field(ge=1)
    person_id: int = Field(ge=1)
    tag_code: str = Field(min_length=1, max_length=32)
    #: the day it happened, YYYY-MM-DD (default: today)
    occurred_on: date | None = None
    note: str = Field(default="", max_length=2000)
    #: a photo uploaded first (``POST /api/evaluation/photos``) by the filer
    photo_id: int | None = Field(default=None, ge=1)

    _client_id = field_validator("client_id")(classmethod(lambda cls, v: check_client_id(v)))


class UploadedPhoto(SQLModel):
    id: int
    sha256: str
    content_type: str
    size: int
    uploaded_at: LocalDateTime


class CommentCreate(SQLModel):
    model_config = STRICT

    text: str = Field(min_length=1, max_length=2000)


class CommentPublic(SQLModel):
    id: int
    person_id: int
    person_name: str
    text: str
    at: LocalDateTime


class TagPublic(SQLModel):
    id: int
    #: the filer's client id (the phone's outbox knows its tag was stored by it)
    client_id: str
    category_id: int
    category_name: str
    person_id: int
    person_name: str
    tag_code: str
    tag_name: str
    dimension: Dimension
    direction: Direction
    coefficient: float
    occurred_on: date
    note: str
    confidential: bool
    filed_by: int
    filed_by_name: str
    channel: str
    filed_at: LocalDateTime
    comments: list[CommentPublic]
    #: the tag's photo (``GET /api/evaluation/tags/{id}/photo``), if one was filed with it
    photo_id: int | None = None


class RoundCreate(SQLModel):
    model_config = STRICT

    name: str = Field(min_length=1, max_length=120)
    period_start: date
    period_end: date
    #: the library version the round is computed on (default: the current one)
    library_version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _order(self) -> RoundCreate:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class ExplainedItem(SQLModel):
    """One line of a score's explanation."""

    #: indicator (from business data) or tag (filed)
    source: str
    code: str
    name: str
    dimension: str
    value: float
    unit: str = ""
    coefficient: float
    direction: Direction
    points: float
    #: a tag only inspectors see: its points count, its name is not shown to this caller
    confidential: bool = False


class ScorePublic(SQLModel):
    id: int
    round_id: int
    person_id: int
    person_name: str
    unit_id: int
    unit_name: str
    base: float
    behaviour: float
    awareness: float
    problems: float
    total: float
    rank_category: int
    rank_unit: int
    of_category: int
    of_unit: int
    previous_total: float | None
    change: float | None
    flags: list[str]
    explanation: list[ExplainedItem]
    interview_id: int | None
    #: a first-form talk (第一种形态谈话) is suggested
    talk_suggested: bool


class RoundPublic(SQLModel):
    id: int
    category_id: int
    category_name: str
    library_id: int
    library_version: int
    name: str
    period_start: date
    period_end: date
    computed_at: LocalDateTime
    people: int


class RoundDetail(SQLModel):
    round: RoundPublic
    scores: list[ScorePublic]


class TrendPoint(SQLModel):
    round_id: int
    round_name: str
    category_name: str
    period_end: date
    total: float
    behaviour: float
    awareness: float
    problems: float
    base: float
    rank_category: int
    of_category: int
    flags: list[str]


class TalkRecorded(SQLModel):
    """The interview recorded for a suggested talk (``client_id`` echoed for the phone's outbox)."""

    id: int
    client_id: str


class TalkInterview(InterviewRecord):
    """The interview record of a suggested first-form talk (the person and the basis come from the
    result)."""
