"""The trail of acts (行权留痕): append-only records chained by a keyed hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import LocalDateTime


class AuditRecord(SQLModel, table=True):
    """One act. Written with the change it records (``mac``: its content keyed, so a record slipped
    in behind the application's back is refused); ``seq``, ``prev_hash`` and ``hash`` are set
    when a sealer chains it, moments later (``backend/audit/sealing.py``): until then it is pending."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id"),
        Index("ix_audit_actor_unit", "actor_unit_id"),
        # the pending records (a sealer's every pass): found without walking the sealed ones
        Index(
            "ix_audit_pending", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: its place in the chain, from 1; None while pending (not yet sealed)
    seq: int | None = Field(default=None, unique=True, index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor_person_id: int | None = None
    actor_account_id: int | None = None
    actor_unit_id: int | None = None
    actor_label: str | None = Field(default=None, max_length=120)
    actor_post: str | None = Field(default=None, max_length=120)
    channel: str = Field(max_length=16)
    request_id: str | None = Field(default=None, max_length=64)
    object_type: str = Field(max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64)
    power: str | None = Field(default=None, max_length=64)
    old_value: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    new_value: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
    #: keyed hash of the content (not of seq or prev_hash), set when the record is written
    mac: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """One row: the last sealed record's seq and hash. Only sealers update it (briefly, in their
    own transaction); a request writing a record never touches it."""

    __tablename__ = "audit_chain"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)


class AuditPublic(SQLModel):
    #: null for a moment after the act, until the record is sealed into the chain
    seq: int | None
    at: LocalDateTime
    actor_person_id: int | None
    actor_label: str | None
    actor_post: str | None
    channel: str
    request_id: str | None
    object_type: str
    object_id: str | None
    action: str
    power: str | None
    old_value: dict[str, Any] | None
    new_value: dict[str, Any] | None
