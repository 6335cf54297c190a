from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from backend.audit.models import AuditRecord
from backend.events.models import Event
from backend.warnings.models import Verification, Warning, WarningStep
from tests.reads import recorded

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 500


def reply(**over):
    body = {
        "client_id": str(uuid.uuid4()),
        "result": "true",
        "cause": "meter swapped without a reading",
        "measures": "recovered the billing, retrained the installer",
    }
    body.update(over)
    return body


async def submit(client, sessions, wid, user="manager", **over):
    body = reply(**over)
    r = await client.post(
        f"/api/warnings/{wid}/verifications", json=body, headers=await sessions.headers(user)
    )
    return r, body


async def test_full_lifecycle_with_return_and_trail(client, sessions, seed, db):
    wid = await seed.warning("E0005", level="high")
    r, _ = await submit(client, sessions, wid)
    assert r.status_code == 201, r.text
    assert r.json()["warning"]["state"] == "submitted"
    assert r.json()["warning"]["open"] is False
    head = await sessions.headers("head")
    r = await client.post(
        f"/api/warnings/{wid}/return", json={"reason": "add a photo of the meter"}, headers=head
    )
    assert r.status_code == 200 and r.json()["warning"]["state"] == "returned"
    assert r.json()["verification"]["decision"] == "returned"
    r, _ = await submit(client, sessions, wid)
    assert r.status_code == 201 and r.json()["verification"]["round"] == 2
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=head)
    assert r.status_code == 200 and r.json()["warning"]["state"] == "confirmed"
    r = await client.post(f"/api/warnings/{wid}/close", headers=await sessions.headers("inspector"))
    assert r.status_code == 200 and r.json()["warning"]["state"] == "closed"
    detail = (await client.get(f"/api/warnings/{wid}", headers=head)).json()
    kinds = [s["kind"] for s in detail["timeline"]]
    assert kinds == ["raised", "delivered", "submitted", "returned", "resubmitted", "confirmed", "closed"]
    assert detail["timeline"][3]["note"] == "add a photo of the meter"
    assert [v["round"] for v in detail["verifications"]] == [1, 2]
    # the head's view is a read: the app writes it with its next batch of reads
    await recorded(db, AuditRecord.action == "warning.view", AuditRecord.object_id == str(wid), at_least=1)
    async with db.session() as s:
        actions = [
            a
            for (a,) in (
                await s.execute(
                    select(AuditRecord.action).where(
                        AuditRecord.object_type == "warning", AuditRecord.object_id == str(wid)
                    )
                )
            ).all()
        ]
        for action in (
            "warning.raised",
            "warning.delivered",
            "warning.submitted",
            "warning.returned",
            "warning.resubmitted",
            "warning.confirmed",
            "warning.closed",
            "warning.view",
        ):
            assert action in actions, action
        told = {e.kind for e in (await s.execute(select(Event).where(Event.subject_id == wid))).scalars()}
        assert {"warning.raised", "warning.returned", "warning.confirmed"} <= told


async def test_replay_returns_the_first_result_and_other_body_is_409(client, sessions, seed, db):
    wid = await seed.warning("E0005")
    r1, body = await submit(client, sessions, wid)
    h = await sessions.headers("manager")
    r2 = await client.post(f"/api/warnings/{wid}/verifications", json=body, headers=h)
    assert r1.status_code == 201 and r2.status_code == 200
    assert r2.json()["verification"]["id"] == r1.json()["verification"]["id"]
    changed = {**body, "cause": "something else"}
    r3 = await client.post(f"/api/warnings/{wid}/verifications", json=changed, headers=h)
    assert r3.status_code == 409 and r3.json()["code"] == "client_id_reused"
    async with db.session() as s:
        n = (await s.execute(select(func.count()).select_from(Verification))).scalar_one()
        assert n == 1


async def test_concurrent_replays_store_one_reply(client, sessions, seed, db):
    wid = await seed.warning("E0005")
    body = reply()
    h = await sessions.headers("manager")
    results = await asyncio.gather(
        *[client.post(f"/api/warnings/{wid}/verifications", json=body, headers=h) for _ in range(4)]
    )
    assert sorted(r.status_code for r in results) == [200, 200, 200, 201]
    assert len({r.json()["verification"]["id"] for r in results}) == 1
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Verification))).scalar_one() == 1


