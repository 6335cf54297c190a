"""What the forms' routes take and give."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Field, SQLModel

from backend.approvals.models import ApprovalPublic
from backend.kernel.schemas import STRICT
from backend.topics.models import Period, Thresholds


class FormPublic(ApprovalPublic):
    pass


class NoticeCreate(SQLModel):
    """B.13 风险函告书: filed by an inspector for a linked warning; the leader approves it."""

    model_config = STRICT
    linked_id: int = Field(ge=1)
    description: str = Field(default="", max_length=4000)
    possible_risk: str = Field(min_length=1, max_length=4000)
    requirements: str = Field(min_length=1, max_length=4000)


class ReportFormCreate(SQLModel):
    """B.14 风险报告单: filed by the department's head (it is the letter's risk report)."""

    model_config = STRICT
    linked_id: int = Field(ge=1)
    confirmation: str = Field(min_length=1, max_length=4000)
    cause: str = Field(min_length=1, max_length=4000)
    measures: str = Field(min_length=1, max_length=4000)


class ThresholdFormCreate(SQLModel):
    """B.11: a department asks a topic's thresholds changed."""

    model_config = STRICT
    topic_id: int = Field(ge=1)
    thresholds: Thresholds
    reason: str = Field(min_length=1, max_length=1000)


class RuleFormCreate(SQLModel):
    """B.7 规则优化联系单."""

    model_config = STRICT
    topic_id: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=1000)
    sql: str | None = Field(default=None, max_length=20_000)
    params: dict[str, Any] | None = None
    thresholds: Thresholds | None = None
    period: Period | None = None
    fields: str = Field(default="", max_length=500)


class ExitFormCreate(SQLModel):
    """B.8 监督主题出库告知单."""

    model_config = STRICT
    topic_id: int = Field(ge=1)
    #: the business department whose head reviews the exit
    unit_id: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=1000)
    exit_on: date


class PlanFormCreate(SQLModel):
    """B.5 监督主题方案评审单."""

    model_config = STRICT
    topic: str = Field(min_length=1, max_length=500)
    goal: str = Field(min_length=1, max_length=2000)


class ClueItem(SQLModel):
    model_config = STRICT
    risk_point: str = Field(min_length=1, max_length=500)
    tier: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=2000)
    note: str = Field(default="", max_length=500)


class ClueFormCreate(SQLModel):
    """B.6 风险线索核查表: an inspector sends clues to a department."""

    model_config = STRICT
    unit_id: int = Field(ge=1)
    items: list[ClueItem] = Field(min_length=1, max_length=20)


class AccountFormCreate(SQLModel):
    """B.9 应用权限申请表: a department asks an account for one of its people."""

    model_config = STRICT
    employee_no: str = Field(min_length=1, max_length=32)
    username: str = Field(min_length=2, max_length=64, regex=r"^[A-Za-z0-9_.@-]+$")
    system: str = Field(default="“互联网+协同监督”平台", max_length=120)
    permission: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=1000)
