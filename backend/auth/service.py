"""Sign-in, tokens, sessions, lockout, passwords, accounts — and building the request principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.auth.accounts import AccountAdministration
from backend.auth.models import Account, AuthSession, Me, SecondFactorStep, TokenResponse
from backend.auth.passwords import Passwords
from backend.auth.throttle import Blocked, Throttle, address_key, name_key
from backend.auth.totp import SecondFactor
from backend.kernel.access import Actor, Channel, Principal, roles_from
from backend.kernel.cache import ORG_GENERATION, TTLCache
from backend.kernel.db import read_stored
from backend.kernel.errors import AppError, Invalid, Unauthorized
from backend.kernel.schemas import pk
from backend.kernel.settings import Settings
from backend.kernel.timeutil import as_utc, utcnow
from backend.kernel.watch import kept_read, watching
from backend.org.service import ORG, OrgService, PersonFacts, person_facts

ALGORITHM = "HS256"
#: access tokens whose signature was checked, with their claims: a phone sends the same token on
#: every request for its lifetime; the expiry is still checked on every use
_VERIFIED: dict[tuple[Any, str], dict[str, Any]] = {}
_VERIFIED_MAX = 8192


def verified_claims(token: str, key: Any) -> dict[str, Any]:
    """The claims of a signed access token (``jwt.decode``, checked once per token and key)."""
    claims = _VERIFIED.get((key, token))
    if claims is not None:
        if float(claims["exp"]) <= time.time():
            raise jwt.ExpiredSignatureError("Signature has expired")
        return claims
    claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "sid"]})
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(key, token)] = claims
    return claims


def _wrong() -> Unauthorized:
    """One refusal for unknown usernames and wrong passwords alike."""
    return Unauthorized("Wrong username or password.", code="invalid_credentials")


def _reason(blocked: Blocked) -> str:
    return "address throttled" if blocked.is_address else "throttled"


def _too_many(blocked: Blocked, now: datetime) -> AppError:
    """429 for a blocked username or client address, with how long to wait."""
    wait = blocked.seconds(now)
    if blocked.is_address:
        detail, code = (
            f"Too many failed sign-ins from this address: try again in {wait} s.",
            "too_many_attempts",
        )
    else:
        detail, code = f"Too many wrong passwords: try again in {wait} s.", "account_locked"
    return AppError(
        detail, code=code, status=429, headers={"Retry-After": str(wait)}, extra={"retry_after": wait}
    )


@dataclass(frozen=True, slots=True)
class _AccountFacts:
    """What a request's principal needs of its account (no model built per request)."""

    id: int
    person_id: int
    username: str
    active: bool
    must_change_password: bool


#: every request's session check: one row, the columns it needs (an inline read on SQLite)
SESSION_LOOKUP = (
    select(
        col(AuthSession.revoked_at),
        col(AuthSession.account_id),
        col(Account.person_id),
        col(Account.username),
        col(Account.active),
        col(Account.must_change_password),
    )
    .join(Account, col(Account.id) == col(AuthSession.account_id))
    .where(col(AuthSession.id) == bindparam("sid"))
)

#: the change watch's topic (PostgreSQL) for accounts and sessions, and its tables: any write to
#: them ends every kept session lookup (sign-in, refresh, sign-out, disabling are rare)
AUTH = "auth"
WATCHED = {"account": AUTH, "auth_session": AUTH}


async def _session_row(engine: AsyncEngine, sid: str) -> list[Any]:
    """The session and its account as stored. On PostgreSQL with the change watch listening, kept
    while no account or session has changed (``backend/kernel/watch.py``): no round trip per
    request; this server's own sign-outs and disablings apply before it answers them."""

    async def read() -> list[Any]:
        return list(await read_stored(engine, SESSION_LOOKUP, {"sid": sid}))

    return await kept_read(engine, AUTH, sid, read)


def make_facts_cache(settings: Settings) -> TTLCache[PersonFacts]:
    """Per-app cache of the facts a principal is built from (see backend.kernel.cache)."""
    return TTLCache(ttl_seconds=settings.principal_cache_seconds, generation=ORG_GENERATION)


