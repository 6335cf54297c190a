"""The company messengers' settings, bindings, replay guard and sign-in, in the domain's terms.

* An app serves the people of its unit and of every unit below it (the nearest unit up the tree
  with an app wins, as for channel policies). Saving one also makes it the unit's policy for the
  channel (``probity-wecom://app/<id>``), so alerts route to it through the ordinary outbox.
* A person's messenger user id is their delivery address on that channel: set from the people
  import's ``wecom_userid`` column (:mod:`backend.messenger.hooks`), by an admin, or matched by
  mobile number through the API (:meth:`MessengerService.match_by_mobile`, with a report).
* Who pressed a button: the person whose address is the presser's user id, within the app's
  units; they act as themselves (their roles, scopes and refusals) through channel ``wecom``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import aiohttp
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.auth.models import SecondFactorStep, TokenResponse
from backend.auth.service import AuthService, make_hasher
from backend.delivery import channels as ch
from backend.delivery.models import AddressUpdate, ChannelConfigUpdate, DeliveryChannel
from backend.delivery.outbox import DIRECTORY_READER, upsert_ignore
from backend.delivery.service import DeliveryService
from backend.kernel.access import Actor, Channel, Principal
from backend.kernel.cache import TTLCache
from backend.kernel.errors import Invalid, NotFound, Unauthorized
from backend.kernel.sealing import Sealer, derived_key
from backend.kernel.settings import Settings
from backend.kernel.timeutil import as_utc, utcnow
from backend.messenger import dingtalk, wecom
from backend.messenger.client import AppKeys
from backend.messenger.crypto import FRESH_SECONDS, CallbackRefused, aes_key
from backend.messenger.dingtalk import DingTalkClient
from backend.messenger.models import (
    AppPublic,
    AppUpdate,
    BindingPublic,
    MatchReport,
    MessengerApp,
    MessengerHandoff,
    MessengerNonce,
    Provider,
    Unmatched,
)
from backend.messenger.wecom import WeComClient
from backend.org.service import OrgService, PersonFacts

SEAL_LABEL = b"probity/messenger-secrets/v1"
STATE_LABEL = b"probity/messenger-sso-state/v1"
#: a handoff code carries a sign-in from the OAuth redirect into the PWA: once, this quickly
HANDOFF_SECONDS = 120
#: the targets a sign-in may land on (hash routes of the PWA)
_TARGET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789/-")
MAX_TARGET = 48
CHANNELS = {Provider.wecom: DeliveryChannel.wecom, Provider.dingtalk: DeliveryChannel.dingtalk}
#: the public hosts: API, sign-in page, and (DingTalk) the newer API
DEFAULT_HOSTS = {
    Provider.wecom: (wecom.PUBLIC_API, wecom.PUBLIC_OAUTH, None),
    Provider.dingtalk: (dingtalk.PUBLIC_API, dingtalk.PUBLIC_OAUTH, dingtalk.PUBLIC_OPEN_API),
}
PRESS_LABEL = b"probity/messenger-press/v1"
#: a press through a sign-in (DingTalk's action cards): "/press/<c|r>-<id>-<person>-<mac>"
_PRESS = re.compile(r"^/press/([cr])-([0-9]{1,12})-([0-9]{1,12})-([0-9a-f]{16})$")
PRESS_KEYS = {"c": "w:confirm:{}", "r": "n:read:{}"}


def _press_mac(settings: Settings, kind: str, ident: int, person_id: int) -> str:
    key = derived_key(settings, PRESS_LABEL)
    return hmac.new(key, f"{kind}:{ident}:{person_id}".encode(), hashlib.sha256).hexdigest()[:16]


def press_target(settings: Settings, key: str, person_id: int) -> str | None:
    """A sign-in target that presses ``key`` (``w:confirm:12``, ``n:read:7``) for the one person the
    card went to (the link of a card sent to someone else does nothing for you)."""
    for kind, template in PRESS_KEYS.items():
        prefix = template.replace("{}", "")
        if key.startswith(prefix) and key[len(prefix) :].isdigit():
            ident = int(key[len(prefix) :])
            return f"/press/{kind}-{ident}-{person_id}-{_press_mac(settings, kind, ident, person_id)}"
    return None


def pressed(settings: Settings, target: str) -> tuple[str, int] | None:
    """The button key and the intended person a press target carries (``None``: not a press, or forged)."""
    found = _PRESS.match(target)
    if found is None:
        return None
    kind, ident, person_id, mac = found.group(1), int(found.group(2)), int(found.group(3)), found.group(4)
    if not hmac.compare_digest(mac, _press_mac(settings, kind, ident, person_id)):
        return None
    return PRESS_KEYS[kind].format(ident), person_id


class MessengerClient(Protocol):
    async def send_card(self, user_id: str, card: dict[str, Any]) -> dict[str, Any]: ...
    async def user_id_by_mobile(self, mobile: str) -> str | None: ...
    async def user_of_code(self, code: str) -> str | None: ...
    def authorize_url(self, redirect_uri: str, state: str) -> str: ...


def client_for(app: AppKeys, http: aiohttp.ClientSession, *, timeout: float = 10.0) -> MessengerClient:
    if app.provider == Provider.dingtalk:
        return DingTalkClient(app, http, timeout=timeout)
    return WeComClient(app, http, timeout=timeout)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def safe_target(target: str | None) -> str:
    """A PWA route to land on: a plain path of this app (never another site)."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith("//") or len(target) > MAX_TARGET:
        return "/warnings"
    if not set(target) <= _TARGET_CHARS:
        return "/warnings"
    return target


