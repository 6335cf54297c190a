"""The TOTP second factor (RFC 6238, via pyotp): enrolment, the second step of a sign-in,
recovery codes.

* The secret is sealed at rest (``backend/kernel/sealing.py``, bound to ``totp:<account id>``)
  and shown only while enrolling; once active it is never returned again.
* A code is accepted once: the factor keeps the last time step a code was accepted for, and a
  conditional update takes a step only when it is later than that (concurrent uses of one code:
  one wins).
* The second step of a sign-in is a challenge: a random token (only its hash stored), good for
  ``CHALLENGE_MINUTES`` and used once (a conditional update marks it used).
* Wrong codes count as wrong passwords for the username and client address (``throttle.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyotp
from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.auth.models import (
    Account,
    EnrolledTokens,
    RecoveryCodes,
    SecondFactorStep,
    TokenResponse,
    TotpChallenge,
    TotpFactor,
    TotpRecoveryCode,
    TotpSetup,
    TotpStatus,
)
from backend.auth.passwords import Passwords
from backend.auth.throttle import Throttle, address_key, name_key
from backend.kernel import sealing
from backend.kernel.access import Actor, Channel, Principal
from backend.kernel.errors import AppError, Conflict, Invalid, Unauthorized
from backend.kernel.settings import Settings
from backend.kernel.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from backend.org.service import PersonFacts

LABEL = b"probity/totp-at-rest/v1"
RECOVERY_LABEL = b"probity/totp-recovery/v1"
ISSUER = "Probity"
CHALLENGE_MINUTES = 5
RECOVERY_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class TotpSealBroken(AppError):
    """The secret does not open with this key: an operator problem, never the user's."""

    status = 500
    code = "totp_key_mismatch"


class _Sealer(sealing.Sealer):
    error = TotpSealBroken


def _wrong_code() -> Invalid:
    return Invalid("The code is wrong or was already used.", code="totp_wrong_code", extra={"field": "code"})


