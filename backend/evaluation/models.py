"""Multi-dimensional integrity evaluation (Shenzhen, seed 004): business categories with a
versioned "1+3" tag library, the people evaluated and their evaluators, tags filed about them,
their comments, and evaluation rounds with one score row per person."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import utcnow


class Dimension(StrEnum):
    """The "3" of "1+3" (the "1" is the base from business data)."""

    behaviour = "behaviour"  # 廉洁行为
    awareness = "awareness"  # 廉洁意识
    problems = "problems"  # 廉洁问题


DIMENSIONS: tuple[Dimension, ...] = (Dimension.behaviour, Dimension.awareness, Dimension.problems)


class EvalCategory(SQLModel, table=True):
    """A business category (业扩报装, 抄核收, 物资采购 …): people in it share one tag library."""

    __tablename__ = "eval_category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EvalLibrary(SQLModel, table=True):
    """One version of a category's "1+3" library; never edited: an edit adds the next version."""

    __tablename__ = "eval_library"
    __table_args__ = (UniqueConstraint("category_id", "version", name="uq_eval_library_version"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="eval_category.id", index=True)
    version: int
    #: {"base_points", "alert_below", "drop_alert", "indicators": [...], "tags": [...]}
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    note: str = Field(default="", max_length=2000)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EvalSubject(SQLModel, table=True):
    """A person evaluated in a category (user management), with their evaluators."""

    __tablename__ = "eval_subject"
    __table_args__ = (UniqueConstraint("category_id", "person_id", name="uq_eval_subject_person"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="eval_category.id", index=True)
    person_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    evaluator_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    active: bool = Field(default=True)
    added_by: int | None = None
    added_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EvalTag(SQLModel, table=True):
    """A tag filed about a person (data filing), from the phone or the bot; stored once per client id."""

    __tablename__ = "eval_tag"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    body_hash: str = Field(max_length=64)
    category_id: int = Field(foreign_key="eval_category.id", index=True)
    #: the library version in force when it was filed (its words and coefficient then)
    library_id: int = Field(foreign_key="eval_library.id")
    tag_code: str = Field(max_length=32)
    dimension: str = Field(sa_type=String(12))
    person_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    occurred_on: date = Field(index=True)
    note: str = Field(default="", max_length=2000)
    #: hidden from the person (for inspectors)
    confidential: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    filed_by: int
    channel: str = Field(sa_type=String(16))
    filed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EvalTagPhoto(SQLModel, table=True):
    """A photo taken with a tag (evidence), stored by SHA-256 like replies' photos: uploaded first
    by the filer (one unbound row per filer and hash), bound to the tag it was filed with."""

    __tablename__ = "eval_tag_photo"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(sa_type=String(32))
    size: int
    uploaded_by: int = Field(index=True)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: set when a tag is filed with it (a photo goes with one tag only)
    tag_id: int | None = Field(default=None, foreign_key="eval_tag.id", index=True)


class EvalComment(SQLModel, table=True):
    """The person's (or an evaluator's) comment on a tag."""

    __tablename__ = "eval_comment"

    id: int | None = Field(default=None, primary_key=True)
    tag_id: int = Field(foreign_key="eval_tag.id", index=True)
    person_id: int
    text: str = Field(max_length=2000)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EvalRound(SQLModel, table=True):
    """A quarterly or yearly round over one library version and one period."""

    __tablename__ = "eval_round"

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="eval_category.id", index=True)
    library_id: int = Field(foreign_key="eval_library.id")
    name: str = Field(max_length=120)
    period_start: date
    period_end: date
    created_by: int | None = None
    computed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EvalScore(SQLModel, table=True):
    """One person's result in a round: base, three dimensions, total, ranks, trend, flags, why."""

    __tablename__ = "eval_score"
    __table_args__ = (UniqueConstraint("round_id", "person_id", name="uq_eval_score_person"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="eval_round.id", index=True)
    person_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    base: float
    behaviour: float
    awareness: float
    problems: float
    total: float
    rank_category: int
    rank_unit: int
    previous_total: float | None = None
    #: "fell" (by the library's drop_alert or more) and/or "below" (under alert_below)
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    #: every item that made the score: [{"source", "code", "dimension", "value", "coefficient", ...}]
    explanation: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    #: the first-form talk recorded from this result's suggestion
    interview_id: int | None = None