async def test_two_decisions_that_both_read_submitted_exactly_one_moves_it(
    client, sessions, seed, db, settings, monkeypatch
):
    """The interleaving forced: two deciders (each a transaction of its own) have both read the
    reply as waiting before either writes. Only the conditional UPDATE (``_move``, from the state
    read) tells the second it lost; without it both move the warning and both steps stand."""
    from backend.kernel.access import Principal, Role
    from backend.kernel.errors import Conflict
    from backend.warnings.schemas import DecisionCreate
    from backend.warnings.service import WarningService
    from tests.warnings.conftest import TRAIL

    wid = await seed.warning("E0005")
    await submit(client, sessions, wid)
    head, unit = await seed.person("E0004")
    boss = Principal(0, "", head, unit, frozenset({Role.head}), frozenset({unit}))
    both_read = asyncio.Barrier(2)
    real_move = WarningService._move

    async def move_once_both_read(self, warning, to, *args, **kwargs):
        async with asyncio.timeout(10):
            await both_read.wait()
        return await real_move(self, warning, to, *args, **kwargs)

    monkeypatch.setattr(WarningService, "_move", move_once_both_read)
    async with db.session() as first, db.session() as second:
        results = await asyncio.gather(
            WarningService(first, TRAIL, settings).decide(boss, wid, DecisionCreate(), confirm=True),
            WarningService(second, TRAIL, settings).decide(
                boss, wid, DecisionCreate(reason="no"), confirm=False
            ),
            return_exceptions=True,
        )
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(lost) == 1, results
    assert isinstance(lost[0], Conflict) and lost[0].code == "state_changed", lost[0]
    async with db.session() as s:
        kinds = (
            (
                await s.execute(
                    select(WarningStep.kind).where(
                        WarningStep.warning_id == wid, WarningStep.kind.in_(["confirmed", "returned"])
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(kinds) == 1


async def test_two_simultaneous_decisions_exactly_one_wins(client, sessions, seed, db):
    wid = await seed.warning("E0005")
    await submit(client, sessions, wid)
    head, inspector = await sessions.headers("head"), await sessions.headers("inspector")
    a, b = await asyncio.gather(
        client.post(f"/api/warnings/{wid}/confirm", headers=head),
        client.post(f"/api/warnings/{wid}/return", json={"reason": "no"}, headers=inspector),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 409]
    loser = a if a.status_code == 409 else b
    assert loser.json()["code"] in {"state_changed", "invalid_transition"}
    async with db.session() as s:
        steps = (
            await s.execute(
                select(WarningStep.kind).where(
                    WarningStep.warning_id == wid, WarningStep.kind.in_(["confirmed", "returned"])
                )
            )
        ).all()
        assert len(steps) == 1


async def test_two_different_replies_at_once_exactly_one_wins(client, sessions, seed):
    wid = await seed.warning("E0005")
    h = await sessions.headers("manager")
    a, b = await asyncio.gather(
        client.post(f"/api/warnings/{wid}/verifications", json=reply(), headers=h),
        client.post(f"/api/warnings/{wid}/verifications", json=reply(), headers=h),
    )
    assert sorted([a.status_code, b.status_code]) == [201, 409]


async def test_bad_replies(client, sessions, seed, db):
    wid = await seed.warning("E0005")
    other = await seed.warning("E0006")
    # someone else's warning: invisible (404) or visible but not theirs (403)
    r, _ = await submit(client, sessions, other)
    assert r.status_code == 404 and r.json()["code"] == "warning_not_found"
    r, _ = await submit(client, sessions, wid, user="head")
    assert r.status_code == 403 and r.json()["code"] == "not_your_warning"
    # required fields
    r, _ = await submit(client, sessions, wid, measures="  ")
    assert r.status_code == 400 and r.json()["code"] == "measures_required"
    for bad in (
        {"cause": ""},
        {"result": "maybe"},
        {"client_id": "x"},
        {"latitude": 30.5},
        {"latitude": 95, "longitude": 10},
        {"surprise": 1},
    ):
        r, _ = await submit(client, sessions, wid, **bad)
        assert r.status_code == 400, bad
        assert r.json()["code"] == "invalid_request"
    h = await sessions.headers("manager")
    r = await client.post(f"/api/warnings/{wid}/verifications", json={"result": "true"}, headers=h)
    assert r.status_code == 400
    r, _ = await submit(client, sessions, wid, photo_ids=[4242])
    assert r.status_code == 400 and r.json()["code"] == "unknown_photo"
    # not true needs no measures
    r, _ = await submit(client, sessions, wid, result="not_true", measures="")
    assert r.status_code == 201
    # nothing half-stored: one reply, and the warning moved once
    async with db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Verification))).scalar_one() == 1
        w = await s.get(Warning, wid)
        assert w.state == "submitted" and w.submissions == 1 and w.finding == "not_true"
    # a submitted warning takes no second reply until returned
    r, _ = await submit(client, sessions, wid)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


async def test_closed_warning_takes_no_reply(client, sessions, seed):
    wid = await seed.warning("E0005")
    await submit(client, sessions, wid)
    head = await sessions.headers("head")
    await client.post(f"/api/warnings/{wid}/confirm", headers=head)
    assert (await client.post(f"/api/warnings/{wid}/close", headers=head)).status_code == 200
    r, _ = await submit(client, sessions, wid)
    assert r.status_code == 409 and r.json()["code"] == "warning_closed"
    r = await client.post(f"/api/warnings/{wid}/close", headers=head)
    assert r.status_code == 409 and r.json()["code"] == "warning_closed"
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=head)
    assert r.status_code == 409


