"""An approval: a form instance (B.7, B.11, B.13 …) and its ordered sign-off steps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class ApprovalState(StrEnum):
    open = "open"  # steps still to sign
    approved = "approved"  # every step signed
    returned = "returned"  # a step returned it (退回); nothing more is signed


class StepOutcome(StrEnum):
    approved = "approved"
    returned = "returned"


class Approval(SQLModel, table=True):
    __tablename__ = "approval"

    id: int | None = Field(default=None, primary_key=True)
    #: which form (``b13``, ``b11`` …): the forms feature knows what each carries
    kind: str = Field(sa_type=String(24), index=True)
    #: what the form is about (a linked warning, a topic request, a ladder case …)
    subject_type: str = Field(sa_type=String(32))
    subject_id: int
    #: the department the form concerns: who sees it follows from it
    unit_id: int = Field(index=True)
    #: 编号, shown on the form
    number: str = Field(max_length=32, unique=True)
    #: the form's fields as filed (the text of each box)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    state: str = Field(default=ApprovalState.open.value, sa_type=String(16), index=True)
    #: how many steps are signed: the next step to sign has this position
    position: int = 0
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ApprovalStep(SQLModel, table=True):
    __tablename__ = "approval_step"
    __table_args__ = (UniqueConstraint("approval_id", "position", name="uq_approval_step"),)

    id: int | None = Field(default=None, primary_key=True)
    approval_id: int = Field(foreign_key="approval.id", index=True)
    position: int
    #: the role that signs this step (head, inspector, committee, expert, admin)
    role: str = Field(sa_type=String(16))
    #: which box of the form this step fills (a catalogue key, e.g. ``head_opinion``)
    box: str = Field(sa_type=String(32))
    #: the unit the signer must hold the role over (``None``: the role anywhere)
    unit_id: int | None = None
    outcome: str | None = Field(default=None, sa_type=String(16))
    opinion: str | None = Field(default=None, max_length=2000)
    person_id: int | None = None
    signer_name: str | None = Field(default=None, max_length=64)
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class StepPublic(SQLModel):
    position: int
    role: str
    box: str
    outcome: str | None
    opinion: str | None
    signer_name: str | None
    done_at: LocalDateTime | None


class ApprovalPublic(SQLModel):
    id: int
    kind: str
    subject_type: str
    subject_id: int
    unit_id: int
    number: str
    fields: dict[str, Any]
    state: str
    position: int
    created_at: LocalDateTime
    closed_at: LocalDateTime | None
    steps: list[StepPublic]
    #: the caller may sign the next step now
    mine: bool


class StepAct(SQLModel):
    """Sign the step at ``position``: approve (同意) or return (退回) with an opinion."""

    model_config = STRICT

    approve: bool
    opinion: str = Field(min_length=1, max_length=2000)
