"""Accounts (one per person) and sign-in sessions (one per device/refresh chain)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from backend.kernel.db import UTCDateTime
from backend.kernel.schemas import STRICT
from backend.kernel.timeutil import LocalDateTime, utcnow


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True, index=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    active: bool = True
    must_change_password: bool = False
    last_login_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=36)
    account_id: int = Field(foreign_key="account.id", index=True)
    refresh_hash: str = Field(max_length=64)
    channel: str = Field(default="api", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    #: the absolute end (sign-in + refresh_token_days); never moved by a refresh
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: sign-in or the last refresh: a refresh later than session_idle_minutes after it is refused
    last_seen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LoginThrottle(SQLModel, table=True):
    """Failed password attempts of one username (``name:<lower-case name>``, known or not) or one
    client address (``addr:<ip>``), counted by a conditional upsert (``backend/auth/throttle.py``)."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    #: attempts are refused (429) until then
    blocked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: addresses: the end of the window the failures are counted in
    window_ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


# --- API shapes --------------------------------------------------------------------


class LoginRequest(SQLModel):
    model_config = STRICT
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(SQLModel):
    model_config = STRICT
    refresh_token: str = Field(min_length=1, max_length=256)


class TokenResponse(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    refresh_token: str
    must_change_password: bool = False


class PasswordChange(SQLModel):
    model_config = STRICT
    current_password: str = Field(min_length=1, max_length=256)
    #: the rules (length, common passwords, the username) are checked by the service
    new_password: str = Field(min_length=1, max_length=256)


class PasswordReset(SQLModel):
    model_config = STRICT
    new_password: str = Field(min_length=1, max_length=256)


class SecondFactorReset(SQLModel):
    model_config = STRICT
    #: why (e.g. "phone lost, identity checked in person"): kept in the trail
    reason: str = Field(min_length=2, max_length=500)


class AccountCreate(SQLModel):
    model_config = STRICT
    employee_no: str = Field(min_length=1, max_length=32)
    username: str = Field(min_length=2, max_length=64, regex=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=256)


class AccountUpdate(SQLModel):
    model_config = STRICT
    active: bool | None = None


class AccountPublic(SQLModel):
    id: int
    person_id: int
    username: str
    active: bool
    must_change_password: bool
    #: sign-in attempts for this username are refused until then (too many wrong passwords)
    locked_until: LocalDateTime | None = None
    last_login_at: LocalDateTime | None


class Me(SQLModel):
    account_id: int
    username: str
    person_id: int
    name: str
    unit_id: int
    post_name: str | None
    roles: list[str]
    must_change_password: bool


# --- the second factor (TOTP, backend/auth/totp.py) -----------------------------------


class TotpFactor(SQLModel, table=True):
    """An account's TOTP secret, sealed at rest (bound to the account); active once confirmed."""

    __tablename__ = "totp_factor"

    account_id: int = Field(primary_key=True, foreign_key="account.id")
    secret_sealed: str = Field(max_length=255)
    active: bool = False
    #: the last time step a code was accepted for: a code is good once, and never an older one
    last_step: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    activated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class TotpRecoveryCode(SQLModel, table=True):
    """One-time recovery codes, stored as keyed hashes only; spent once."""

    __tablename__ = "totp_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class TotpChallenge(SQLModel, table=True):
    """The second step of a sign-in whose password was right: short-lived, used once. ``kind`` is
    ``totp`` (enter a code) or ``enrol`` (set the factor up first). Only the token's hash is kept."""

    __tablename__ = "totp_challenge"

    id: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=8)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class SecondFactorStep(SQLModel):
    """Sign-in answer when the password was right but a second factor is required."""

    second_factor: str
    challenge: str
    expires_in: int


class TotpLogin(SQLModel):
    model_config = STRICT
    challenge: str = Field(min_length=1, max_length=128)
    #: six digits from the app, or a recovery code
    code: str = Field(min_length=1, max_length=32)


class TotpChallengeOnly(SQLModel):
    model_config = STRICT
    challenge: str = Field(min_length=1, max_length=128)


class TotpCode(SQLModel):
    model_config = STRICT
    code: str = Field(min_length=1, max_length=32)


class TotpDisable(SQLModel):
    model_config = STRICT
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=1, max_length=32)


class TotpSetup(SQLModel):
    """A new secret, not yet active: shown while enrolling, never after activation."""

    otpauth_uri: str
    secret: str


class TotpStatus(SQLModel):
    active: bool
    pending: bool
    required: bool
    recovery_codes_left: int


class RecoveryCodes(SQLModel):
    """Shown once, at activation."""

    recovery_codes: list[str]


class EnrolledTokens(TokenResponse):
    """Sign-in completed by enrolling: the tokens, and the recovery codes (shown once)."""

    recovery_codes: list[str]
