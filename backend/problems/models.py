"""The problem list (问题清单, Shenyang spec §5.10): problems found by inspections, audits and cases,
or reported by a unit about itself, each numbered and classified, assigned, rectified with
measures by a due date, checked, closed (销号) and re-checked later; the effect of each (money
recovered, problems avoided) is recorded and summed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Numeric, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.flow import StepFields
from backend.kernel.timeutil import utcnow


class ProblemOrigin(StrEnum):
    inspection = "inspection"  # 监督检查
    audit = "audit"  # 审计
    case = "case"  # 案件
    supervision = "supervision"  # 数据监督（预警、比对）
    self_report = "self_report"  # 单位自查上报


class ProblemCategory(StrEnum):
    """基本分类 (classify)."""

    process = "process"  # 流程缺陷
    control = "control"  # 防控措施缺失
    conduct = "conduct"  # 作风纪律
    finance = "finance"  # 资金财务
    other = "other"


class ProblemState(StrEnum):
    registered = "registered"  # 已登记
    classified = "classified"  # 已分类
    assigned = "assigned"  # 已交办，待制定整改措施
    rectifying = "rectifying"  # 整改中（措施与期限已定）
    rectified = "rectified"  # 整改完成，待检查
    checked = "checked"  # 检查通过，待销号
    closed = "closed"  # 已销号（此后定期复查）


class Problem(SQLModel, table=True):
    __tablename__ = "problem"

    id: int | None = Field(default=None, primary_key=True)
    #: the unit that rectifies (scopes follow it)
    unit_id: int = Field(index=True)
    origin: str = Field(sa_type=String(16))
    title: str = Field(max_length=200)
    description: str = Field(max_length=4000)
    state: str = Field(default=ProblemState.registered.value, sa_type=String(12), index=True)
    category: str | None = Field(default=None, sa_type=String(12))
    registered_by: int
    registered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    #: who rectifies: a person of the unit
    assignee_person_id: int | None = Field(default=None, index=True)
    measures: str = Field(default="", max_length=4000)
    due_on: date | None = None
    rectified_text: str = Field(default="", max_length=4000)
    rectified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    checked_by: int | None = None
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: when it is to be re-checked after closing (日常监督), and how often it was
    recheck_on: date | None = None
    rechecks: int = 0
    #: the effect: money recovered (yuan) and problems avoided
    money_recovered: float = Field(
        default=0, sa_column=Column(Numeric(14, 2, asdecimal=False), nullable=False, default=0)
    )
    problems_avoided: int = 0
    effect_note: str = Field(default="", max_length=1000)


class ProblemStep(StepFields, table=True):
    __tablename__ = "problem_step"

    problem_id: int = Field(foreign_key="problem.id", index=True)
