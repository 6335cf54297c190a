"""Business data: table declarations (data, not code), imports and data-quality issues.

The rows themselves live in the DuckDB business store (:mod:`backend.data.store`); the
operational database keeps what a person manages and reads: which tables exist, who imported
what and how it went, and which rows were refused and why.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED_PREFIXES = ("duckdb_", "pg_", "sqlite_", "information_schema", "reject_", "_")
#: DuckDB types a declaration may use; DECIMAL(p,s) is checked separately
SIMPLE_TYPES = {
    "VARCHAR",
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "DOUBLE",
    "DATE",
    "TIMESTAMP",
    "TIME",
    "BOOLEAN",
}
DECIMAL = re.compile(r"^DECIMAL\((\d{1,2}),\s*(\d{1,2})\)$")
STRICT: Any = ConfigDict(extra="forbid", str_strip_whitespace=True)


def check_name(value: str, what: str) -> str:
    if not NAME.match(value) or value.startswith(RESERVED_PREFIXES):
        raise ValueError(
            f"{what} {value!r}: use lower-case letters, digits and _, starting with a letter (max 63)"
        )
    return value


def normalise_type(value: str) -> str:
    kind = " ".join(value.upper().split())
    kind = {"TEXT": "VARCHAR", "STRING": "VARCHAR", "INT": "INTEGER", "FLOAT": "DOUBLE"}.get(kind, kind)
    match = DECIMAL.match(kind)
    if kind in SIMPLE_TYPES:
        return kind
    if match and 0 < int(match.group(1)) <= 38 and int(match.group(2)) <= int(match.group(1)):
        return f"DECIMAL({match.group(1)},{match.group(2)})"
    raise ValueError(
        f"type {value!r} is not supported; use one of {', '.join(sorted(SIMPLE_TYPES))}, DECIMAL(p,s)"
    )


class Unit(StrEnum):
    """How a value is shown to people: its unit and format (``backend/warnings/evidence.py``)."""

    percent = "percent"  # a ratio (0.45) shown as 45%
    yuan = "yuan"  # money: ¥1,250.00
    kwh = "kwh"
    kva = "kva"
    kv = "kv"
    days = "days"
    number = "number"  # a plain number (a count, a score)
    date = "date"  # 12月18日（周五）


class ColumnLabel(SQLModel):
    """What people read for a column: its zh-CN and English label and its unit."""

    model_config = STRICT
    label: str = Field(min_length=1, max_length=120)
    label_en: str = Field(default="", max_length=120)
    unit: Unit | None = None


class ColumnSpec(SQLModel):
    """One column of a business table: name, DuckDB type, required, its labels and unit."""

    model_config = STRICT
    name: str
    type: str
    required: bool = False
    #: the zh-CN label: also the header the business system exports (e.g. 户号), taken for ``name``
    label: str | None = Field(default=None, max_length=120)
    #: the English label people read (the zh-CN one is ``label``)
    label_en: str | None = Field(default=None, max_length=120)
    unit: Unit | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "column")

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return normalise_type(value)


class TableBase(SQLModel):
    name: str = Field(max_length=63, unique=True, index=True)
    title: str = Field(max_length=120)
    #: the business system the data comes from (营销系统, 财务系统 …)
    source: str | None = Field(default=None, max_length=120)


class BusinessTable(TableBase, table=True):
    """A declared business table. Adding a table is adding a row here, not code."""

    __tablename__ = "business_table"

    id: int | None = Field(default=None, primary_key=True)
    columns: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    key: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    period_column: str | None = Field(default=None, max_length=63)
    owner_unit_id: int = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    def specs(self) -> list[ColumnSpec]:
        return [ColumnSpec.model_validate(c) for c in self.columns]


class TableDeclare(TableBase):
    """Declare a business table: ``owner_unit_code`` is the department that answers for its data."""

    model_config = STRICT
    columns: list[ColumnSpec] = Field(min_length=1, max_length=200)
    key: list[str] = Field(default_factory=list, max_length=8)
    period_column: str | None = None
    owner_unit_code: str = Field(min_length=1, max_length=32)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "table")

    @model_validator(mode="after")
    def _consistent(self) -> TableDeclare:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique")
        labels = [c.label for c in self.columns if c.label]
        if len(set(labels)) != len(labels):
            raise ValueError("column labels must be unique")
        for col in [*self.key, *([self.period_column] if self.period_column else [])]:
            if col not in names:
                raise ValueError(f"key/period column {col!r} is not one of the declared columns")
        return self


class TablePublic(TableBase):
    id: int
    columns: list[ColumnSpec]
    key: list[str]
    period_column: str | None
    owner_unit_id: int
    rows: int = 0


class TableLabels(SQLModel):
    """Labels (zh-CN, English) and units for some columns of a declared table: {column: labels}."""

    model_config = STRICT
    columns: dict[str, ColumnLabel] = Field(min_length=1, max_length=200)


class ImportStatus(StrEnum):
    running = "running"
    done = "done"
    refused = "refused"
    failed = "failed"


class DataImport(SQLModel, table=True):
    """The record of one import: what came in, what was taken, what was refused, how long it took."""

    __tablename__ = "data_import"

    id: int | None = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=63, index=True)
    filename: str = Field(max_length=255)
    channel: str = Field(max_length=16)
    encoding: str | None = Field(default=None, max_length=16)
    take_good_rows: bool = False
    status: ImportStatus = Field(default=ImportStatus.running, sa_type=String(16), index=True)
    rows_read: int = 0
    rows_taken: int = 0
    rows_refused: int = 0
    rows_replaced: int = 0
    periods: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    bytes: int = 0
    duration_ms: int = 0
    error: str | None = Field(default=None, max_length=1000)
    person_id: int | None = None
    started_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ImportPublic(SQLModel):
    id: int
    table_name: str
    filename: str
    channel: str
    encoding: str | None
    take_good_rows: bool
    status: ImportStatus
    rows_read: int
    rows_taken: int
    rows_refused: int
    rows_replaced: int
    periods: list[str]
    bytes: int
    duration_ms: int
    error: str | None
    started_at: LocalDateTime
    finished_at: LocalDateTime | None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class DataQualityIssue(SQLModel, table=True):
    """A refused row, shown to the department that owns the table (never silently dropped)."""

    __tablename__ = "data_quality_issue"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(index=True)
    table_name: str = Field(max_length=63, index=True)
    owner_unit_id: int = Field(index=True)
    row: int
    column: str | None = Field(default=None, max_length=120)
    reason: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class IssuePublic(SQLModel):
    id: int
    import_id: int
    table_name: str
    owner_unit_id: int
    row: int
    column: str | None
    reason: str
    created_at: LocalDateTime


class IssuePage(SQLModel):
    items: list[IssuePublic]
    total: int
    limit: int
    offset: int


class RowsPush(SQLModel):
    """Rows pushed by a business system: ``{"rows": [{column: value, …}, …]}``."""

    model_config = STRICT
    rows: list[dict[str, Any]] = Field(max_length=100_000)
    take_good_rows: bool = False
    source: str = Field(default="api", max_length=255)
