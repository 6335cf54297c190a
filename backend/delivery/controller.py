"""Delivery settings, push subscriptions, delivery proof, unit channel policies, broadcasts."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.delivery.broadcasts import BroadcastService
from backend.delivery.models import (
    AddressPublic,
    AddressUpdate,
    BroadcastCreate,
    BroadcastPublic,
    BroadcastStats,
    BroadcastTargets,
    ChannelConfigPublic,
    ChannelConfigUpdate,
    DeliveryChannel,
    MyDelivery,
    NotificationProof,
    OutboxStats,
    PreferenceUpdate,
    ProofPage,
    RemindResult,
    SubscriptionCreate,
    SubscriptionPublic,
    UnitPolicyPublic,
    UnitPolicyUpdate,
)
from backend.delivery.outbox import Outbox
from backend.delivery.service import DeliveryService
from backend.kernel.access import Principal, Role, requires

ADMIN = [requires(Role.admin)]
Me = Request[Principal, Any, Any]


async def provide_delivery(db_session: NamedDependency[AsyncSession], state: State) -> DeliveryService:
    return DeliveryService(db_session, state.trail, state.settings)


async def provide_broadcasts(db_session: NamedDependency[AsyncSession], state: State) -> BroadcastService:
    return BroadcastService(db_session, state.trail)


class DeliveryController(Controller):
    path = "/api/delivery"
    tags = ["delivery"]
    dependencies = {"delivery": Provide(provide_delivery)}
    guards = [requires()]

    @get("/me", summary="My channels, quiet hours, devices and the VAPID key to subscribe with")
    async def mine(self, delivery: NamedDependency[DeliveryService], request: Me) -> MyDelivery:
        return await delivery.mine(request.user.person_id)

    @put("/me/preferences", summary="My channel order and quiet hours (red warnings ring through them)")
    async def preferences(
        self, data: JSONBody[PreferenceUpdate], delivery: NamedDependency[DeliveryService], request: Me
    ) -> MyDelivery:
        return await delivery.update_preferences(request.user.actor, request.user.person_id, data)

    @put("/me/channels/{channel:str}", summary="Set my address on a channel (WeCom id, e-mail, phone …)")
    async def set_my_address(
        self,
        channel: FromPath[DeliveryChannel],
        data: JSONBody[AddressUpdate],
        delivery: NamedDependency[DeliveryService],
        request: Me,
    ) -> AddressPublic:
        return await delivery.set_address(request.user.actor, request.user.person_id, channel, data)

    @delete("/me/channels/{channel:str}", status_code=204, summary="Remove my address on a channel")
    async def delete_my_address(
        self, channel: FromPath[DeliveryChannel], delivery: NamedDependency[DeliveryService], request: Me
    ) -> None:
        await delivery.delete_address(request.user.actor, request.user.person_id, channel)

    @post("/me/push-subscriptions", status_code=201, summary="Subscribe this device to Web Push")
    async def subscribe(
        self, data: JSONBody[SubscriptionCreate], delivery: NamedDependency[DeliveryService], request: Me
    ) -> SubscriptionPublic:
        return await delivery.subscribe(request.user.actor, request.user.person_id, data)

    @delete("/me/push-subscriptions/{subscription_id:int}", status_code=204, summary="Unsubscribe a device")
    async def unsubscribe(
        self, subscription_id: FromPath[int], delivery: NamedDependency[DeliveryService], request: Me
    ) -> None:
        await delivery.unsubscribe(request.user.actor, request.user.person_id, subscription_id)

    @get("/notifications", summary="My notifications with their delivery proof, newest first")
    async def proof_page(
        self,
        delivery: NamedDependency[DeliveryService],
        request: Me,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> ProofPage:
        return await delivery.proof_page(request.user.person_id, limit=limit, offset=offset)

    @get("/notifications/{notification_id:int}", summary="One of my notifications: every channel and try")
    async def proof_one(
        self, notification_id: FromPath[int], delivery: NamedDependency[DeliveryService], request: Me
    ) -> NotificationProof:
        return await delivery.proof_one(request.user.person_id, notification_id)

    @put(
        "/people/{person_id:int}/channels/{channel:str}",
        guards=ADMIN,
        summary="Set a person's address on a channel (admin: e.g. WeCom user ids)",
    )
    async def set_address(
        self,
        person_id: FromPath[int],
        channel: FromPath[DeliveryChannel],
        data: JSONBody[AddressUpdate],
        delivery: NamedDependency[DeliveryService],
        request: Me,
    ) -> AddressPublic:
        return await delivery.set_address(request.user.actor, person_id, channel, data)

    @get("/units/{unit_id:int}/channels", guards=ADMIN, summary="A unit's channel policies (secrets masked)")
    async def unit_configs(
        self, unit_id: FromPath[int], delivery: NamedDependency[DeliveryService]
    ) -> list[ChannelConfigPublic]:
        return await delivery.unit_configs(unit_id)

    @put(
        "/units/{unit_id:int}/channels/{channel:str}",
        guards=ADMIN,
        summary="Set a unit's policy for a channel: Apprise URL with {address}, enabled, detail",
    )
    async def put_config(
        self,
        unit_id: FromPath[int],
        channel: FromPath[DeliveryChannel],
        data: JSONBody[ChannelConfigUpdate],
        delivery: NamedDependency[DeliveryService],
        request: Me,
    ) -> ChannelConfigPublic:
        return await delivery.put_config(request.user.actor, unit_id, channel, data)

    @delete(
        "/units/{unit_id:int}/channels/{channel:str}",
        guards=ADMIN,
        status_code=204,
        summary="Remove a policy",
    )
    async def delete_config(
        self,
        unit_id: FromPath[int],
        channel: FromPath[DeliveryChannel],
        delivery: NamedDependency[DeliveryService],
        request: Me,
    ) -> None:
        await delivery.delete_config(request.user.actor, unit_id, channel)

    @get(
        "/units/{unit_id:int}/policy",
        guards=ADMIN,
        summary="A unit's channel order and quiet hours, and what its people get (admin)",
    )
    async def unit_policy(
        self, unit_id: FromPath[int], delivery: NamedDependency[DeliveryService]
    ) -> UnitPolicyPublic:
        return await delivery.unit_policy(unit_id)

    @put(
        "/units/{unit_id:int}/policy",
        guards=ADMIN,
        summary="Set a unit's default channel order and quiet hours (null: the unit above decides; "
        "equal start and end: none). The nearest unit up the tree wins; a person's own settings win",
    )
    async def put_unit_policy(
        self,
        unit_id: FromPath[int],
        data: JSONBody[UnitPolicyUpdate],
        delivery: NamedDependency[DeliveryService],
        request: Me,
    ) -> UnitPolicyPublic:
        return await delivery.put_unit_policy(request.user.actor, unit_id, data)

    @delete(
        "/units/{unit_id:int}/policy",
        guards=ADMIN,
        status_code=204,
        summary="Remove a unit's order and quiet hours",
    )
    async def delete_unit_policy(
        self, unit_id: FromPath[int], delivery: NamedDependency[DeliveryService], request: Me
    ) -> None:
        await delivery.delete_unit_policy(request.user.actor, unit_id)

    @get("/outbox", guards=ADMIN, summary="Outbox counts by channel and state (admin)")
    async def outbox(self, db_session: NamedDependency[AsyncSession], state: State) -> OutboxStats:
        return OutboxStats.model_validate(await Outbox(db_session, state.settings, state.trail).stats())


class BroadcastController(Controller):
    path = "/api/broadcasts"
    tags = ["broadcasts"]
    dependencies = {"broadcasts": Provide(provide_broadcasts)}
    guards = [requires()]

    @post("/", guards=ADMIN, status_code=201, summary="Broadcast now or at a time to units, roles, people")
    async def create(
        self, data: JSONBody[BroadcastCreate], broadcasts: NamedDependency[BroadcastService], request: Me
    ) -> BroadcastPublic:
        return await broadcasts.create(request.user.actor, data)

    @post(
        "/audience",
        guards=ADMIN,
        status_code=200,
        summary="How many active people these targets reach (the count a sender confirms before sending)",
    )
    async def audience(
        self, data: JSONBody[BroadcastTargets], broadcasts: NamedDependency[BroadcastService]
    ) -> dict[str, int]:
        return {"count": len(await broadcasts.people(data))}

    @get("/", summary="Broadcasts: all for admins, those sent to me for everyone else")
    async def list_broadcasts(
        self,
        broadcasts: NamedDependency[BroadcastService],
        request: Me,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> list[BroadcastPublic]:
        return await broadcasts.list(request.user, limit=limit, offset=offset)

    @get("/{broadcast_id:int}", summary="One broadcast (its recipients and admins)")
    async def get_one(
        self, broadcast_id: FromPath[int], broadcasts: NamedDependency[BroadcastService], request: Me
    ) -> BroadcastPublic:
        return await broadcasts.get(request.user, broadcast_id)

    @post("/{broadcast_id:int}/read", status_code=200, summary="I have read this broadcast")
    async def read(
        self, broadcast_id: FromPath[int], broadcasts: NamedDependency[BroadcastService], request: Me
    ) -> BroadcastPublic:
        return await broadcasts.mark_read(request.user, broadcast_id)

    @post(
        "/{broadcast_id:int}/remind",
        guards=ADMIN,
        status_code=200,
        summary="Remind those who have not read it",
    )
    async def remind(
        self, broadcast_id: FromPath[int], broadcasts: NamedDependency[BroadcastService], request: Me
    ) -> RemindResult:
        return await broadcasts.remind(request.user.actor, broadcast_id)

    @post("/{broadcast_id:int}/cancel", guards=ADMIN, status_code=200, summary="Cancel a scheduled broadcast")
    async def cancel(
        self, broadcast_id: FromPath[int], broadcasts: NamedDependency[BroadcastService], request: Me
    ) -> BroadcastPublic:
        return await broadcasts.cancel(request.user.actor, broadcast_id)

    @get("/{broadcast_id:int}/stats", guards=ADMIN, summary="Who has read it, by unit and channel (admin)")
    async def stats(
        self, broadcast_id: FromPath[int], broadcasts: NamedDependency[BroadcastService]
    ) -> BroadcastStats:
        return await broadcasts.stats(broadcast_id)
