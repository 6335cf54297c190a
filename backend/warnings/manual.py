"""Warnings raised by hand (人工预警) for offline topics and inspections.

An inspector who finds a risk on site — a topic without a data rule (completion acceptance), or
anything an inspection turns up — raises a warning naming the topic, the person, the level, the
object inspected, what was found, and photos. It is a warning like any other: one per (topic,
object, period), the same deadline, tiered delivery and lifecycle (:func:`routing.announce`,
the path rule runs take), so the person answers it from their inbox. Its rule version is 0 (no
rule raised it); the evidence holds the inspector's words under ``observed``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from litestar.datastructures import UploadFile
from pydantic import ValidationError
from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from backend.audit.service import AuditTrail
from backend.kernel.access import Principal, Role
from backend.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from backend.kernel.schemas import STRICT
from backend.kernel.settings import Settings
from backend.kernel.timeutil import local, utcnow
from backend.org.service import OrgService
from backend.warnings.models import Level, Warning, WarningPhoto
from backend.warnings.photos import PhotoStore, check_image
from backend.warnings.routing import announce

#: the rule version of a warning no rule raised
MANUAL_VERSION = 0
MAX_PHOTOS = 6
#: the evidence key of the inspector's words (labelled in ``evidence.labels_of``)
OBSERVED = "observed"
TOPIC = table("topic", column("id"), column("code"), column("state"), column("specialty"))


class ManualWarningCreate(SQLModel):
    model_config = STRICT

    topic_id: int = Field(ge=1)
    person_id: int = Field(ge=1)
    level: Level
    #: what was inspected: the work order, customer, project … (the warning's object)
    object: str = Field(min_length=1, max_length=128)
    #: what the inspection found (the evidence, in words)
    observed: str = Field(min_length=1, max_length=4000)


@dataclass
class ManualForm:
    """The form as the phone sends it (multipart): the fields of :class:`ManualWarningCreate` and
    the photos in ``files``."""

    topic_id: str
    person_id: str
    level: str
    object: str
    observed: str
    files: list[UploadFile] = field(default_factory=list)

    async def parsed(self) -> tuple[ManualWarningCreate, list[bytes]]:
        try:
            data = ManualWarningCreate.model_validate(
                {k: getattr(self, k) for k in ("topic_id", "person_id", "level", "object", "observed")}
            )
        except ValidationError as exc:
            where = exc.errors()[0]["loc"]
            raise Invalid(
                f"the form's {where[0] if where else 'fields'} is not valid",
                code="invalid_request",
                extra={"field": str(where[0]) if where else None},
            ) from None
        uploads = self.files if isinstance(self.files, list) else [self.files]
        return data, [await u.read() for u in uploads if isinstance(u, UploadFile)]


async def raise_manual(
    session: AsyncSession,
    trail: AuditTrail,
    settings: Settings,
    principal: Principal,
    data: ManualWarningCreate,
    photos: list[bytes],
) -> Warning:
    """Raise and deliver one warning by hand (committed); 409 ``already_raised`` for the same
    topic, object and month."""
    if not principal.has(Role.inspector):
        raise Forbidden("inspectors raise warnings by hand", code="not_inspector")
    if len(photos) > MAX_PHOTOS:
        raise Invalid(f"at most {MAX_PHOTOS} photos", code="too_many_photos", extra={"field": "files"})
    checked = [(content, check_image(content, settings.photo_max_bytes)) for content in photos]
    topic = (await session.execute(select(TOPIC).where(TOPIC.c.id == data.topic_id))).one_or_none()
    if topic is None:
        raise NotFound(f"topic {data.topic_id} does not exist", code="topic_not_found")
    if topic.state != "online":
        raise Conflict(
            "warnings are raised on topics that are online",
            code="topic_not_online",
            extra={"field": "topic_id", "state": topic.state},
        )
    person = await OrgService(session, trail).get_person(principal, data.person_id)
    if person.unit_id not in principal.subtree_unit_ids or person.id == principal.person_id:
        raise Forbidden(
            "the person is outside the units you inspect", code="out_of_scope", extra={"field": "person_id"}
        )
    now = utcnow()
    warning = Warning(
        topic_id=topic.id,
        topic_code=topic.code,
        rule_version_id=MANUAL_VERSION,
        specialty=topic.specialty,
        level=data.level,
        person_id=person.id or 0,
        unit_id=person.unit_id,
        object_key=data.object,
        period_key=f"{local(now):%Y-%m}",
        evidence={OBSERVED: data.observed, "manual": True},
        raised_at=now,
        last_hit_at=now,
    )
    session.add(warning)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            "this topic already has a warning on this object this month",
            code="already_raised",
            extra={"field": "object"},
        ) from None
    assert warning.id is not None
    store = PhotoStore(settings.data_dir)
    for content, mime in dict((hashlib.sha256(c).hexdigest(), (c, m)) for c, m in checked).values():
        digest = store.put(content)
        session.add(
            WarningPhoto(
                warning_id=warning.id,
                sha256=digest,
                content_type=mime,
                size=len(content),
                uploaded_by=principal.person_id,
            )
        )
    await trail.record(
        session,
        principal.actor,
        action="warning.raise_manual",
        object_type="warning",
        object_id=warning.id,
        new={
            "topic_code": topic.code,
            "level": data.level.value,
            "person_id": person.id,
            "object_key": data.object,
            "photos": len(checked),
        },
        power="warning.raise",
    )
    await announce(session, trail, [warning.id], actor=principal.actor)
    await session.commit()
    return (await session.execute(select(Warning).where(col(Warning.id) == warning.id))).scalar_one()