def make_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        memory_cost=settings.password_hash_memory_kib, time_cost=settings.password_hash_time_cost
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Keys:
    """Keys derived from the one secret: one for tokens, one for the audit chain."""

    token_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Keys:
        secret = settings.secret_key.get_secret_value()
        keys = _KEYS.get(secret)
        if keys is None:  # derived once per secret (each request's principal needs them)
            keys = _KEYS[secret] = cls(
                hmac.new(secret.encode(), b"probity/access-token/v1", hashlib.sha256).digest()
            )
        return keys


_KEYS: dict[str, Keys] = {}


async def signed_in_account(engine: AsyncEngine, settings: Settings, token: str) -> tuple[_AccountFacts, str]:
    """The account behind an access token, and its session id, if the token is good and its session
    has not ended (one small read: inline on SQLite). Raises ``Unauthorized`` otherwise."""
    try:
        claims = verified_claims(token, Keys.from_settings(settings).token_key)
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; refresh it.", code="token_expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("The access token is not valid.", code="invalid_token") from None
    if claims.get("typ") != "access":
        raise Unauthorized("The access token is not valid.", code="invalid_token")
    # stored values (SQLite: no result processing); only None-checks and plain values used
    found = await _session_row(engine, str(claims["sid"]))
    if not found or found[0][0] is not None or str(found[0][1]) != str(claims["sub"]):
        raise Unauthorized("This session has ended; sign in again.", code="session_ended")
    _, account_id, person_id, username, active, must_change = found[0]
    return _AccountFacts(account_id, person_id, username, bool(active), bool(must_change)), str(claims["sid"])


async def facts_of(
    bind: AsyncEngine,
    cache: TTLCache[PersonFacts] | None,
    person_id: int,
    session: AsyncSession | None = None,
) -> PersonFacts | None:
    """A person's unit, roles and scope: from ``cache`` (per process) or read (on PostgreSQL with
    ``session``'s connection when the caller holds one; see ``person_facts``). Without a session
    on PostgreSQL with the change watch listening, kept until the organisation changes instead."""
    if session is None and watching(bind):
        return await kept_read(bind, ORG, person_id, lambda: person_facts(bind, person_id))
    facts = cache.get(person_id) if cache is not None else None
    if facts is None:
        facts = await person_facts(bind, person_id, session)
        if facts is not None and cache is not None:
            cache.put(person_id, facts)
    return facts


def principal_from(
    account: Account | _AccountFacts,
    facts: PersonFacts | None,
    session_id: str,
    channel: Channel,
    request_id: str | None,
) -> Principal:
    """The principal of an active account whose person is active (``Unauthorized`` otherwise)."""
    if not account.active:
        raise Unauthorized("This account is disabled.", code="account_disabled")
    if facts is None or not facts.active:
        raise Unauthorized("This person is no longer active.", code="account_disabled")
    return Principal(
        account_id=account.id if isinstance(account, _AccountFacts) else pk(account),
        session_id=session_id,
        person_id=facts.person_id,
        unit_id=facts.unit_id,
        roles=roles_from(facts.roles),
        subtree_unit_ids=facts.subtree_unit_ids,
        specialty_unit_ids=facts.specialty_unit_ids,
        specialty=facts.specialty,
        post_name=facts.post_name,
        username=account.username,
        channel=channel,
        request_id=request_id,
        extra={"must_change_password": account.must_change_password, "name": facts.name},
    )


