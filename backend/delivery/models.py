"""Delivery: the outbox behind the in-app list, the channels a person can be reached on, broadcasts.

The in-app list (``event_recipient``, written by the events domain in the same transaction as
the change that caused it) is the source of truth and the outbox source. A worker *routes* each
recipient row once: it writes a :class:`DeliveryRoute` (the marker that the row was seen) and one
:class:`Delivery` per channel of the person's chain, unique per (event, person, channel). Each
send try is a :class:`DeliveryAttempt`. Nothing is sent before those rows are committed, so a
worker that dies loses nothing: an expired lease makes the row claimable again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import field_validator
from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.kernel.db import JSONType, UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class DeliveryChannel(StrEnum):
    webpush = "webpush"
    telegram = "telegram"
    wecom = "wecom"  # WeCom application message to one person (Apprise wechat://)
    dingtalk = "dingtalk"
    feishu = "feishu"
    email = "email"
    sms = "sms"  # in-house SMS gateway (Apprise json://)


#: URL schemes an Apprise channel accepts (the unit's URL template)
APPRISE_SCHEMES: dict[DeliveryChannel, tuple[str, ...]] = {
    DeliveryChannel.wecom: ("wechat",),
    DeliveryChannel.dingtalk: ("dingtalk",),
    DeliveryChannel.feishu: ("feishu", "lark"),
    DeliveryChannel.email: ("mailto", "mailtos"),
    DeliveryChannel.sms: ("json", "jsons"),
}
DEFAULT_ORDER: list[str] = [c.value for c in DeliveryChannel]
#: the languages channels speak (one message catalogue each, ``backend/delivery/payloads.py``)
Language = Literal["zh", "en"]


class DeliveryState(StrEnum):
    waiting = "waiting"  # a fallback: becomes pending when the channel before it fails
    pending = "pending"
    leased = "leased"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"  # an earlier channel got through


class RouteState(StrEnum):
    routing = "routing"
    delivered = "delivered"
    exhausted = "exhausted"  # every channel failed: the in-app list still has it
    inapp = "inapp"  # the person has no channel (or the event was too old to ring)


# --- what a person can be reached on -------------------------------------------------


class PushSubscription(SQLModel, table=True):
    __tablename__ = "push_subscription"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    endpoint: str = Field(sa_column=Column(String(1024), nullable=False, unique=True))
    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)
    user_agent: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_success_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PersonChannel(SQLModel, table=True):
    """A person's address on one channel: WeCom user id, DingTalk phone, e-mail, SMS phone,
    Telegram chat id (bound by the bot)."""

    __tablename__ = "person_channel"
    __table_args__ = (UniqueConstraint("person_id", "channel", name="uq_person_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(sa_type=String(16))
    address: str = Field(max_length=200)
    enabled: bool = True
    #: set when the channel refused the person for good (blocked bot, unknown user)
    refused_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class DeliveryPreference(SQLModel, table=True):
    """A person's own order and quiet hours; what is not set here comes from their unit's policy."""

    __tablename__ = "delivery_preference"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    #: empty: the unit's order (or the default)
    channel_order: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    #: local times "HH:MM"; red warnings ring through quiet hours. None: the unit's quiet hours;
    #: start == end: none at all, whatever the unit says
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    #: the language every channel speaks to the person ("zh" zh-CN, "en"); None: the deployment's
    #: ``delivery_language``. The PWA stores it here when a signed-in person switches language.
    language: str | None = Field(default=None, sa_type=String(8))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class DeliveryUnitPolicy(SQLModel, table=True):
    """A unit's default channel order and quiet hours for the people in it and in the units below
    it: for each of the two, the nearest unit up the tree that sets it wins; a person's own
    settings win over any unit's."""

    __tablename__ = "delivery_unit_policy"

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    #: None: the order of the unit above (or the default)
    channel_order: list[str] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    #: None: the quiet hours of the unit above; start == end: none, whatever the units above say
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ChannelConfig(SQLModel, table=True):
    """A unit's policy for one channel (the nearest unit up the tree that has one wins)."""

    __tablename__ = "channel_config"
    __table_args__ = (UniqueConstraint("unit_id", "channel", name="uq_channel_config"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    channel: str = Field(sa_type=String(16))
    #: Apprise URL with ``{address}`` where the person's address goes; holds secrets, never shown
    url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    enabled: bool = True
    #: send more than level, count, due date and link (topic code, broadcast title); off by default
    detail: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class VapidKey(SQLModel, table=True):
    """The application server's VAPID key pair, made on first start and kept."""

    __tablename__ = "vapid_key"

    id: int = Field(default=1, primary_key=True)
    private_pem: str = Field(sa_column=Column(Text, nullable=False))
    public_pem: str = Field(sa_column=Column(Text, nullable=False))
    application_server_key: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- the outbox ----------------------------------------------------------------------


class DeliveryRoute(SQLModel, table=True):
    """One per in-app notification (``event_recipient``): it has been routed to channels."""

    __tablename__ = "delivery_route"

    id: int | None = Field(default=None, primary_key=True)
    #: the in-app notification (event_recipient.id; no foreign key: the events branch migrates apart)
    recipient_id: int = Field(unique=True)
    event_id: int = Field(index=True)
    person_id: int = Field(index=True)
    chain: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    state: str = Field(default=RouteState.routing.value, sa_type=String(16), index=True)
    delivered_channel: str | None = Field(default=None, sa_type=String(16))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Delivery(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    route_id: int = Field(foreign_key="delivery_route.id", index=True)
    recipient_id: int = Field(index=True)
    event_id: int
    person_id: int
    channel: str = Field(sa_type=String(16))
    position: int = 0
    #: the unit's channel policy that applied when the route was made (Apprise URL, detail)
    config_id: int | None = None
    #: "e{event}:p{person}:{channel}": a redelivery after a crash carries the same key
    dedup_key: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    state: str = Field(default=DeliveryState.pending.value, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    channel: str = Field(sa_type=String(16))
    #: which device or service, never a secret: "subscription 12", "WeCom", "chat"
    target: str | None = Field(default=None, max_length=80)
    #: sent | retry | gone | failed | shrunk
    outcome: str = Field(sa_type=String(16))
    status: int | None = None
    error: str | None = Field(default=None, max_length=500)
    latency_ms: int = 0
    worker: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- broadcasts ----------------------------------------------------------------------


class BroadcastState(StrEnum):
    scheduled = "scheduled"
    sent = "sent"
    cancelled = "cancelled"


class BroadcastTargets(SQLModel):
    model_config = STRICT
    unit_ids: list[int] = Field(default_factory=list, max_length=500)
    roles: list[str] = Field(default_factory=list, max_length=10)
    person_ids: list[int] = Field(default_factory=list, max_length=10000)


class Broadcast(SQLModel, table=True):
    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=500)
    targets: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    state: str = Field(default=BroadcastState.scheduled.value, sa_type=String(16), index=True)
    send_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    recipients: int = 0
    reminders: int = 0
    #: an integrity lesson (廉洁教育): the hours a recipient who marks it studied is credited with
    lesson_hours: float | None = None
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- request and response schemas ------------------------------------------------------


def _hhmm(value: str | None) -> str | None:
    if value is None:
        return None
    parts = value.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError("a local time HH:MM")
    if int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ValueError("a local time HH:MM")
    return value


class PreferenceUpdate(SQLModel):
    """Omitted fields are kept. ``channel_order: []`` and ``null`` quiet hours go back to the unit's;
    equal start and end mean no quiet hours at all."""

    model_config = STRICT
    channel_order: list[DeliveryChannel] | None = Field(default=None, max_length=len(DeliveryChannel))
    quiet_start: str | None = None
    quiet_end: str | None = None
    #: the language of every channel's messages; ``null``: the deployment's
    language: Language | None = None

    _check_start = field_validator("quiet_start")(_hhmm)
    _check_end = field_validator("quiet_end")(_hhmm)


class UnitPolicyUpdate(SQLModel):
    """Omitted fields are kept; ``null`` gives the field back to the unit above (or the default);
    equal quiet start and end mean no quiet hours for the unit's people."""

    model_config = STRICT
    channel_order: list[DeliveryChannel] | None = Field(
        default=None, min_length=1, max_length=len(DeliveryChannel)
    )
    quiet_start: str | None = None
    quiet_end: str | None = None

    _check_start = field_validator("quiet_start")(_hhmm)
    _check_end = field_validator("quiet_end")(_hhmm)


class EffectivePolicy(SQLModel):
    """What applies, and which unit it comes from (None: the person's own setting or the default)."""

    channel_order: list[str]
    order_from_unit_id: int | None
    quiet_start: str | None
    quiet_end: str | None
    quiet_from_unit_id: int | None


class UnitPolicyPublic(SQLModel):
    unit_id: int
    #: what this unit sets (None: not set here)
    channel_order: list[str] | None
    quiet_start: str | None
    quiet_end: str | None
    updated_at: LocalDateTime | None
    #: what this unit's people get unless they set their own
    effective: EffectivePolicy


class AddressUpdate(SQLModel):
    model_config = STRICT
    address: str = Field(min_length=1, max_length=200)
    enabled: bool = True


class AddressPublic(SQLModel):
    channel: str
    address: str
    enabled: bool
    refused_at: LocalDateTime | None


class SubscriptionKeys(SQLModel):
    model_config = STRICT
    p256dh: str = Field(min_length=80, max_length=128)
    auth: str = Field(min_length=16, max_length=64)


class SubscriptionCreate(SQLModel):
    """The browser's ``PushSubscription.toJSON()``."""

    model_config = STRICT
    endpoint: str = Field(min_length=12, max_length=1024)
    keys: SubscriptionKeys
    expirationTime: float | None = None
    user_agent: str | None = Field(default=None, max_length=200)


class SubscriptionPublic(SQLModel):
    id: int
    service: str  # the push service's host: where the endpoint is, not the endpoint
    user_agent: str | None
    created_at: LocalDateTime
    last_success_at: LocalDateTime | None


class MyDelivery(SQLModel):
    #: the order that applies (mine, else my unit's, else the default)
    channel_order: list[str]
    #: my own quiet hours (None: my unit's, see ``effective``)
    quiet_start: str | None
    quiet_end: str | None
    addresses: list[AddressPublic]
    telegram_bound: bool
    subscriptions: list[SubscriptionPublic]
    vapid_public_key: str
    #: True when the order is my own, False when it comes from my unit or the default
    own_channel_order: bool = False
    effective: EffectivePolicy | None = None
    #: the mobile number of the people import SMS goes to while I set no SMS address of my own
    sms_from_directory: str | None = None
    #: my own language (None: the deployment's, ``language_in_use``)
    language: str | None = None
    language_in_use: str = "zh"
    #: the deployment offers Telegram (a bot is configured and not switched off): only then does
    #: 我的 offer the binding
    telegram_enabled: bool = False


class ChannelConfigUpdate(SQLModel):
    model_config = STRICT
    #: omit to keep the stored URL (it is never shown back)
    url: str | None = Field(default=None, min_length=3, max_length=2000)
    enabled: bool | None = None
    detail: bool | None = None


class ChannelConfigPublic(SQLModel):
    unit_id: int
    channel: str
    enabled: bool
    detail: bool
    #: the URL with every secret replaced by "***"
    url_masked: str | None
    has_url: bool
    updated_at: LocalDateTime


class AttemptPublic(SQLModel):
    channel: str
    target: str | None
    outcome: str
    status: int | None
    error: str | None
    latency_ms: int
    at: LocalDateTime


class ChannelProof(SQLModel):
    channel: str
    state: str
    attempts: int
    sent_at: LocalDateTime | None
    last_error: str | None
    next_attempt_at: LocalDateTime | None


class NotificationProof(SQLModel):
    """One in-app notification with what the channels did about it."""

    id: int  # the in-app notification (event recipient) id
    event_id: int
    kind: str
    level: str | None
    subject_type: str
    subject_id: int
    created_at: LocalDateTime
    read_at: LocalDateTime | None
    route_state: str  # not_routed_yet | routing | delivered | exhausted | inapp
    delivered_channel: str | None
    delivered_at: LocalDateTime | None
    channels: list[ChannelProof]
    attempts: list[AttemptPublic] = Field(default_factory=list)


class ProofPage(SQLModel):
    items: list[NotificationProof]
    total: int
    limit: int
    offset: int


class OutboxStats(SQLModel):
    deliveries: dict[str, dict[str, int]]  # channel -> state -> count
    routes: dict[str, int]
    unrouted: int


class BroadcastCreate(SQLModel):
    model_config = STRICT
    title: str = Field(min_length=1, max_length=120)
    body: str = Field(min_length=1, max_length=8000)
    link: str | None = Field(default=None, max_length=500)
    targets: BroadcastTargets
    send_at: datetime | None = None
    #: an integrity lesson: hours credited to each recipient who marks it studied
    lesson_hours: float | None = Field(default=None, gt=0, le=40)

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        """A page of Probity: a path from the root. Not another site (``https://…``), not a
        scheme-relative ``//host`` or ``/\\host`` (browsers read both as a host), no spaces or
        control characters."""
        if value is not None and (
            not value.startswith("/")
            or value[1:2] in ("/", "\\")
            or "\\" in value
            or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)
        ):
            raise ValueError("a link is a page of Probity, a path that starts with one /")
        return value


class BroadcastPublic(SQLModel):
    id: int
    title: str
    body: str
    link: str | None
    targets: dict[str, Any]
    state: str
    send_at: LocalDateTime | None
    sent_at: LocalDateTime | None
    recipients: int
    reminders: int
    created_at: LocalDateTime
    read_at: LocalDateTime | None = None  # for a recipient: when they read it
    lesson_hours: float | None = None


class BroadcastStats(SQLModel):
    broadcast_id: int
    recipients: int
    read: int
    unread: int
    read_ratio: float
    by_unit: list[dict[str, Any]]
    delivered_by_channel: dict[str, int]
    unread_person_ids: list[int]


class RemindResult(SQLModel):
    reminded: int
