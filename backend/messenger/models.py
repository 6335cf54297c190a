"""The company messengers (WeCom, DingTalk) as two-way channels: app settings, replay guard, SSO.

* :class:`MessengerApp` — one self-built app per unit and messenger (the nearest unit up the tree
  that has one serves its people): corp id, agent id, and the secrets (app secret, callback token,
  EncodingAESKey) sealed at rest (``backend.kernel.sealing``), bound to their row.
* :class:`MessengerNonce` — each callback's nonce, once per app: a replayed callback is refused.
* :class:`MessengerHandoff` — the single-use, short-lived code that carries a messenger sign-in
  (OAuth code → user id → person) into the PWA, bound to the browser that started it.

A person's messenger user id is their delivery address on that channel (``person_channel``,
owned by the delivery domain): one binding, used both to send and to know who pressed a button.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class Provider(StrEnum):
    wecom = "wecom"
    dingtalk = "dingtalk"


class MessengerApp(SQLModel, table=True):
    __tablename__ = "messenger_app"
    __table_args__ = (UniqueConstraint("unit_id", "provider", name="uq_messenger_app"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    provider: str = Field(sa_type=String(16))
    #: WeCom corp id (企业ID) / DingTalk corp id; shown (not a secret)
    corp_id: str = Field(max_length=64)
    #: WeCom AgentId / DingTalk AgentId
    agent_id: str = Field(max_length=32)
    #: WeCom Secret / DingTalk AppKey and AppSecret ("key:secret"), sealed
    secret_sealed: str = Field(sa_column=Column(Text, nullable=False))
    #: the callback's Token and EncodingAESKey, sealed
    token_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    aes_key_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: the messenger's API host (a private deployment has its own) and its OAuth page host
    api_base: str = Field(max_length=300)
    oauth_base: str = Field(max_length=300)
    #: DingTalk: the AppKey (OAuth client id) and the host of its newer API (api.dingtalk.com)
    app_key: str | None = Field(default=None, max_length=64)
    open_api_base: str | None = Field(default=None, max_length=300)
    #: DingTalk: the interactive card template (卡片模板 id) alerts are sent with; its buttons'
    #: presses come back through Stream mode (without it: work notices whose buttons are links)
    card_template_id: str | None = Field(default=None, max_length=128)
    #: cards may name the topic (where the messenger is the company's own server)
    show_topic: bool = False
    enabled: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MessengerNonce(SQLModel, table=True):
    __tablename__ = "messenger_nonce"

    app_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    nonce: str = Field(primary_key=True, max_length=64)
    stamp: int = Field(sa_column=Column(BigInteger(), nullable=False))
    seen_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class MessengerHandoff(SQLModel, table=True):
    __tablename__ = "messenger_handoff"

    code_hash: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    provider: str = Field(sa_type=String(16))
    #: SHA-256 of the browser's SSO cookie: the code opens a session in that browser only
    browser_hash: str = Field(max_length=64)
    #: where the PWA goes once signed in (a hash route such as ``/warnings/12``)
    target: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


# --- API shapes --------------------------------------------------------------------


class AppUpdate(SQLModel):
    model_config = STRICT
    corp_id: str = Field(min_length=1, max_length=64)
    agent_id: str = Field(min_length=1, max_length=32)
    #: leave out to keep the stored one
    secret: str | None = Field(default=None, min_length=1, max_length=200)
    token: str | None = Field(default=None, min_length=1, max_length=64)
    aes_key: str | None = Field(default=None, min_length=43, max_length=43)
    api_base: str | None = Field(default=None, max_length=300)
    oauth_base: str | None = Field(default=None, max_length=300)
    #: DingTalk only: the AppKey, and the newer API's host
    app_key: str | None = Field(default=None, min_length=1, max_length=64)
    open_api_base: str | None = Field(default=None, max_length=300)
    #: DingTalk only: the interactive card template; empty to send work notices instead
    card_template_id: str | None = Field(default=None, max_length=128)
    show_topic: bool = False
    enabled: bool = True


class AppPublic(SQLModel):
    """An app's settings as an admin sees them: the secrets only as set / not set."""

    id: int
    unit_id: int
    provider: str
    corp_id: str
    agent_id: str
    secret_set: bool
    callback_set: bool
    api_base: str
    oauth_base: str
    app_key: str | None = None
    open_api_base: str | None = None
    card_template_id: str | None = None
    show_topic: bool
    enabled: bool
    callback_path: str | None
    sso_path: str
    updated_at: LocalDateTime


class Unmatched(SQLModel):
    employee_no: str
    reason: str


class MatchReport(SQLModel):
    """Who got a messenger user id, and who could not be matched (with why)."""

    provider: str
    matched: int = 0
    unchanged: int = 0
    unmatched: list[Unmatched] = Field(default_factory=list)


class HandoffExchange(SQLModel):
    model_config = STRICT
    code: str = Field(min_length=10, max_length=80)


class BindingPublic(SQLModel):
    provider: str
    #: an app serves the person's unit
    available: bool
    bound: bool
    refused: bool = False
    user_id: str | None = None