async def test_confirmation_by_the_right_person_only(client, sessions, seed):
    wid = await seed.warning("E0005")
    own = await seed.warning("E0004")  # the head's own warning
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("head"))
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"  # nothing submitted yet
    await submit(client, sessions, wid)
    await submit(client, sessions, own, user="head")
    # head of another station: cannot even see it
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("head2"))
    assert r.status_code == 404
    # a head who sees it through the specialty but does not head the unit
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("expert"))
    assert r.status_code == 403 and r.json()["code"] == "not_unit_head"
    # the manager is no head: role guard
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("manager"))
    assert r.status_code == 403
    # nobody confirms their own reply
    r = await client.post(f"/api/warnings/{own}/confirm", headers=await sessions.headers("head"))
    assert r.status_code == 403 and r.json()["code"] == "own_reply"
    # returning needs a reason
    r = await client.post(f"/api/warnings/{wid}/return", json={}, headers=await sessions.headers("head"))
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    # the inspector of the county confirms the head's reply
    r = await client.post(f"/api/warnings/{own}/confirm", headers=await sessions.headers("inspector"))
    assert r.status_code == 200


async def test_deadline_keeps_running_while_returned(client, sessions, seed):
    wid = await seed.warning("E0005")
    before = (await client.get(f"/api/warnings/{wid}", headers=await sessions.headers("head"))).json()
    await submit(client, sessions, wid)
    await client.post(
        f"/api/warnings/{wid}/return", json={"reason": "r"}, headers=await sessions.headers("head")
    )
    after = (await client.get(f"/api/warnings/{wid}", headers=await sessions.headers("head"))).json()
    assert after["warning"]["due_at"] == before["warning"]["due_at"]
    assert after["warning"]["open"] is True


