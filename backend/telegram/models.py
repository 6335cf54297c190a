"""Telegram: which Telegram account speaks for which person, one-time binding codes, chat state.

* :class:`TelegramBinding` — one Telegram account per person and one person per Telegram account.
  The chat id is also the person's ``telegram`` delivery address (``DeliveryService.bind_telegram``).
* :class:`TelegramLinkCode` — a one-time code behind the PWA's ``https://t.me/<bot>?start=<code>``
  link: only its SHA-256 is kept; single use; expires after ten minutes.
* :class:`TelegramState` — the bot's conversation states and half-finished replies, so a restart
  resumes them (``bot.persistence.DatabasePersistence``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.timeutil import LocalDateTime, utcnow


class TelegramBinding(SQLModel, table=True):
    __tablename__ = "telegram_binding"

    person_id: int = Field(
        primary_key=True, foreign_key="person.id", sa_column_kwargs={"autoincrement": False}
    )
    #: the Telegram user (who presses buttons) and their private chat with the bot (where alerts go)
    user_id: int = Field(sa_column=Column(BigInteger(), nullable=False, unique=True))
    chat_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    language: str = Field(default="zh", sa_type=String(8))
    bound_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TelegramLinkCode(SQLModel, table=True):
    __tablename__ = "telegram_link_code"

    code_hash: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class TelegramState(SQLModel, table=True):
    """One persisted piece of bot state: ``scope`` is ``user`` or ``conv:<name>``."""

    __tablename__ = "telegram_state"

    scope: str = Field(primary_key=True, max_length=40)
    key: str = Field(primary_key=True, max_length=80)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- API shapes --------------------------------------------------------------------


class TelegramLink(SQLModel):
    """A one-time binding link for the PWA: open ``url`` (or send ``start_command`` to the bot)."""

    code: str
    url: str | None
    start_command: str
    bot_username: str | None
    expires_at: LocalDateTime


class TelegramMe(SQLModel):
    bound: bool
    bound_at: LocalDateTime | None = None
    language: str | None = None
    bot_username: str | None = None
