"""Account administration: list, create, enable or disable, reset a password or a lost second
factor (admin)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.auth.models import (
    Account,
    AccountCreate,
    AccountPublic,
    AuthSession,
    TotpFactor,
    TotpRecoveryCode,
)
from backend.auth.passwords import Passwords, check_new_password
from backend.auth.throttle import Throttle, name_key
from backend.kernel.access import Actor
from backend.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from backend.kernel.schemas import pk
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.org.service import OrgService


class AccountAdministration:
    """The account side of ``AuthService`` (which sets these attributes)."""

    session: AsyncSession
    settings: Settings
    trail: AuditTrail
    passwords: Passwords
    throttle: Throttle
    org: OrgService

    async def account_by_username(self, username: str) -> Account | None:
        return (
            await self.session.execute(select(Account).where(col(Account.username) == username))
        ).scalar_one_or_none()

    def _check_new_password(self, username: str, password: str) -> None:
        check_new_password(username, password, min_length=self.settings.password_min_length)

    async def list_accounts(self) -> list[AccountPublic]:
        rows = list((await self.session.execute(select(Account).order_by(col(Account.username)))).scalars())
        locked = await self.throttle.blocked_keys([name_key(a.username) for a in rows], utcnow())
        return [self.public(a, locked.get(name_key(a.username))) for a in rows]

    @staticmethod
    def public(account: Account, locked_until: datetime | None = None) -> AccountPublic:
        return AccountPublic.model_validate(account, from_attributes=True).model_copy(
            update={"locked_until": locked_until}
        )

    async def create_account(
        self,
        data: AccountCreate,
        actor: Actor,
        *,
        must_change: bool = True,
        commit: bool = True,
        check_strength: bool = True,
    ) -> Account:
        person = await self.org.person_by_no(data.employee_no)
        if person is None:
            raise Invalid(
                f"no person has employee number {data.employee_no!r}",
                code="unknown_person",
                extra={"field": "employee_no"},
            )
        if await self.account_by_username(data.username) is not None:
            raise Conflict(f"username {data.username!r} is taken", code="duplicate_username")
        taken = (
            await self.session.execute(select(Account).where(col(Account.person_id) == person.id))
        ).first()
        if taken is not None:
            raise Conflict(f"{data.employee_no} already has an account", code="duplicate_account")
        if check_strength:
            self._check_new_password(data.username, data.password)
        account = Account(
            person_id=pk(person),
            username=data.username,
            password_hash=await self.passwords.hash(data.password),
            must_change_password=must_change,
        )
        self.session.add(account)
        await self.session.flush()
        await self._account_act(
            actor,
            account,
            "account.create",
            new={"username": account.username, "person_id": account.person_id},
        )
        if commit:
            await self.session.commit()
        return account

    async def set_active(self, account_id: int, active: bool, actor: Actor) -> Account:
        account = await self.get_account(account_id)
        if account.active != active:
            old = account.active
            account.active = active
            if not active:
                await self._revoke_all(account)
            await self._account_act(
                actor, account, "account.update", old={"active": old}, new={"active": active}
            )
            await self.session.commit()
        return account

    async def reset_password(self, account_id: int, new_password: str, actor: Actor) -> Account:
        account = await self.get_account(account_id)
        self._check_new_password(account.username, new_password)
        account.password_hash = await self.passwords.hash(new_password)
        account.must_change_password = True
        await self.throttle.reset(name_key(account.username))
        await self._revoke_all(account)
        await self._account_act(actor, account, "account.password_reset")
        await self.session.commit()
        return account

    async def reset_second_factor(self, account_id: int, reason: str, actor: Actor) -> Account:
        """A person lost their phone and recovery codes: an administrator removes their second
        factor (never their own) and ends their sessions; where their roles must enrol, the next
        sign-in asks them to enrol again."""
        account = await self.get_account(account_id)
        if actor.person_id is not None and actor.person_id == account.person_id:
            raise Forbidden(
                "Nobody removes their own second factor: ask another administrator.",
                code="own_second_factor",
            )
        factor = await self.session.get(TotpFactor, account_id)
        if factor is None:
            raise Conflict("This account has no second factor.", code="totp_not_active")
        await self.session.execute(
            delete(TotpRecoveryCode).where(col(TotpRecoveryCode.account_id) == account_id)
        )
        await self.session.execute(delete(TotpFactor).where(col(TotpFactor.account_id) == account_id))
        await self._revoke_all(account)
        await self._account_act(
            actor,
            account,
            "account.totp_reset",
            old={"second_factor": factor.active},
            new={"second_factor": False, "reason": reason},
        )
        await self.session.commit()
        return account

    async def _account_act(
        self,
        actor: Actor,
        account: Account,
        action: str,
        old: dict[str, object] | None = None,
        new: dict[str, object] | None = None,
    ) -> None:
        await self.trail.record(
            self.session,
            actor,
            action=action,
            object_type="account",
            object_id=account.id,
            old=old,
            new=new,
            power="accounts",
        )

    async def get_account(self, account_id: int) -> Account:
        account = await self.session.get(Account, account_id)
        if account is None:
            raise NotFound(f"account {account_id} does not exist", code="account_not_found")
        return account

    async def _revoke_all(self, account: Account) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(col(AuthSession.account_id) == account.id, col(AuthSession.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