def _bad_challenge() -> Unauthorized:
    return Unauthorized("This sign-in step has expired; sign in again.", code="totp_challenge_invalid")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _normal(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _is_totp_code(code: str) -> bool:
    text = code.replace(" ", "")
    return len(text) == 6 and text.isdigit()


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class SecondFactor:
    """The TOTP side of ``AuthService`` (which sets these attributes and the methods below)."""

    session: AsyncSession
    settings: Settings
    trail: AuditTrail
    passwords: Passwords
    throttle: Throttle

    if TYPE_CHECKING:

        async def facts(self, person_id: int) -> PersonFacts | None: ...

        async def _open_session(self, account: Account, channel: Channel) -> TokenResponse: ...

        async def _signed_in(
            self, account: Account, actor: Actor, channel: Channel, new: dict[str, Any] | None = None
        ) -> TokenResponse: ...

        async def _refused(
            self, actor: Actor, account_id: int | None, action: str, new: dict[str, Any], error: AppError
        ) -> AppError: ...

    # --- keys --------------------------------------------------------------------------
    def _sealer(self) -> _Sealer:
        return _Sealer(sealing.derived_key(self.settings, LABEL))

    def _recovery_hash(self, code: str) -> str:
        key = sealing.derived_key(self.settings, RECOVERY_LABEL)
        return hmac.new(key, _normal(code).encode(), hashlib.sha256).hexdigest()

    def _secret(self, factor: TotpFactor) -> str:
        return str(self._sealer().open(factor.secret_sealed, f"totp:{factor.account_id}"))

    # --- whether a sign-in needs it ------------------------------------------------------
    async def _required(self, account: Account) -> bool:
        enforced = self.settings.totp_enforced_roles
        if not enforced:
            return False
        facts = await self.facts(account.person_id)
        return facts is not None and bool(enforced & set(facts.roles))

    async def second_step(self, account: Account, actor: Actor) -> SecondFactorStep | None:
        """After a right password: the step still to do (``totp`` or ``enrol``), or None."""
        assert account.id is not None
        factor = await self.session.get(TotpFactor, account.id)
        if factor is not None and factor.active:
            kind = "totp"
        elif await self._required(account):
            kind = "enrol"
        else:
            return None
        token = secrets.token_urlsafe(32)
        self.session.add(
            TotpChallenge(
                id=_digest(token),
                account_id=account.id,
                kind=kind,
                expires_at=utcnow() + timedelta(minutes=CHALLENGE_MINUTES),
            )
        )
        await self.trail.record(
            self.session,
            actor,
            action="auth.login_second_step",
            object_type="account",
            object_id=account.id,
            new={"second_factor": kind},
        )
        await self.session.commit()
        return SecondFactorStep(second_factor=kind, challenge=token, expires_in=CHALLENGE_MINUTES * 60)

    # --- enrolment -----------------------------------------------------------------------
    async def totp_status(self, principal: Principal) -> TotpStatus:
        factor = await self.session.get(TotpFactor, principal.account_id)
        left = await self.session.scalar(
            select(func.count())
            .select_from(TotpRecoveryCode)
            .where(
                col(TotpRecoveryCode.account_id) == principal.account_id,
                col(TotpRecoveryCode.used_at).is_(None),
            )
        )
        enforced = self.settings.totp_enforced_roles
        return TotpStatus(
            active=bool(factor and factor.active),
            pending=bool(factor and not factor.active),
            required=bool(enforced & {r.value for r in principal.roles}),
            recovery_codes_left=int(left or 0) if factor and factor.active else 0,
        )

    async def totp_setup(self, account_id: int, actor: Actor) -> TotpSetup:
        """A new secret, not active until confirmed with a code (a pending one is replaced)."""
        account = await self.session.get(Account, account_id)
        assert account is not None
        factor = await self.session.get(TotpFactor, account_id)
        if factor is not None and factor.active:
            raise Conflict("A second factor is already active; disable it first.", code="totp_already_active")
        secret = pyotp.random_base32()
        sealed = self._sealer().seal(secret, f"totp:{account_id}")
        if factor is None:
            self.session.add(TotpFactor(account_id=account_id, secret_sealed=sealed))
        else:
            factor.secret_sealed, factor.last_step, factor.created_at = sealed, None, utcnow()
        await self.trail.record(
            self.session, actor, action="auth.totp_setup", object_type="account", object_id=account_id
        )
        await self.session.commit()
        uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=ISSUER)
        return TotpSetup(otpauth_uri=uri, secret=secret)

    async def totp_activate(self, account_id: int, code: str, actor: Actor) -> RecoveryCodes:
        """Confirm the pending secret with a current code: active, with fresh recovery codes."""
        factor = await self.session.get(TotpFactor, account_id)
        if factor is None or factor.active:
            raise Conflict("There is no second factor waiting to be confirmed.", code="totp_not_pending")
        if not await self._take_code(factor, code):
            await self._totp_trail(actor, account_id, "auth.totp_activate_failed")
            raise _wrong_code()
        codes = await self.totp_activate_taken(account_id, actor)
        await self.session.commit()
        return codes

    async def totp_disable(
        self, principal: Principal, password: str, code: str, *, address: str = "unknown"
    ) -> None:
        """Turn the factor off: the password and a code (or a recovery code) are both needed;
        wrong ones count as failed sign-ins."""
        key = name_key(principal.username)
        blocked = await self.throttle.blocked([address_key(address), key], utcnow())
        if blocked is not None:
            raise _throttled(blocked.seconds(utcnow()))
        factor = await self.session.get(TotpFactor, principal.account_id)
        if factor is None or not factor.active:
            raise Conflict("No second factor is active.", code="totp_not_active")
        account = await self.session.get(Account, principal.account_id)
        assert account is not None
        stored = account.password_hash
        await self.session.rollback()  # no pooled connection held while argon2 works
        ok, _ = await self.passwords.verify(stored, password)
        factor = await self.session.get(TotpFactor, principal.account_id)
        if factor is None:
            raise Conflict("No second factor is active.", code="totp_not_active")
        if not ok or not await self._take_any(factor, code):
            await self.throttle.fail_name(key, utcnow())
            await self.throttle.fail_address(address_key(address), utcnow())
            reason = "wrong password" if not ok else "wrong code"
            await self._totp_trail(principal.actor, principal.account_id, "auth.totp_disable_failed", reason)
            if not ok:
                raise Invalid("The password is wrong.", code="wrong_password", extra={"field": "password"})
            raise _wrong_code()
        await self.session.execute(
            delete(TotpRecoveryCode).where(col(TotpRecoveryCode.account_id) == principal.account_id)
        )
        await self.session.execute(
            delete(TotpFactor).where(col(TotpFactor.account_id) == principal.account_id)
        )
        await self._totp_trail(principal.actor, principal.account_id, "auth.totp_disable")

    async def _totp_trail(
        self, actor: Actor, account_id: int, action: str, reason: str | None = None
    ) -> None:
        new = {"reason": reason} if reason else None
        await self.trail.record(
            self.session, actor, action=action, object_type="account", object_id=account_id, new=new
        )
        await self.session.commit()

    # --- codes ---------------------------------------------------------------------------
    async def _take_code(self, factor: TotpFactor, code: str) -> bool:
        """A six-digit code of this or a neighbouring time step, later than the last one taken
        (taken by a conditional update: a code is good once, even for concurrent uses)."""
        code = code.replace(" ", "")
        if not _is_totp_code(code):
            return False
        totp = pyotp.TOTP(self._secret(factor))
        now = utcnow()
        current = totp.timecode(now)
        step = next(
            (
                current + offset
                for offset in (0, -1, 1)
                if hmac.compare_digest(totp.at(now, counter_offset=offset), code)
            ),
            None,
        )
        if step is None:
            return False
        taken: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(TotpFactor)
            .where(
                col(TotpFactor.account_id) == factor.account_id,
                or_(col(TotpFactor.last_step).is_(None), col(TotpFactor.last_step) < step),
            )
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        )
        return taken.rowcount == 1

    async def _take_recovery(self, account_id: int, code: str) -> bool:
        """Spend a recovery code (a conditional update: once, even for concurrent uses)."""
        spent: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(TotpRecoveryCode)
            .where(
                col(TotpRecoveryCode.account_id) == account_id,
                col(TotpRecoveryCode.code_hash) == self._recovery_hash(code),
                col(TotpRecoveryCode.used_at).is_(None),
            )
            .values(used_at=utcnow())
        )
        return spent.rowcount == 1

    async def _take_any(self, factor: TotpFactor, code: str) -> bool:
        if _is_totp_code(code):
            return await self._take_code(factor, code)
        return await self._take_recovery(factor.account_id, code)

    # --- the second step of a sign-in ----------------------------------------------------
    async def _open_challenge(self, token: str, kinds: set[str]) -> TotpChallenge:
        row = await self.session.get(TotpChallenge, _digest(token))
        if (
            row is None
            or row.used_at is not None
            or row.kind not in kinds
            or as_utc(row.expires_at) <= utcnow()
        ):
            raise _bad_challenge()
        return row

    async def _use_challenge(self, row: TotpChallenge, now: datetime) -> None:
        used: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(TotpChallenge)
            .where(
                col(TotpChallenge.id) == row.id,
                col(TotpChallenge.used_at).is_(None),
                col(TotpChallenge.expires_at) > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:
            await self.session.rollback()
            raise _bad_challenge()

    async def login_setup(self, challenge: str, *, channel: Channel, request_id: str | None) -> TotpSetup:
        """Enrolment required at sign-in: the challenge lets its holder set up the factor only."""
        row = await self._open_challenge(challenge, {"enrol"})
        account = await self.session.get(Account, row.account_id)
        if account is None or not account.active:
            raise _bad_challenge()
        return await self.totp_setup(row.account_id, _actor(account, channel, request_id))

    async def login_totp(
        self, challenge: str, code: str, *, channel: Channel, request_id: str | None, address: str = "unknown"
    ) -> TokenResponse:
        """Complete a sign-in with a code (or a recovery code, then spent); with an enrol
        challenge, the code confirms the new factor and the recovery codes come with the tokens."""
        row = await self._open_challenge(challenge, {"totp", "enrol"})
        account = await self.session.get(Account, row.account_id)
        if account is None or not account.active:
            raise _bad_challenge()
        actor = _actor(account, channel, request_id)
        keys = [address_key(address), name_key(account.username)]
        blocked = await self.throttle.blocked(keys, utcnow())
        if blocked is not None:
            reason = "address throttled" if blocked.is_address else "throttled"
            raise await self._refused(
                actor,
                account.id,
                "auth.login_refused",
                {"reason": reason},
                _throttled(blocked.seconds(utcnow())),
            )
        factor = await self.session.get(TotpFactor, row.account_id)
        enrol = row.kind == "enrol"
        ok = factor is not None and factor.active != enrol
        used = "recovery code" if ok and not enrol and not _is_totp_code(code) else "code"
        if ok and factor is not None:
            ok = await (self._take_code(factor, code) if enrol else self._take_any(factor, code))
        if not ok:
            counted = await self.throttle.fail_name(keys[1], utcnow())
            await self.throttle.fail_address(keys[0], utcnow())
            new: dict[str, Any] = {"reason": "wrong code"}
            error: AppError = _wrong_code()
            if counted is None or counted[1] is not None:
                late = await self.throttle.blocked([keys[1]], utcnow())
                error = _throttled(late.seconds(utcnow())) if late else error
            if counted is not None:
                new["failures"] = counted[0]
            raise await self._refused(actor, account.id, "auth.login_failed", new, error)
        await self._use_challenge(row, utcnow())
        await self.throttle.clear_name(keys[1], utcnow())
        codes: list[str] | None = None
        if enrol:
            assert account.id is not None
            codes = (await self.totp_activate_taken(account.id, actor)).recovery_codes
        tokens = await self._signed_in(account, actor, channel, {"second_factor": "enrol" if enrol else used})
        if codes is not None:
            return EnrolledTokens(**tokens.model_dump(), recovery_codes=codes)
        return tokens

    async def totp_activate_taken(self, account_id: int, actor: Actor) -> RecoveryCodes:
        """Activate a pending factor whose code was just taken (in the caller's transaction)."""
        factor = await self.session.get(TotpFactor, account_id)
        assert factor is not None
        factor.active, factor.activated_at = True, utcnow()
        codes = [_recovery_code() for _ in range(RECOVERY_COUNT)]
        await self.session.execute(
            delete(TotpRecoveryCode).where(col(TotpRecoveryCode.account_id) == account_id)
        )
        self.session.add_all(
            TotpRecoveryCode(account_id=account_id, code_hash=self._recovery_hash(c)) for c in codes
        )
        await self.trail.record(
            self.session, actor, action="auth.totp_activate", object_type="account", object_id=account_id
        )
        return RecoveryCodes(recovery_codes=codes)


def _actor(account: Account, channel: Channel, request_id: str | None) -> Actor:
    return Actor(account.person_id, account.id, None, None, channel, request_id, account.username)


def _throttled(wait: int) -> AppError:
    return AppError(
        f"Too many wrong codes or passwords: try again in {wait} s.",
        code="account_locked",
        status=429,
        headers={"Retry-After": str(wait)},
        extra={"retry_after": wait},
    )
