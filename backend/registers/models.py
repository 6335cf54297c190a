"""B.1 risk points: per specialty and post, the risk, how it shows, its controls, and whether an
online topic watches it or an offline check does; each change keeps the version before it. A risk
point also carries what form B.4 (the four lists' summary) asks of the problem list and the risk
list: the problems found by inspection tours and typical cases, the units and powers involved, and
whether a rule governs it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class RiskPointFields(SQLModel):
    specialty: str = Field(min_length=1, max_length=16, sa_type=String(16), index=True)
    #: the posts involved (涉及岗位), as people name them
    posts: str = Field(default="", max_length=200)
    business_item: str = Field(min_length=1, max_length=200)  # 业务事项
    process_step: str = Field(default="", max_length=200)  # 流程环节
    risk_point: str = Field(min_length=1, max_length=500)  # 风险点
    manifestation: str = Field(default="", max_length=1000)  # 行为表现
    control_measures: str = Field(default="", max_length=2000)  # 防控措施
    #: the online topic that watches it (its code), or none and an offline check
    topic_code: str | None = Field(default=None, max_length=32)
    offline_check: str = Field(default="", max_length=500)  # 线下检查方式
    owner: str = Field(default="", max_length=120)  # 责任部门
    # --- form B.4: the problem list and the rest of the risk list ---
    inspection_findings: str = Field(default="", max_length=1000)  # 巡视巡察发现的问题
    typical_cases: str = Field(default="", max_length=1000)  # 典型案例
    power_problems: str = Field(default="", max_length=1000)  # 权力相关问题
    units: str = Field(default="", max_length=200)  # 关涉单位
    post_powers: str = Field(default="", max_length=500)  # 岗位分权限
    powers: str = Field(default="", max_length=500)  # 岗位权限
    #: 是否有规可依 (unknown until an expert says)
    has_rules: bool | None = None
    rule_basis: str = Field(default="", max_length=1000)  # 制度依据


class RiskPoint(RiskPointFields, table=True):
    __tablename__ = "risk_point"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_by: int | None = None


class RiskPointVersion(SQLModel, table=True):
    """A risk point as it was before a change."""

    __tablename__ = "risk_point_version"

    id: int | None = Field(default=None, primary_key=True)
    risk_point_id: int = Field(foreign_key="risk_point.id", index=True)
    version: int
    data: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    valid_until: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    changed_by: int | None = None


class RiskPointCreate(RiskPointFields):
    model_config = STRICT
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]


class RiskPointUpdate(SQLModel):
    model_config = STRICT
    specialty: str | None = Field(default=None, min_length=1, max_length=16)
    posts: str | None = Field(default=None, max_length=200)
    business_item: str | None = Field(default=None, min_length=1, max_length=200)
    process_step: str | None = Field(default=None, max_length=200)
    risk_point: str | None = Field(default=None, min_length=1, max_length=500)
    manifestation: str | None = Field(default=None, max_length=1000)
    control_measures: str | None = Field(default=None, max_length=2000)
    topic_code: str | None = Field(default=None, max_length=32)
    offline_check: str | None = Field(default=None, max_length=500)
    owner: str | None = Field(default=None, max_length=120)
    inspection_findings: str | None = Field(default=None, max_length=1000)
    typical_cases: str | None = Field(default=None, max_length=1000)
    power_problems: str | None = Field(default=None, max_length=1000)
    units: str | None = Field(default=None, max_length=200)
    post_powers: str | None = Field(default=None, max_length=500)
    powers: str | None = Field(default=None, max_length=500)
    has_rules: bool | None = None
    rule_basis: str | None = Field(default=None, max_length=1000)


class RiskPointPublic(RiskPointFields):
    id: int
    code: str
    version: int
    updated_at: LocalDateTime
    #: the online topic's name, when it has one
    topic_name: str | None = None


class RiskPointVersionPublic(SQLModel):
    version: int
    data: dict[str, Any]
    valid_until: LocalDateTime


class PsychAverages(SQLModel):
    """The check-up's five dimensions averaged over the people of a risk point's posts (the latest
    campaign); none where fewer than five people were graded (or the reader sees no figures)."""

    people: int | None = None
    cognitive: float | None = None
    personality: float | None = None
    stress: float | None = None
    support: float | None = None
    emotion: float | None = None
    mean: float | None = None


class FourListsRow(SQLModel):
    """One row of form B.4: a risk point with its problem list, risk list, data list and
    psychological list."""

    risk: RiskPointPublic
    #: the watching topic's rule as people read it (数据清单: 监督规则)
    topic_rule: str | None = None
    psych: PsychAverages
    #: the check-up campaign the psychological figures come from
    campaign_title: str | None = None
