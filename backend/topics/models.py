"""Supervision topics (监督主题, form B.3), their versioned rules and the requests that change them."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, StringConstraints, model_validator
from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.data.models import ColumnLabel
from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow

STRICT: Any = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TopicState(StrEnum):
    proposed = "proposed"
    validating = "validating"
    online = "online"
    retired = "retired"


class Period(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


class RequestKind(StrEnum):
    threshold_change = "threshold_change"  # B.11
    rule_optimisation = "rule_optimisation"  # B.7
    exit = "exit"  # B.8


class RequestState(StrEnum):
    open = "open"
    approved = "approved"
    rejected = "rejected"


class Thresholds(SQLModel):
    """Map the rule's ``measure`` column to a level: at or above (or at or below) each bound."""

    model_config = STRICT
    measure: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
    direction: Literal["above", "below"] = "above"
    high: float | None = None
    medium: float | None = None
    low: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        bounds = [b for b in (self.high, self.medium, self.low) if b is not None]
        if any(not math.isfinite(b) for b in bounds):
            raise ValueError("bounds must be finite numbers")
        if not bounds:
            raise ValueError("give at least one of high, medium, low")
        ordered = sorted(bounds, reverse=self.direction == "above")
        if bounds != ordered:
            raise ValueError(f"bounds must go from high to low for direction {self.direction!r}")
        return self


class TopicFields(SQLModel):
    """The fields of form B.3."""

    #: the name people read (zh-CN), on every warning of the topic
    name: str = Field(min_length=1, max_length=120)
    name_en: str = Field(default="", max_length=120)
    #: what the responsible person is asked to do, in plain words (请核查……)
    instruction: str = Field(default="", max_length=500)
    instruction_en: str = Field(default="", max_length=500)
    specialty: str = Field(min_length=1, max_length=16, sa_type=String(16), index=True)
    target: str = Field(default="", max_length=200)  # 监督对象
    risk_point: str = Field(default="", max_length=500)  # 风险点
    handling_post: str = Field(default="", max_length=200)  # 处置岗位
    rule_text: str = Field(default="", max_length=2000)  # 规则描述
    threshold_text: str = Field(default="", max_length=1000)  # 预警等级阈值 (as people read it)
    formula: str = Field(default="", max_length=1000)  # 计算公式
    data_fields: str = Field(default="", max_length=1000)  # 数据字段
    data_source: str = Field(default="", max_length=200)  # 数据来源
    monitoring_period: Period = Field(default=Period.monthly, sa_type=String(16))
    data_range: str = Field(default="", max_length=200)  # 最小数据范围
    stars: int = Field(default=3, ge=1, le=5)
    #: an offline topic has no data rule: checked by inspection (e.g. completion acceptance)
    offline: bool = False


class Topic(TopicFields, table=True):
    __tablename__ = "topic"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    state: TopicState = Field(default=TopicState.proposed, sa_type=String(16), index=True)
    current_version_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_run_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: labels of the rule's output columns people read ({column: ColumnLabel}); columns of the
    #: business tables carry their own (``ColumnSpec``)
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


#: output columns of a rule, as the evidence keeps them
OutputColumn = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]


class RuleDraft(SQLModel):
    """A rule: parameterised SELECT returning employee_no, object_key, period_key and the measure."""

    model_config = STRICT
    sql: str = Field(min_length=1, max_length=20_000)
    params: dict[str, Any] = Field(default_factory=dict)
    thresholds: Thresholds


class TopicCreate(TopicFields):
    model_config = STRICT
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
    rule: RuleDraft | None = None
    labels: dict[OutputColumn, ColumnLabel] = Field(default_factory=dict, max_length=200)


class TopicUpdate(SQLModel):
    model_config = STRICT
    name: str | None = Field(default=None, min_length=1, max_length=120)
    name_en: str | None = Field(default=None, max_length=120)
    instruction: str | None = Field(default=None, max_length=500)
    instruction_en: str | None = Field(default=None, max_length=500)
    #: replaces the labels of the rule's output columns
    labels: dict[OutputColumn, ColumnLabel] | None = Field(default=None, max_length=200)
    target: str | None = Field(default=None, max_length=200)
    risk_point: str | None = Field(default=None, max_length=500)
    handling_post: str | None = Field(default=None, max_length=200)
    rule_text: str | None = Field(default=None, max_length=2000)
    threshold_text: str | None = Field(default=None, max_length=1000)
    formula: str | None = Field(default=None, max_length=1000)
    data_fields: str | None = Field(default=None, max_length=1000)
    data_source: str | None = Field(default=None, max_length=200)
    monitoring_period: Period | None = None
    data_range: str | None = Field(default=None, max_length=200)
    stars: int | None = Field(default=None, ge=1, le=5)


class RuleVersion(SQLModel, table=True):
    """One version of a topic's rule. Once it raised a warning it is never edited."""

    __tablename__ = "rule_version"
    __table_args__ = (UniqueConstraint("topic_id", "number", name="uq_rule_version_number"),)

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(index=True)
    number: int
    sql: str = Field(sa_column=Column(Text, nullable=False))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    thresholds: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    tables: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    #: set by the first run that stores a warning from this version: from then on frozen
    raised: bool = False
    note: str = Field(default="", max_length=500)
    request_id: int | None = None
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class RuleVersionPublic(SQLModel):
    id: int
    topic_id: int
    number: int
    sql: str
    params: dict[str, Any]
    thresholds: dict[str, Any]
    tables: list[str]
    raised: bool
    note: str
    request_id: int | None
    created_at: LocalDateTime


class TopicPublic(TopicFields):
    id: int
    code: str
    state: TopicState
    current_version_id: int | None
    created_at: LocalDateTime
    updated_at: LocalDateTime
    last_run_at: LocalDateTime | None
    labels: dict[str, ColumnLabel] = Field(default_factory=dict)
    current_version: RuleVersionPublic | None = None


class Transition(SQLModel):
    model_config = STRICT
    to: TopicState
    note: str = Field(default="", max_length=500)


class TopicRequest(SQLModel, table=True):
    """Threshold change (B.11), rule optimisation (B.7) or exit (B.8): approved by a topic expert."""

    __tablename__ = "topic_request"

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(index=True)
    kind: RequestKind = Field(sa_type=String(24))
    state: RequestState = Field(default=RequestState.open, sa_type=String(16), index=True)
    reason: str = Field(max_length=1000)
    proposal: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    requested_by: int | None = None
    decided_by: int | None = None
    decision_note: str = Field(default="", max_length=1000)
    version_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RequestCreate(SQLModel):
    model_config = STRICT
    kind: RequestKind
    reason: str = Field(min_length=1, max_length=1000)
    #: threshold_change: thresholds; rule_optimisation: sql and/or params and/or thresholds
    thresholds: Thresholds | None = None
    sql: str | None = Field(default=None, max_length=20_000)
    params: dict[str, Any] | None = None


class Decision(SQLModel):
    model_config = STRICT
    approve: bool
    note: str = Field(default="", max_length=1000)


class RequestPublic(SQLModel):
    id: int
    topic_id: int
    kind: RequestKind
    state: RequestState
    reason: str
    proposal: dict[str, Any]
    requested_by: int | None
    decided_by: int | None
    decision_note: str
    version_id: int | None
    created_at: LocalDateTime
    decided_at: LocalDateTime | None
