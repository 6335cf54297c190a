"""Channel settings per person and per unit, Web Push subscriptions, VAPID keys, delivery proof."""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.audit.service import AuditTrail
from backend.delivery import channels as ch
from backend.delivery.endpoints import check_push_endpoint
from backend.delivery.models import (
    AddressPublic,
    AddressUpdate,
    AttemptPublic,
    ChannelConfig,
    ChannelConfigPublic,
    ChannelConfigUpdate,
    ChannelProof,
    Delivery,
    DeliveryAttempt,
    DeliveryChannel,
    DeliveryPreference,
    DeliveryRoute,
    DeliveryUnitPolicy,
    MyDelivery,
    NotificationProof,
    PersonChannel,
    PreferenceUpdate,
    ProofPage,
    PushSubscription,
    SubscriptionCreate,
    SubscriptionPublic,
    UnitPolicyPublic,
    UnitPolicyUpdate,
    VapidKey,
)
from backend.delivery.outbox import DIRECTORY_READER, upsert_ignore
from backend.delivery.policy import Effective, complete_order, resolve
from backend.events.models import Event, EventRecipient
from backend.kernel.access import Actor, Principal
from backend.kernel.errors import Conflict, Invalid, NotFound
from backend.kernel.sealing import is_sealed
from backend.kernel.settings import Settings
from backend.kernel.timeutil import utcnow
from backend.org.models import Unit
from backend.org.service import OrgService


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


async def vapid_key(session: AsyncSession) -> VapidKey:
    """The VAPID key pair: made on first use and kept in the database (shared by every worker)."""
    row = await session.get(VapidKey, 1)
    if row is not None:
        return row
    from webpush.vapid import VAPID

    private_pem, public_pem, server_key = VAPID.generate_keys()
    await session.execute(
        upsert_ignore(session, VapidKey, "id").values(
            id=1,
            private_pem=private_pem.decode(),
            public_pem=public_pem.decode(),
            application_server_key=server_key,
            created_at=utcnow(),
        )
    )
    await session.commit()
    row = await session.get(VapidKey, 1)
    assert row is not None
    return row