async def test_photos_sniffed_hashed_and_scoped(client, sessions, seed, db, settings):
    wid = await seed.warning("E0005")
    h = await sessions.headers("manager")
    url = f"/api/warnings/{wid}/photos"
    r = await client.post(url, files={"file": ("meter.jpg", JPEG, "image/jpeg")}, headers=h)
    assert r.status_code == 201, r.text
    photo = r.json()
    import hashlib

    assert photo["sha256"] == hashlib.sha256(JPEG).hexdigest() and photo["content_type"] == "image/jpeg"
    assert (settings.data_dir / "photos" / photo["sha256"][:2] / photo["sha256"]).read_bytes() == JPEG
    again = await client.post(url, files={"file": ("again.jpg", JPEG, "image/jpeg")}, headers=h)
    assert again.status_code == 200 and again.json()["id"] == photo["id"]
    # the declared type is ignored: PNG bytes named .jpg are a PNG
    png = await client.post(url, files={"file": ("x.jpg", PNG, "image/jpeg")}, headers=h)
    assert png.json()["content_type"] == "image/png"
    # not an image, whatever it says
    r = await client.post(
        url, files={"file": ("evil.jpg", b"<html>not an image</html>", "image/jpeg")}, headers=h
    )
    assert r.status_code == 415 and r.json()["code"] == "not_an_image"
    r = await client.post(url, files={"file": ("e.jpg", b"", "image/jpeg")}, headers=h)
    assert r.status_code == 400 and r.json()["code"] == "photo_empty"
    r = await client.post(
        url, files={"file": ("big.jpg", JPEG[:4] + b"\0" * 9_000_000, "image/jpeg")}, headers=h
    )
    assert r.status_code == 413 and r.json()["code"] == "photo_too_large"
    r = await client.post(
        url, files={"file": ("huge.jpg", JPEG[:4] + b"\0" * 40_000_000, "image/jpeg")}, headers=h
    )
    assert r.status_code == 413
    r = await client.post(
        url, files={"file": ("m.jpg", JPEG, "image/jpeg")}, headers=await sessions.headers("head")
    )
    assert r.status_code == 403
    # attach to the reply
    r, _ = await submit(client, sessions, wid, photo_ids=[photo["id"]])
    assert r.status_code == 201 and r.json()["verification"]["photo_ids"] == [photo["id"]]
    # served to those who see the warning, recorded; 404 to the rest
    get = f"/api/warnings/{wid}/photos/{photo['id']}"
    for user in ("manager", "head", "inspector", "committee"):
        r = await client.get(get, headers=await sessions.headers(user))
        assert r.status_code == 200, user
        assert r.content == JPEG and r.headers["content-type"].startswith("image/jpeg")
    for user in ("manager2", "head2", "admin"):
        r = await client.get(get, headers=await sessions.headers(user))
        assert r.status_code == 404, user
    # looking at a photo is a read: the app writes it with its next batch of reads
    downloads = AuditRecord.action == "photo.download", AuditRecord.object_id == str(photo["id"])
    assert await recorded(db, *downloads, at_least=4) == 4
    # another warning's photo cannot be attached
    wid2 = await seed.warning("E0005")
    r, _ = await submit(client, sessions, wid2, photo_ids=[photo["id"]])
    assert r.status_code == 400 and r.json()["code"] == "unknown_photo"


async def test_a_failure_after_the_event_leaves_nothing_half_stored(client, sessions, seed, db, monkeypatch):
    """The event, the timeline step, the trail record and the state change are one transaction:
    when anything fails after the event was written, none of them is kept."""
    import backend.warnings.service as service

    wid = await seed.warning("E0005")
    await submit(client, sessions, wid)
    real_emit = service.emit

    async def emit_then_fail(*args, **kwargs):
        await real_emit(*args, **kwargs)
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(service, "emit", emit_then_fail)
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("head"))
    assert r.status_code == 500
    async with db.session() as s:
        assert (await s.get(Warning, wid)).state == "submitted"
        kinds = set(
            (await s.execute(select(WarningStep.kind).where(WarningStep.warning_id == wid))).scalars()
        )
        assert "confirmed" not in kinds
        assert (
            await s.execute(select(func.count()).where(Event.kind == "warning.confirmed"))
        ).scalar_one() == 0
        trail = set((await s.execute(select(AuditRecord.action))).scalars())
        assert "warning.confirmed" not in trail and "verification.confirm" not in trail
    monkeypatch.setattr(service, "emit", real_emit)
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("head"))
    assert r.status_code == 200 and r.json()["warning"]["state"] == "confirmed"
