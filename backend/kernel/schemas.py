"""Shared pieces of API schemas."""

from __future__ import annotations

from typing import Protocol

from sqlmodel.main import SQLModelConfig

#: request bodies: unknown fields are an error (400), surrounding white space is dropped
STRICT = SQLModelConfig(extra="forbid", str_strip_whitespace=True)


class HasId(Protocol):
    id: int | None


def pk(row: HasId) -> int:
    """The primary key of a row that has been flushed (SQLModel types it as optional)."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush it first")
    return row.id