async def _check_subscription(data: SubscriptionCreate, settings: Settings) -> None:
    """The keys are a P-256 point and a 16-byte secret; the endpoint a public push service
    (backend/delivery/endpoints.py)."""
    try:
        point = _b64url(data.keys.p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        auth = _b64url(data.keys.auth)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(
            "the subscription keys are not a P-256 key and a 16-byte secret",
            code="invalid_subscription",
            extra={"field": "keys"},
        ) from exc
    if len(point) != 65 or len(auth) != 16:
        raise Invalid(
            "the subscription keys are not a P-256 key and a 16-byte secret",
            code="invalid_subscription",
            extra={"field": "keys"},
        )
    await check_push_endpoint(data.endpoint, allow_private=settings.push_allow_private)


#: what a sender writes of its own accord (not a remote answer or a connection error): shown as is
OWN_WORDS = frozenset(
    {
        "no device is subscribed",
        "the subscription has expired or was removed",
        "payload too large: sent again shrunk",
        "no Telegram chat is bound",
        "the channel URL is not understood",
    }
)
NOT_REACHED = "the service could not be reached"
_HTTP_STATUS = re.compile(r"^HTTP (\d{3})\b")


def shown_error(error: str | None) -> str | None:
    """A delivery error as the person sees it: a sender's own words, the HTTP status a service
    answered (not its body), or a generic label. Connection errors name addresses and ports
    the person must not learn of (the whole text stays in the outbox for admins' logs)."""
    if error is None or error in OWN_WORDS:
        return error
    status = _HTTP_STATUS.match(error)
    return f"HTTP {status.group(1)}" if status else NOT_REACHED


def _order(channels: Sequence[DeliveryChannel] | None) -> list[str]:
    order = [c.value for c in channels or ()]
    if len(set(order)) != len(order):
        raise Invalid("each channel once", code="duplicate_channel", extra={"field": "channel_order"})
    return order


def _check_quiet(start: str | None, end: str | None) -> None:
    if (start is None) != (end is None):
        raise Invalid(
            "quiet hours need a start and an end", code="quiet_hours_incomplete", extra={"field": "quiet_end"}
        )


def _policy_values(row: DeliveryUnitPolicy) -> dict[str, Any]:
    return {"channel_order": row.channel_order, "quiet_start": row.quiet_start, "quiet_end": row.quiet_end}


def _sub_public(s: PushSubscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        id=s.id or 0,
        service=urlsplit(s.endpoint).hostname or "",
        user_agent=s.user_agent,
        created_at=s.created_at,
        last_success_at=s.last_success_at,
    )


def _config_public(c: ChannelConfig, settings: Settings) -> ChannelConfigPublic:
    url = ch.open_url(settings, c.unit_id, c.channel, c.url)
    return ChannelConfigPublic(
        unit_id=c.unit_id,
        channel=c.channel,
        enabled=c.enabled,
        detail=c.detail,
        url_masked=ch.mask_url(DeliveryChannel(c.channel), url),
        has_url=bool(c.url),
        updated_at=c.updated_at,
    )


class DeliveryService:
    def __init__(self, session: AsyncSession, trail: AuditTrail, settings: Settings) -> None:
        self.session = session
        self.trail = trail
        self.settings = settings
        self.org = OrgService(session, trail)

    # --- a person's own settings ----------------------------------------------------
    async def effective(self, person_id: int | None, unit_id: int) -> Effective:
        """The order and quiet hours that apply to a person (or, with no person, to a unit's people)."""
        pref = await self.session.get(DeliveryPreference, person_id) if person_id is not None else None
        policies = {p.unit_id: p for p in (await self.session.execute(select(DeliveryUnitPolicy))).scalars()}
        return resolve(pref, await self.org.unit_chain(unit_id) if policies else [], policies)

    async def own_language(self, person_id: int) -> str | None:
        """The language the person chose (in the PWA or the bot), if any."""
        pref = await self.session.get(DeliveryPreference, person_id)
        return pref.language if pref else None

    async def language_of(self, person_id: int) -> str:
        """The language every channel speaks to the person: their own, else the deployment's."""
        return await self.own_language(person_id) or self.settings.delivery_language

    async def mine(self, person_id: int) -> MyDelivery:
        pref = await self.session.get(DeliveryPreference, person_id)
        person = await self.org.get_person(DIRECTORY_READER, person_id)
        effective = await self.effective(person_id, person.unit_id)
        addresses = list(
            (
                await self.session.execute(
                    select(PersonChannel)
                    .where(col(PersonChannel.person_id) == person_id)
                    .order_by(col(PersonChannel.channel))
                )
            ).scalars()
        )
        subs = (
            await self.session.execute(
                select(PushSubscription)
                .where(col(PushSubscription.person_id) == person_id)
                .order_by(col(PushSubscription.id))
            )
        ).scalars()
        key = await vapid_key(self.session)
        return MyDelivery(
            channel_order=effective.order,
            quiet_start=pref.quiet_start if pref else None,
            quiet_end=pref.quiet_end if pref else None,
            addresses=[
                AddressPublic(
                    channel=a.channel, address=a.address, enabled=a.enabled, refused_at=a.refused_at
                )
                for a in addresses
                if a.channel != DeliveryChannel.telegram
            ],
            telegram_bound=any(
                a.channel == DeliveryChannel.telegram and a.enabled and a.refused_at is None
                for a in addresses
            ),
            subscriptions=[_sub_public(s) for s in subs],
            vapid_public_key=key.application_server_key,
            own_channel_order=bool(pref and pref.channel_order),
            effective=effective.public(),
            sms_from_directory=(
                None
                if any(a.channel == DeliveryChannel.sms for a in addresses)
                else ch.sms_number(person.phone or "")
            ),
            language=pref.language if pref else None,
            language_in_use=(pref.language if pref else None) or self.settings.delivery_language,
            telegram_enabled=self.settings.telegram_offered,
        )

    async def update_preferences(self, actor: Actor, person_id: int, data: PreferenceUpdate) -> MyDelivery:
        pref = await self.session.get(DeliveryPreference, person_id) or DeliveryPreference(
            person_id=person_id
        )
        old = {
            "channel_order": pref.channel_order,
            "quiet_start": pref.quiet_start,
            "quiet_end": pref.quiet_end,
            "language": pref.language,
        }
        given = data.model_dump(exclude_unset=True)
        if "channel_order" in given and data.channel_order is not None:
            order = _order(data.channel_order)
            pref.channel_order = complete_order(order) if order else []  # []: my unit's order
        if "quiet_start" in given:
            pref.quiet_start = data.quiet_start
        if "quiet_end" in given:
            pref.quiet_end = data.quiet_end
        if "language" in given:
            pref.language = data.language
        _check_quiet(pref.quiet_start, pref.quiet_end)
        pref.updated_at = utcnow()
        self.session.add(pref)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.preferences",
            object_type="person",
            object_id=person_id,
            old=old,
            new={
                "channel_order": pref.channel_order,
                "quiet_start": pref.quiet_start,
                "quiet_end": pref.quiet_end,
                "language": pref.language,
            },
        )
        await self.session.commit()
        return await self.mine(person_id)

    async def _person(self, principal: Principal | None, person_id: int) -> None:
        await self.org.get_person(principal or DIRECTORY_READER, person_id)

    async def set_address(
        self, actor: Actor, person_id: int, channel: DeliveryChannel, data: AddressUpdate
    ) -> AddressPublic:
        if channel == DeliveryChannel.webpush:
            raise Invalid(
                "Web Push is set up by subscribing a device",
                code="use_push_subscription",
                extra={"field": "channel"},
            )
        if channel == DeliveryChannel.telegram:
            raise Invalid("Telegram is bound from the bot (send /start to it)", code="telegram_binds_via_bot")
        await self._person(None, person_id)
        address = ch.check_address(channel, data.address)
        return await self._store_address(actor, person_id, channel, address, data.enabled)

    async def _store_address(
        self, actor: Actor, person_id: int, channel: DeliveryChannel, address: str, enabled: bool
    ) -> AddressPublic:
        row = await self._address(person_id, channel)
        old = {"address": row.address, "enabled": row.enabled} if row else None
        if row is None:
            row = PersonChannel(person_id=person_id, channel=channel.value, address=address)
        row.address, row.enabled, row.refused_at, row.updated_at = address, enabled, None, utcnow()
        self.session.add(row)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.address",
            object_type="person",
            object_id=person_id,
            old=old,
            new={"channel": channel.value, "address": address, "enabled": enabled},
        )
        await self.session.commit()
        return AddressPublic(channel=row.channel, address=row.address, enabled=row.enabled, refused_at=None)

    async def _address(self, person_id: int, channel: DeliveryChannel) -> PersonChannel | None:
        stmt = select(PersonChannel).where(
            col(PersonChannel.person_id) == person_id, col(PersonChannel.channel) == channel.value
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def people_at(self, channel: DeliveryChannel, address: str) -> list[int]:
        """The people whose address on ``channel`` is ``address`` (who pressed a messenger card)."""
        stmt = select(col(PersonChannel.person_id)).where(
            col(PersonChannel.channel) == channel.value, col(PersonChannel.address) == address
        )
        return sorted(int(p) for p in (await self.session.execute(stmt)).scalars())

    async def address_of(self, person_id: int, channel: DeliveryChannel) -> AddressPublic | None:
        row = await self._address(person_id, channel)
        if row is None:
            return None
        return AddressPublic(
            channel=row.channel, address=row.address, enabled=row.enabled, refused_at=row.refused_at
        )

    async def _config(self, unit_id: int, channel: DeliveryChannel) -> ChannelConfig | None:
        stmt = select(ChannelConfig).where(
            col(ChannelConfig.unit_id) == unit_id, col(ChannelConfig.channel) == channel.value
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def delete_address(self, actor: Actor, person_id: int, channel: DeliveryChannel) -> None:
        row = await self._address(person_id, channel)
        if row is None:
            raise NotFound(f"no {channel.value} address is set", code="address_not_found")
        await self.session.delete(row)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.address_removed",
            object_type="person",
            object_id=person_id,
            old={"channel": channel.value},
        )
        await self.session.commit()

    async def bind_telegram(self, actor: Actor, person_id: int, chat_id: int | str) -> None:
        """For the bot: the person proved who they are in chat ``chat_id``; alerts go there now."""
        await self._store_address(
            actor,
            person_id,
            DeliveryChannel.telegram,
            ch.check_address(DeliveryChannel.telegram, str(chat_id)),
            True,
        )

    # --- Web Push subscriptions ------------------------------------------------------
    async def subscribe(self, actor: Actor, person_id: int, data: SubscriptionCreate) -> SubscriptionPublic:
        await _check_subscription(data, self.settings)
        row = (
            await self.session.execute(
                select(PushSubscription).where(col(PushSubscription.endpoint) == data.endpoint)
            )
        ).scalar_one_or_none()
        if row is None:
            row = PushSubscription(person_id=person_id, endpoint=data.endpoint, p256dh="", auth="")
        # a device that signs in as someone else now rings for them only
        row.person_id, row.p256dh, row.auth = person_id, data.keys.p256dh, data.keys.auth
        row.user_agent = data.user_agent
        self.session.add(row)
        await self.session.flush()
        await self.trail.record(
            self.session,
            actor,
            action="delivery.push_subscribed",
            object_type="push_subscription",
            object_id=row.id,
            new={"person_id": person_id, "service": urlsplit(data.endpoint).hostname},
        )
        await self.session.commit()
        return _sub_public(row)

    async def unsubscribe(self, actor: Actor, person_id: int, subscription_id: int) -> None:
        row = await self.session.get(PushSubscription, subscription_id)
        if row is None or row.person_id != person_id:
            raise NotFound(f"subscription {subscription_id} does not exist", code="subscription_not_found")
        await self.session.delete(row)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.push_unsubscribed",
            object_type="push_subscription",
            object_id=subscription_id,
        )
        await self.session.commit()

    # --- unit channel policies --------------------------------------------------------
    async def _unit(self, unit_id: int) -> Unit:
        unit = await self.session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(f"unit {unit_id} does not exist", code="unit_not_found")
        return unit

    async def unit_configs(self, unit_id: int) -> list[ChannelConfigPublic]:
        await self._unit(unit_id)
        rows = (
            await self.session.execute(
                select(ChannelConfig)
                .where(col(ChannelConfig.unit_id) == unit_id)
                .order_by(col(ChannelConfig.channel))
            )
        ).scalars()
        return [_config_public(c, self.settings) for c in rows]

    async def put_config(
        self, actor: Actor, unit_id: int, channel: DeliveryChannel, data: ChannelConfigUpdate
    ) -> ChannelConfigPublic:
        await self._unit(unit_id)
        row = await self._config(unit_id, channel)
        old = _config_public(row, self.settings).model_dump(mode="json") if row else None
        url = ch.check_url(channel, data.url) if data.url is not None else None
        if row is None:
            if ch.is_apprise(channel) and url is None:
                raise Invalid(
                    f"a {channel.value} policy needs the service URL",
                    code="url_required",
                    extra={"field": "url"},
                )
            row = ChannelConfig(unit_id=unit_id, channel=channel.value)
        if url is not None or (row.url and not is_sealed(row.url)):  # stored before sealing: seal now
            plain = url if url is not None else str(row.url)
            row.url = ch.seal_url(self.settings, unit_id, channel.value, plain)
        if data.enabled is not None:
            row.enabled = data.enabled
        if data.detail is not None:
            row.detail = data.detail
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        public = _config_public(row, self.settings)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.channel_policy",
            object_type="unit",
            object_id=unit_id,
            old=old,
            new=public.model_dump(mode="json"),
        )
        await self.session.commit()
        return public

    async def delete_config(self, actor: Actor, unit_id: int, channel: DeliveryChannel) -> None:
        await self._unit(unit_id)
        row = await self._config(unit_id, channel)
        if row is None:
            raise NotFound(f"unit {unit_id} has no {channel.value} policy", code="channel_policy_not_found")
        if (
            await self.session.execute(
                select(func.count()).where(
                    col(Delivery.config_id) == row.id,
                    col(Delivery.state).in_(["pending", "leased", "waiting"]),
                )
            )
        ).scalar_one():
            raise Conflict(
                "messages are still being sent under this policy: disable it instead",
                code="channel_policy_in_use",
            )
        await self.session.delete(row)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.channel_policy_removed",
            object_type="unit",
            object_id=unit_id,
            old={"channel": channel.value},
        )
        await self.session.commit()

    # --- unit order and quiet hours ---------------------------------------------------
    async def unit_policy(self, unit_id: int) -> UnitPolicyPublic:
        await self._unit(unit_id)
        row = await self.session.get(DeliveryUnitPolicy, unit_id)
        return UnitPolicyPublic(
            unit_id=unit_id,
            channel_order=list(row.channel_order) if row and row.channel_order else None,
            quiet_start=row.quiet_start if row else None,
            quiet_end=row.quiet_end if row else None,
            updated_at=row.updated_at if row else None,
            effective=(await self.effective(None, unit_id)).public(),
        )

    async def put_unit_policy(self, actor: Actor, unit_id: int, data: UnitPolicyUpdate) -> UnitPolicyPublic:
        await self._unit(unit_id)
        row = await self.session.get(DeliveryUnitPolicy, unit_id)
        old = _policy_values(row) if row else None
        row = row or DeliveryUnitPolicy(unit_id=unit_id)
        given = data.model_dump(exclude_unset=True)
        if "channel_order" in given:
            row.channel_order = complete_order(_order(data.channel_order)) if data.channel_order else None
        if "quiet_start" in given:
            row.quiet_start = data.quiet_start
        if "quiet_end" in given:
            row.quiet_end = data.quiet_end
        _check_quiet(row.quiet_start, row.quiet_end)
        row.updated_at = utcnow()
        self.session.add(row)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.unit_policy",
            object_type="unit",
            object_id=unit_id,
            old=old,
            new=_policy_values(row),
        )
        await self.session.commit()
        return await self.unit_policy(unit_id)

    async def delete_unit_policy(self, actor: Actor, unit_id: int) -> None:
        await self._unit(unit_id)
        row = await self.session.get(DeliveryUnitPolicy, unit_id)
        if row is None:
            raise NotFound(f"unit {unit_id} sets no order or quiet hours", code="unit_policy_not_found")
        await self.session.delete(row)
        await self.trail.record(
            self.session,
            actor,
            action="delivery.unit_policy_removed",
            object_type="unit",
            object_id=unit_id,
            old=_policy_values(row),
        )
        await self.session.commit()

    # --- delivery proof ---------------------------------------------------------------
    async def proof_page(self, person_id: int, *, limit: int, offset: int) -> ProofPage:
        mine = col(EventRecipient.person_id) == person_id
        total = (
            await self.session.execute(select(func.count()).select_from(EventRecipient).where(mine))
        ).scalar_one()
        rows = (
            await self.session.execute(
                select(EventRecipient, Event)
                .join(Event, col(Event.id) == col(EventRecipient.event_id))
                .where(mine)
                .order_by(col(EventRecipient.id).desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
        items = await self._proofs([(r, e) for r, e in rows], with_attempts=False)
        return ProofPage(items=items, total=int(total), limit=limit, offset=offset)

    async def proof_one(self, person_id: int, recipient_id: int) -> NotificationProof:
        row = (
            await self.session.execute(
                select(EventRecipient, Event)
                .join(Event, col(Event.id) == col(EventRecipient.event_id))
                .where(col(EventRecipient.id) == recipient_id, col(EventRecipient.person_id) == person_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"notification {recipient_id} does not exist", code="notification_not_found")
        return (await self._proofs([(row[0], row[1])], with_attempts=True))[0]

    async def _proofs(
        self, rows: list[tuple[EventRecipient, Event]], *, with_attempts: bool
    ) -> list[NotificationProof]:
        ids = [r.id or 0 for r, _ in rows]
        routes = {
            r.recipient_id: r
            for r in (
                await self.session.execute(
                    select(DeliveryRoute).where(col(DeliveryRoute.recipient_id).in_(ids))
                )
            ).scalars()
        }
        deliveries: dict[int, list[Delivery]] = defaultdict(list)
        for d in (
            await self.session.execute(
                select(Delivery).where(col(Delivery.recipient_id).in_(ids)).order_by(col(Delivery.position))
            )
        ).scalars():
            deliveries[d.recipient_id].append(d)
        attempts: dict[int, list[DeliveryAttempt]] = defaultdict(list)
        if with_attempts:
            delivery_ids = [d.id for ds in deliveries.values() for d in ds]
            for a in (
                await self.session.execute(
                    select(DeliveryAttempt)
                    .where(col(DeliveryAttempt.delivery_id).in_(delivery_ids))
                    .order_by(col(DeliveryAttempt.id))
                )
            ).scalars():
                attempts[a.delivery_id].append(a)
        horizon = utcnow() - timedelta(hours=self.settings.delivery_horizon_hours)
        out = []
        for r, e in rows:
            route = routes.get(r.id or 0)
            ds = deliveries.get(r.id or 0, [])
            state = route.state if route else ("inapp" if e.created_at < horizon else "not_routed_yet")
            out.append(
                NotificationProof(
                    id=r.id or 0,
                    event_id=e.id or 0,
                    kind=e.kind,
                    level=e.level,
                    subject_type=e.subject_type,
                    subject_id=e.subject_id,
                    created_at=e.created_at,
                    read_at=r.read_at,
                    route_state=state,
                    delivered_channel=route.delivered_channel if route else None,
                    delivered_at=route.delivered_at if route else None,
                    channels=[
                        ChannelProof(
                            channel=d.channel,
                            state=d.state,
                            attempts=d.attempts,
                            sent_at=d.sent_at,
                            last_error=shown_error(d.last_error),
                            next_attempt_at=d.next_attempt_at if d.state == "pending" else None,
                        )
                        for d in ds
                    ],
                    attempts=[
                        AttemptPublic(
                            channel=a.channel,
                            target=a.target,
                            outcome=a.outcome,
                            status=a.status,
                            error=shown_error(a.error),
                            latency_ms=a.latency_ms,
                            at=a.at,
                        )
                        for d in ds
                        for a in attempts.get(d.id or 0, [])
                    ],
                )
            )
        return out