def _check_base(url: str, field: str) -> str:
    url = url.strip().rstrip("/")
    if not (url.startswith("https://") or url.startswith("http://")) or len(url) > 300:
        raise Invalid(
            "the address must start with https:// (or http:// inside the company)",
            code="invalid_url",
            extra={"field": field},
        )
    return url


@dataclass(frozen=True)
class SsoStart:
    browser: str
    state: str


class MessengerService:
    def __init__(
        self,
        session: AsyncSession,
        trail: AuditTrail,
        settings: Settings,
        facts_cache: TTLCache[PersonFacts] | None = None,
    ) -> None:
        self.session, self.trail, self.settings, self.facts_cache = session, trail, settings, facts_cache
        self.sealer = Sealer(derived_key(settings, SEAL_LABEL))
        self.delivery = DeliveryService(session, trail, settings)
        self.org = OrgService(session, trail)

    # --- apps ------------------------------------------------------------------------------
    def _public(self, app: MessengerApp) -> AppPublic:
        app_id = app.id or 0
        return AppPublic(
            id=app_id,
            unit_id=app.unit_id,
            provider=app.provider,
            corp_id=app.corp_id,
            agent_id=app.agent_id,
            secret_set=bool(app.secret_sealed),
            callback_set=bool(app.token_sealed and app.aes_key_sealed),
            api_base=app.api_base,
            oauth_base=app.oauth_base,
            app_key=app.app_key,
            open_api_base=app.open_api_base,
            card_template_id=app.card_template_id,
            show_topic=app.show_topic,
            enabled=app.enabled,
            callback_path=f"/messenger/wecom/{app_id}/callback" if app.provider == Provider.wecom else None,
            sso_path=f"/messenger/{app.provider}/{app_id}/sso",
            updated_at=app.updated_at,
        )

    async def _row(self, unit_id: int, provider: Provider) -> MessengerApp | None:
        stmt = select(MessengerApp).where(
            col(MessengerApp.unit_id) == unit_id, col(MessengerApp.provider) == provider.value
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def _seal(self, app_id: int, name: str, value: str) -> str:
        return self.sealer.seal(value, f"messenger_app:{app_id}:{name}")

    def _open(self, app_id: int, name: str, value: str | None) -> str | None:
        return None if not value else str(self.sealer.open(value, f"messenger_app:{app_id}:{name}"))

    async def put_app(self, actor: Actor, unit_id: int, provider: Provider, data: AppUpdate) -> AppPublic:
        """Create or change a unit's app; the unit's channel policy then names it. Secrets left
        out are kept; they are sealed at rest and never shown back."""
        if data.aes_key is not None:
            try:
                aes_key(data.aes_key)
            except ValueError as exc:
                raise Invalid(str(exc), code="invalid_aes_key", extra={"field": "aes_key"}) from None
        api_default, oauth_default, open_default = DEFAULT_HOSTS[provider]
        row = await self._row(unit_id, provider)
        old = self._public(row).model_dump(mode="json") if row else None
        if row is None:
            if data.secret is None:
                raise Invalid("a new app needs its secret", code="secret_required", extra={"field": "secret"})
            row = MessengerApp(
                unit_id=unit_id,
                provider=provider.value,
                corp_id="",
                agent_id="",
                secret_sealed="",
                api_base="",
                oauth_base="",
            )
        row.corp_id, row.agent_id = data.corp_id.strip(), data.agent_id.strip()
        row.api_base = _check_base(data.api_base or row.api_base or api_default, "api_base")
        row.oauth_base = _check_base(data.oauth_base or row.oauth_base or oauth_default, "oauth_base")
        if provider == Provider.dingtalk:
            row.app_key = (data.app_key or row.app_key or "").strip() or None
            if row.app_key is None:
                raise Invalid(
                    "a DingTalk app needs its AppKey", code="app_key_required", extra={"field": "app_key"}
                )
            row.open_api_base = _check_base(
                data.open_api_base or row.open_api_base or open_default or "", "open_api_base"
            )
            row.card_template_id = (data.card_template_id or "").strip() or None
        row.show_topic, row.enabled, row.updated_at = data.show_topic, data.enabled, utcnow()
        self.session.add(row)
        await self.session.flush()  # the id the secrets are bound to
        app_id = row.id or 0
        for name, value in (("secret", data.secret), ("token", data.token), ("aes_key", data.aes_key)):
            if value is not None:
                setattr(row, f"{name}_sealed", self._seal(app_id, name, value))
        public = self._public(row)
        await self.trail.record(
            self.session,
            actor,
            action="messenger.app",
            object_type="unit",
            object_id=unit_id,
            old=old,
            new=public.model_dump(mode="json"),
        )
        await self.delivery.put_config(  # commits it all
            actor,
            unit_id,
            CHANNELS[provider],
            ChannelConfigUpdate(
                url=ch.native_url(CHANNELS[provider], app_id), enabled=data.enabled, detail=data.show_topic
            ),
        )
        return public

    async def apps(self) -> list[AppPublic]:
        rows = (await self.session.execute(select(MessengerApp).order_by(col(MessengerApp.id)))).scalars()
        return [self._public(r) for r in rows]

    def _keys(self, row: MessengerApp) -> AppKeys:
        app_id = row.id or 0
        return AppKeys(
            id=app_id,
            unit_id=row.unit_id,
            provider=row.provider,
            corp_id=row.corp_id,
            agent_id=row.agent_id,
            secret=self._open(app_id, "secret", row.secret_sealed) or "",
            token=self._open(app_id, "token", row.token_sealed),
            aes_key=self._open(app_id, "aes_key", row.aes_key_sealed),
            api_base=row.api_base,
            oauth_base=row.oauth_base,
            app_key=row.app_key,
            open_api_base=row.open_api_base,
            card_template_id=row.card_template_id,
            show_topic=row.show_topic,
            enabled=row.enabled,
        )

    async def stream_apps(self) -> list[AppKeys]:
        """The DingTalk apps whose presses come back through Stream mode (switched on, with a card
        template)."""
        stmt = select(MessengerApp).where(
            col(MessengerApp.provider) == Provider.dingtalk.value,
            col(MessengerApp.enabled),
            col(MessengerApp.card_template_id).is_not(None),
        )
        return [
            self._keys(r) for r in (await self.session.execute(stmt.order_by(col(MessengerApp.id)))).scalars()
        ]

    async def keys(self, app_id: int, provider: Provider | None = None) -> AppKeys:
        row = await self.session.get(MessengerApp, app_id)
        if row is None or (provider is not None and row.provider != provider.value):
            raise NotFound("no such messenger app", code="messenger_app_not_found")
        return self._keys(row)

    async def app_for_person(self, person_id: int, provider: Provider) -> AppKeys | None:
        person = await self.org.get_person(DIRECTORY_READER, person_id)
        chain = await self.org.unit_chain(person.unit_id)
        rows = {
            r.unit_id: r
            for r in (
                await self.session.execute(
                    select(MessengerApp).where(
                        col(MessengerApp.provider) == provider.value, col(MessengerApp.unit_id).in_(chain)
                    )
                )
            ).scalars()
        }
        for unit_id in chain:
            if unit_id in rows:
                return self._keys(rows[unit_id]) if rows[unit_id].enabled else None
        return None

    # --- who is who ---------------------------------------------------------------------------
    async def language_of(self, person_id: int) -> str:
        return await self.delivery.language_of(person_id)

    async def person_of(self, app: AppKeys, user_id: str) -> int | None:
        """The person behind a messenger user id, if exactly one within the app's units has it."""
        found = []
        for person_id in await self.delivery.people_at(CHANNELS[Provider(app.provider)], user_id):
            person = await self.org.get_person(DIRECTORY_READER, person_id)
            if app.unit_id in await self.org.unit_chain(person.unit_id):
                found.append(person_id)
        return found[0] if len(found) == 1 else None

    async def principal(
        self, person_id: int, provider: Provider, user_id: str, request_id: str | None
    ) -> Principal:
        auth = AuthService(
            self.session, self.settings, self.trail, make_hasher(self.settings), self.facts_cache
        )
        return await auth.principal_for_person(
            person_id,
            channel=Channel(provider.value),
            session_id=f"{provider.value}:{user_id}"[:64],
            request_id=request_id,
        )

    async def bindings(self, person_id: int) -> list[BindingPublic]:
        out = []
        for provider in Provider:
            app = await self.app_for_person(person_id, provider)
            address = await self.delivery.address_of(person_id, CHANNELS[provider])
            out.append(
                BindingPublic(
                    provider=provider.value,
                    available=app is not None,
                    bound=address is not None and address.enabled and address.refused_at is None,
                    refused=address is not None and address.refused_at is not None,
                    user_id=address.address if address else None,
                )
            )
        return out

    async def set_user_ids(
        self, actor: Actor, provider: Provider, rows: list[tuple[str, str]]
    ) -> MatchReport:
        """``(employee number, user id)`` pairs (the people import's column): stored as addresses."""
        report = MatchReport(provider=provider.value)
        channel = CHANNELS[provider]
        for employee_no, user_id in rows:
            person = await self.org.person_by_no(employee_no)
            if person is None or person.id is None:
                report.unmatched.append(Unmatched(employee_no=employee_no, reason="unknown_person"))
                continue
            try:
                address = ch.check_address(channel, user_id)
            except Invalid:
                report.unmatched.append(Unmatched(employee_no=employee_no, reason="invalid_user_id"))
                continue
            await self._bind(actor, person.id, channel, address, report)
        return report

    async def _bind(
        self, actor: Actor, person_id: int, channel: DeliveryChannel, address: str, report: MatchReport
    ) -> None:
        known = await self.delivery.address_of(person_id, channel)
        if known is not None and known.address == address and known.enabled:
            report.unchanged += 1
            return
        await self.delivery.set_address(
            actor, person_id, channel, AddressUpdate(address=address, enabled=True)
        )
        report.matched += 1

    async def match_by_mobile(
        self, actor: Actor, app: AppKeys, client: MessengerClient, *, overwrite: bool = False
    ) -> MatchReport:
        """Every person of the app's units without a user id (all, with ``overwrite``) is looked up
        by their mobile number; the report names who could not be matched and why."""
        report = MatchReport(provider=app.provider)
        channel = CHANNELS[Provider(app.provider)]
        offset = 0
        while True:
            people, total = await self.org.list_people(
                DIRECTORY_READER, unit_id=app.unit_id, limit=200, offset=offset
            )
            for person in people:
                known = await self.delivery.address_of(person.id, channel)
                if known is not None and not overwrite:
                    report.unchanged += 1
                    continue
                if not person.phone:
                    report.unmatched.append(Unmatched(employee_no=person.employee_no, reason="no_mobile"))
                    continue
                user_id = await client.user_id_by_mobile(person.phone)
                if user_id is None:
                    report.unmatched.append(
                        Unmatched(employee_no=person.employee_no, reason="not_in_messenger")
                    )
                    continue
                await self._bind(actor, person.id, channel, user_id, report)
            offset += len(people)
            if not people or offset >= total:
                break
        await self.trail.record(
            self.session,
            actor,
            action="messenger.match_by_mobile",
            object_type="unit",
            object_id=app.unit_id,
            new={"provider": app.provider, "matched": report.matched, "unmatched": len(report.unmatched)},
        )
        await self.session.commit()
        return report

    # --- replay guard --------------------------------------------------------------------------
    async def accept_nonce(self, app_id: int, nonce: str, stamp: int) -> None:
        """Each nonce once per app (within the freshness window, older ones are dropped)."""
        if not nonce or len(nonce) > 64:
            raise CallbackRefused("bad_nonce", "the nonce is missing or too long")
        now = utcnow()
        await self.session.execute(
            delete(MessengerNonce).where(
                col(MessengerNonce.seen_at) < now - timedelta(seconds=4 * FRESH_SECONDS)
            )
        )
        taken = await self.session.execute(
            upsert_ignore(self.session, MessengerNonce, "app_id", "nonce").values(
                app_id=app_id, nonce=nonce, stamp=stamp, seen_at=now
            )
        )
        await self.session.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise CallbackRefused("replayed_nonce", "this callback was received before")

    # --- single sign-on ------------------------------------------------------------------------
    def _state_mac(self, browser: str, app_id: int, target: str) -> str:
        key = derived_key(self.settings, STATE_LABEL)
        return hmac.new(key, f"{browser}|{app_id}|{target}".encode(), hashlib.sha256).hexdigest()[:40]

    def sso_start(self, app_id: int, target: str, browser: str | None) -> SsoStart:
        """The OAuth ``state`` (letters and digits: the target in hex, then a MAC binding it to this
        browser's cookie and the app)."""
        browser = (
            browser if browser and 20 <= len(browser) <= 64 and browser.isalnum() else secrets.token_hex(16)
        )
        target = safe_target(target)
        return SsoStart(browser, f"{target.encode().hex()}x{self._state_mac(browser, app_id, target)}")

    def sso_target(self, app_id: int, state: str, browser: str | None) -> str:
        """The target a ``state`` carries, if it was made for this browser and app."""
        hexed, _, mac = (state or "").partition("x")
        try:
            target = bytes.fromhex(hexed).decode()
        except ValueError:
            target = ""
        if (
            not browser
            or not target
            or not hmac.compare_digest(mac, self._state_mac(browser, app_id, target))
        ):
            raise Unauthorized("this sign-in was not started in this browser", code="sso_state_mismatch")
        return safe_target(target)

    async def handoff(self, person_id: int, provider: Provider, browser: str, target: str) -> str:
        now = utcnow()
        await self.session.execute(
            delete(MessengerHandoff).where(col(MessengerHandoff.expires_at) < now - timedelta(hours=1))
        )
        code = secrets.token_urlsafe(24)
        self.session.add(
            MessengerHandoff(
                code_hash=_sha256(code),
                person_id=person_id,
                provider=provider.value,
                browser_hash=_sha256(browser),
                target=target,
                expires_at=now + timedelta(seconds=HANDOFF_SECONDS),
            )
        )
        await self.session.commit()
        return code

    async def exchange(
        self, code: str, browser: str | None, *, request_id: str | None
    ) -> tuple[TokenResponse | SecondFactorStep, str]:
        """A handoff code (once, in the browser that signed in) → a Probity session and where to go,
        or the second step (a TOTP code, or enrolment) where the account needs one."""
        expired = Unauthorized("this sign-in link has expired; open it again", code="sso_expired")
        row = await self.session.get(MessengerHandoff, _sha256(code))
        if row is None or not browser or not hmac.compare_digest(row.browser_hash, _sha256(browser)):
            raise expired
        now = utcnow()
        if row.used_at is not None or as_utc(row.expires_at) <= now:
            raise expired
        used = await self.session.execute(
            update(MessengerHandoff)
            .where(col(MessengerHandoff.code_hash) == row.code_hash, col(MessengerHandoff.used_at).is_(None))
            .values(used_at=now)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            raise expired
        auth = AuthService(
            self.session, self.settings, self.trail, make_hasher(self.settings), self.facts_cache
        )
        tokens = await auth.sign_in_person(
            row.person_id, channel=Channel(row.provider), request_id=request_id, via=row.provider
        )
        return tokens, row.target