class AuthService(AccountAdministration, SecondFactor):
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        trail: AuditTrail,
        hasher: PasswordHasher,
        facts_cache: TTLCache[PersonFacts] | None = None,
    ) -> None:
        self.facts_cache = facts_cache
        self.session = session
        self.settings = settings
        self.trail = trail
        self.hasher = hasher
        self.passwords = Passwords(hasher, settings.password_hash_threads)
        self.throttle = Throttle(session, settings)
        self.keys = Keys.from_settings(settings)
        self.org = OrgService(session, trail)

    # --- login -------------------------------------------------------------------
    async def login(
        self,
        username: str,
        password: str,
        *,
        channel: Channel,
        request_id: str | None,
        address: str = "unknown",
    ) -> TokenResponse | SecondFactorStep:
        """Sign in. Wrong passwords are counted per username and per client address (one
        conditional upsert each, ``backend/auth/throttle.py``); a blocked username or address is
        refused (429, ``Retry-After``) before any password is checked. With a second factor
        active or required, a right password answers with the second step (``totp.py``)."""
        keys = [address_key(address), name_key(username)]
        now = utcnow()
        blocked = await self.throttle.blocked(keys, now)
        account = None if blocked else await self.account_by_username(username)
        actor = Actor(
            account.person_id if account else None,
            account.id if account else None,
            None,
            None,
            channel,
            request_id,
            username,
        )
        if blocked is not None:
            raise await self._refused(
                actor, None, "auth.login_refused", {"reason": _reason(blocked)}, _too_many(blocked, now)
            )
        account_id = account.id if account else None
        stored = account.password_hash if account else None
        await self.session.rollback()  # no pooled connection held while argon2 works
        ok, rehash = await self.passwords.verify(stored, password)
        if not ok:
            counted = await self.throttle.fail_name(keys[1], utcnow())
            await self.throttle.fail_address(keys[0], utcnow())
            new: dict[str, Any] = {"reason": "wrong password" if account else "unknown username"}
            if account is None:
                new["username"] = username
            if counted is None:  # concurrent failures blocked the username while this one ran
                late = await self.throttle.blocked([keys[1]], utcnow())
                error = _too_many(late, utcnow()) if late else _wrong()
                raise await self._refused(
                    actor, account_id, "auth.login_refused", {"reason": "throttled"}, error
                )
            new["failures"] = counted[0]
            if counted[1] is not None:
                new["blocked_until"] = counted[1]
            raise await self._refused(actor, account_id, "auth.login_failed", new, _wrong())
        account = await self.session.get(Account, account_id)
        if account is None or not account.active:
            disabled = Unauthorized("This account is disabled.", code="account_disabled")
            raise await self._refused(
                actor, account_id, "auth.login_refused", {"reason": "disabled"}, disabled
            )
        late = await self.throttle.clear_name(keys[1], utcnow())
        if late is not None:  # concurrent wrong guesses reached the limit before this one
            throttled = {"reason": "throttled"}
            raise await self._refused(
                actor, account_id, "auth.login_refused", throttled, _too_many(late, utcnow())
            )
        if rehash is not None:
            account.password_hash = rehash
        step = await self.second_step(account, actor)
        if step is not None:
            return step
        return await self._signed_in(account, actor, channel)

    async def _signed_in(
        self, account: Account, actor: Actor, channel: Channel, new: dict[str, Any] | None = None
    ) -> TokenResponse:
        """A sign-in that passed every check: a new session, in the trail, committed."""
        account.last_login_at = utcnow()
        tokens = await self._open_session(account, channel)
        await self.trail.record(
            self.session, actor, action="auth.login", object_type="account", object_id=account.id, new=new
        )
        await self.session.commit()
        return tokens

    async def sign_in_person(
        self, person_id: int, *, channel: Channel, request_id: str | None, via: str
    ) -> TokenResponse | SecondFactorStep:
        """A session for a person who proved who they are elsewhere (the company messenger's
        single sign-on, ``via`` its name): no password; a disabled account is refused. The
        messenger stands in for the password only: an account with a second factor active, or
        whose role must enrol, gets the same second step as a password sign-in."""
        account = (
            await self.session.execute(select(Account).where(col(Account.person_id) == person_id))
        ).scalar_one_or_none()
        if account is None:
            raise Unauthorized("This person has no account.", code="no_account")
        actor = Actor(person_id, account.id, None, None, channel, request_id, account.username)
        if not account.active:
            disabled = Unauthorized("This account is disabled.", code="account_disabled")
            raise await self._refused(
                actor, account.id, "auth.login_refused", {"reason": "disabled", "via": via}, disabled
            )
        step = await self.second_step(account, actor)
        if step is not None:
            return step
        return await self._signed_in(account, actor, channel, {"via": via})

    async def _refused(
        self, actor: Actor, account_id: int | None, action: str, new: dict[str, Any], error: AppError
    ) -> AppError:
        """Put a refused sign-in in the trail (committed: it must outlive the refusal)."""
        await self.trail.record(
            self.session, actor, action=action, object_type="account", object_id=account_id, new=new
        )
        await self.session.commit()
        return error

    async def _open_session(self, account: Account, channel: Channel) -> TokenResponse:
        sid = str(uuid.uuid4())
        refresh = f"{sid}.{secrets.token_urlsafe(32)}"
        self.session.add(
            AuthSession(
                id=sid,
                account_id=pk(account),
                refresh_hash=_sha256(refresh),
                channel=channel.value,
                expires_at=utcnow() + timedelta(days=self.settings.refresh_token_days),
                last_seen_at=utcnow(),
            )
        )
        return TokenResponse(
            access_token=self._access_token(account, sid),
            refresh_token=refresh,
            expires_in=self._access_minutes * 60,
            must_change_password=account.must_change_password,
        )

    @property
    def _access_minutes(self) -> int:
        """An access token never outlives the idle limit (its use is not seen as activity)."""
        return min(self.settings.access_token_minutes, self.settings.session_idle_minutes)

    def _access_token(self, account: Account, sid: str) -> str:
        now = utcnow()
        claims = {
            "sub": str(account.id),
            "sid": sid,
            "iat": now,
            "exp": now + timedelta(minutes=self._access_minutes),
            "typ": "access",
        }
        return jwt.encode(claims, self.keys.token_key, algorithm=ALGORITHM)

    async def refresh(self, refresh_token: str, *, channel: Channel, request_id: str | None) -> TokenResponse:
        sid, _, _ = refresh_token.partition(".")
        row = await self.session.get(AuthSession, sid) if sid else None
        bad = Unauthorized(
            "The refresh token is invalid or expired; sign in again.", code="invalid_refresh_token"
        )
        now = utcnow()
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
            raise bad
        if self._idle(row, now):
            raise Unauthorized("This session was unused too long; sign in again.", code="session_idle")
        account = await self.session.get(Account, row.account_id)
        if not hmac.compare_digest(row.refresh_hash, _sha256(refresh_token)):
            # an old refresh token came back: someone holds a copy; end the session for both
            row.revoked_at = utcnow()
            if account is not None:
                await self.trail.record(
                    self.session,
                    Actor(account.person_id, account.id, None, None, channel, request_id, account.username),
                    action="auth.refresh_reuse",
                    object_type="account",
                    object_id=account.id,
                )
            await self.session.commit()
            raise bad
        if account is None or not account.active:
            raise bad
        new_refresh = f"{sid}.{secrets.token_urlsafe(32)}"
        guard: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(AuthSession)
            .where(col(AuthSession.id) == sid, col(AuthSession.refresh_hash) == row.refresh_hash)
            .values(refresh_hash=_sha256(new_refresh), last_seen_at=now)
        )
        if guard.rowcount != 1:
            raise bad
        await self.session.commit()
        return TokenResponse(
            access_token=self._access_token(account, sid),
            refresh_token=new_refresh,
            expires_in=self._access_minutes * 60,
            must_change_password=account.must_change_password,
        )

    def _idle(self, row: AuthSession, now: datetime) -> bool:
        """Unused longer than the idle limit. Activity is recorded at sign-in and each refresh
        (no write per request): an active phone refreshes every access-token lifetime, so a
        session ends between ``idle - access`` and ``idle`` minutes after its last use."""
        seen = as_utc(row.last_seen_at or row.created_at)
        return now - seen > timedelta(minutes=self.settings.session_idle_minutes)

    async def logout(self, principal: Principal) -> None:
        row = await self.session.get(AuthSession, principal.session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            await self.trail.record(
                self.session,
                principal.actor,
                action="auth.logout",
                object_type="account",
                object_id=principal.account_id,
            )
            await self.session.commit()

    # --- per request ---------------------------------------------------------------
    async def principal_for(self, token: str, *, channel: Channel, request_id: str | None) -> Principal:
        assert isinstance(self.session.bind, AsyncEngine)
        account, session_id = await signed_in_account(self.session.bind, self.settings, token)
        return await self.principal(account, session_id, channel, request_id)

    async def principal_for_person(
        self, person_id: int, *, channel: Channel, session_id: str = "", request_id: str | None = None
    ) -> Principal:
        """The principal of a person who proved who they are elsewhere (a bound Telegram chat):
        the same roles, scopes and refusals as a signed-in request, through ``channel``."""
        account = (
            await self.session.execute(select(Account).where(col(Account.person_id) == person_id))
        ).scalar_one_or_none()
        if account is None:
            raise Unauthorized("This person has no account.", code="no_account")
        return await self.principal(account, session_id or channel.value, channel, request_id)

    async def principal(
        self, account: Account | _AccountFacts, session_id: str, channel: Channel, request_id: str | None
    ) -> Principal:
        if not account.active:
            raise Unauthorized("This account is disabled.", code="account_disabled")
        return principal_from(account, await self.facts(account.person_id), session_id, channel, request_id)

    async def facts(self, person_id: int) -> PersonFacts | None:
        """A person's unit, roles and scope (cached per process, see ``make_facts_cache``)."""
        assert isinstance(self.session.bind, AsyncEngine)
        return await facts_of(self.session.bind, self.facts_cache, person_id, self.session)

    async def me(self, principal: Principal) -> Me:
        return Me(
            account_id=principal.account_id,
            username=principal.username,
            person_id=principal.person_id,
            name=str(principal.extra.get("name", "")),
            unit_id=principal.unit_id,
            post_name=principal.post_name,
            roles=sorted(r.value for r in principal.roles),
            must_change_password=bool(principal.extra.get("must_change_password")),
        )

    # --- passwords and accounts ------------------------------------------------------
    async def change_password(
        self, principal: Principal, current: str, new: str, *, address: str = "unknown"
    ) -> None:
        """Change one's own password. A wrong current password counts as a failed sign-in of the
        username (and address); the failure that reaches the limit ends this session (429)."""
        key = name_key(principal.username)
        blocked = await self.throttle.blocked([address_key(address), key], utcnow())
        if blocked is not None:
            await self._password_trail(
                principal, "auth.password_change_refused", {"reason": _reason(blocked)}
            )
            raise _too_many(blocked, utcnow())
        account = await self.session.get(Account, principal.account_id)
        assert account is not None
        stored = account.password_hash
        await self.session.rollback()  # no pooled connection held while argon2 works
        ok, _ = await self.passwords.verify(stored, current)
        if not ok:
            counted = await self.throttle.fail_name(key, utcnow())
            await self.throttle.fail_address(address_key(address), utcnow())
            if counted is not None and counted[1] is None:
                await self._password_trail(principal, "auth.password_change_failed", {"failures": counted[0]})
                raise Invalid(
                    "The current password is wrong.",
                    code="wrong_password",
                    extra={"field": "current_password"},
                )
            await self.session.execute(
                update(AuthSession)
                .where(col(AuthSession.id) == principal.session_id, col(AuthSession.revoked_at).is_(None))
                .values(revoked_at=utcnow())
            )
            new_values: dict[str, Any] = {"session_ended": True}
            if counted is not None:
                new_values |= {"failures": counted[0], "blocked_until": counted[1]}
            await self._password_trail(principal, "auth.password_change_failed", new_values)
            late = await self.throttle.blocked([key], utcnow())
            wait = late.seconds(utcnow()) if late else 1
            raise AppError(
                "Too many wrong passwords: this session has ended; sign in again later.",
                code="too_many_password_attempts",
                status=429,
                headers={"Retry-After": str(wait)},
                extra={"retry_after": wait},
            )
        self._check_new_password(principal.username, new)
        new_hash = await self.passwords.hash(new)
        account = await self.session.get(Account, principal.account_id)
        assert account is not None
        account.password_hash = new_hash
        account.must_change_password = False
        await self.throttle.clear_name(key, utcnow())
        await self.session.execute(  # every other session ends
            update(AuthSession)
            .where(
                col(AuthSession.account_id) == account.id,
                col(AuthSession.id) != principal.session_id,
                col(AuthSession.revoked_at).is_(None),
            )
            .values(revoked_at=utcnow())
        )
        await self.trail.record(
            self.session,
            principal.actor,
            action="auth.password_change",
            object_type="account",
            object_id=account.id,
            power="self",
        )
        await self.session.commit()

    async def _password_trail(self, principal: Principal, action: str, new: dict[str, Any]) -> None:
        """A refused or failed password change in the trail (committed: it outlives the refusal)."""
        await self.trail.record(
            self.session,
            principal.actor,
            action=action,
            object_type="account",
            object_id=principal.account_id,
            new=new,
        )
        await self.session.commit()
