"""Organisation: units (a tree), posts with a post risk value, people."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel

from backend.kernel.access import Role
from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class UnitKind(StrEnum):
    company = "company"
    county = "county"
    station = "station"
    department = "department"


class Specialty(StrEnum):
    marketing = "marketing"  # 营销
    finance = "finance"  # 财务
    materials = "materials"  # 物资
    engineering = "engineering"  # 工程
    operations = "operations"  # 运检
    general = "general"  # 综合


# --- units ---------------------------------------------------------------------------


class UnitBase(SQLModel):
    code: str = Field(min_length=1, max_length=32, index=True, unique=True)
    name: str = Field(min_length=1, max_length=120)
    kind: UnitKind = Field(sa_type=String(16))
    specialty: Specialty | None = Field(default=None, sa_type=String(16))


class Unit(UnitBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    #: materialised path of ids, "/1/4/9/", for subtree queries
    path: str = Field(default="/", max_length=512, index=True)
    active: bool = True


class UnitCreate(UnitBase):
    model_config = STRICT
    parent_code: str | None = None


class UnitUpdate(SQLModel):
    model_config = STRICT
    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: UnitKind | None = None
    specialty: Specialty | None = None
    parent_code: str | None = None
    active: bool | None = None


class UnitPublic(UnitBase):
    id: int
    parent_id: int | None
    active: bool


# --- posts ---------------------------------------------------------------------------


class PostBase(SQLModel):
    code: str = Field(min_length=1, max_length=32, index=True, unique=True)
    name: str = Field(min_length=1, max_length=120)
    #: post risk value 岗位风险值, 0–100, set by the business department (standard 10.1.1)
    risk_value: float = Field(default=50, ge=0, le=100)
    specialty: Specialty | None = Field(default=None, sa_type=String(16))


class Post(PostBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class PostCreate(PostBase):
    model_config = STRICT


class PostUpdate(SQLModel):
    model_config = STRICT
    name: str | None = Field(default=None, min_length=1, max_length=120)
    risk_value: float | None = Field(default=None, ge=0, le=100)
    specialty: Specialty | None = None


class PostPublic(PostBase):
    id: int


# --- people --------------------------------------------------------------------------


class PersonBase(SQLModel):
    employee_no: str = Field(min_length=1, max_length=32, index=True, unique=True)
    name: str = Field(min_length=1, max_length=60)
    started_in_post: date | None = None
    phone: str | None = Field(default=None, max_length=32)
    #: the year of birth (age is a factor of the risk portrait, B.18); the year only, not the day
    birth_year: int | None = Field(default=None, ge=1900, le=2100)


def _check_roles(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = [v for v in value if v not in Role.__members__]
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}; known: {', '.join(Role.__members__)}")
    return sorted(set(value))


class Person(PersonBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    roles: list[str] = Field(default_factory=lambda: ["employee"], sa_column=Column(JSONType, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PersonPost(SQLModel, table=True):
    """A post held over time (post history, for the integrity archive): a row opens when a person
    is created or their post or unit changes (by the org import or an admin's edit), and the open
    row closes on the day of the next change. Rows from before this table existed: one per person
    (``source`` "backfill", from the post they held then); earlier changes are in the trail."""

    __tablename__ = "person_post"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    post_id: int | None = Field(default=None, foreign_key="post.id")
    unit_id: int = Field(foreign_key="unit.id")
    since: date | None = None
    #: none while the post is held
    until: date | None = None
    #: created / edited / imported / backfill
    source: str = Field(sa_type=String(12))


class PersonCreate(PersonBase):
    model_config = STRICT
    unit_code: str
    post_code: str | None = None
    roles: list[str] = Field(default_factory=lambda: ["employee"])

    _roles = field_validator("roles")(_check_roles)


class PersonUpdate(SQLModel):
    model_config = STRICT
    name: str | None = Field(default=None, min_length=1, max_length=60)
    unit_code: str | None = None
    post_code: str | None = None
    started_in_post: date | None = None
    phone: str | None = Field(default=None, max_length=32)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    roles: list[str] | None = None
    active: bool | None = None

    _roles = field_validator("roles")(_check_roles)


class PersonPublic(PersonBase):
    id: int
    unit_id: int
    unit_code: str
    unit_name: str
    post_id: int | None
    post_code: str | None
    post_name: str | None
    post_risk_value: float | None
    roles: list[str]
    active: bool
    #: committee or inspector asked for this person, in force once another administrator approves
    #: (set in the answer to a create or an edit)
    pending_roles: list[str] = []


class PersonPage(SQLModel):
    items: list[PersonPublic]
    total: int
    limit: int
    offset: int


class OverseerPublic(SQLModel):
    """Someone who may act over a person (an interviewer, say): as little as a picker shows."""

    id: int
    name: str
    post_name: str | None
    unit_name: str
    #: why: head of the person's unit or one above it, inspector over it, or committee member
    role: Role


# --- role grants (second-person approval) ----------------------------------------------


class GrantStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


#: roles that open case content beyond one's own unit: granted by one admin, in force once another
#: approves (separation of duties)
APPROVED_ROLES = frozenset({Role.committee.value, Role.inspector.value})


class RoleGrant(SQLModel, table=True):
    """A role asked for a person by one administrator, waiting for another's approval."""

    __tablename__ = "role_grant"
    __table_args__ = (
        Index(
            "ix_role_grant_one_pending",
            "person_id",
            "role",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    status: GrantStatus = Field(default=GrantStatus.pending, sa_type=String(16))
    requested_by: int | None = Field(default=None, foreign_key="person.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RoleGrantPublic(SQLModel):
    id: int
    person_id: int
    person_name: str
    employee_no: str
    role: Role
    status: GrantStatus
    requested_by: int | None
    requested_by_name: str | None
    requested_at: LocalDateTime
    decided_by: int | None
    decided_at: LocalDateTime | None
