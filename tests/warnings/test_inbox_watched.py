"""PostgreSQL keeps inbox pages while the database has told no change (LISTEN probity_changes):
changes by any writer show, this server's own at once, and nothing is kept while not listening."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from backend.kernel import watch as watch_module
from backend.kernel.timeutil import utcnow
from backend.kernel.watch import ChangeWatch, acting_person
from backend.warnings.inbox import next_midnight
from backend.warnings.inbox_json import _Kept, page_cache
from tests.watching import behind_the_app, listening, watching


@pytest.fixture
async def settings(settings: Any) -> Any:
    return watching(settings)


async def told(watch: ChangeWatch, person_id: int, before: object) -> None:
    """Until the watch has read the notification of a change to the person's warnings."""
    async with asyncio.timeout(10):
        await watch.until(lambda: watch.version("inbox", person_id) != before)


async def inbox(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/api/warnings", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def swap_kept(app: Any, settings: Any, body: bytes) -> None:
    """Replace the one kept page's body (same version): answered again means it was kept."""
    cache = page_cache(app.state.db.engine, settings.inbox_cache_pages)
    assert cache is not None and len(cache) == 1
    key, kept = next(iter(cache._pages.items()))
    cache.put(key, _Kept(kept.version, kept.fresh_until, body, kept.ids, {}))


async def test_a_kept_page_holds_until_another_writer_changes_the_persons_warnings(
    client, sessions, seed, settings, app
):
    await seed.warning("E0005")
    h = await sessions.headers("manager")
    watch = await listening(app)
    first = await inbox(client, h)
    person = first["items"][0]["person_id"]
    swap_kept(app, settings, b'{"kept": true}')
    assert await inbox(client, h) == {"kept": True}
    # another person's change leaves this page kept
    before = watch.version("inbox", person)
    await behind_the_app(
        settings, "UPDATE warning SET hit_count = hit_count + 1 WHERE person_id <> $1", person
    )
    assert await inbox(client, h) == {"kept": True}
    # a change to this person's warnings from another connection: told, then made afresh
    await behind_the_app(
        settings, "UPDATE warning SET hit_count = hit_count + 1 WHERE person_id = $1", person
    )
    await told(watch, person, before)
    again = await inbox(client, h)
    assert again["items"][0]["hit_count"] == first["items"][0]["hit_count"] + 1


async def test_the_servers_own_change_shows_at_once(client, sessions, seed, settings, app, monkeypatch):
    one = await seed.warning("E0005")
    h = await sessions.headers("manager")
    watch = await listening(app)
    # the notifications are read late (a busy server): the page must not wait for them
    late: list[str] = []
    monkeypatch.setattr(watch, "_notified", late.append)
    assert (await inbox(client, h))["items"][0]["state"] != "submitted"
    body = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "正常"}
    assert (await client.post(f"/api/warnings/{one}/verifications", json=body, headers=h)).status_code == 201
    # no waiting for the notification: the write through this server dropped the kept page
    assert {i["id"]: i["state"] for i in (await inbox(client, h))["items"]}[one] == "submitted"
    assert late  # the database did tell, later than the answer


async def test_nothing_is_kept_while_not_listening_and_listening_resumes(
    client, sessions, seed, settings, app, monkeypatch
):
    await seed.warning("E0005")
    h = await sessions.headers("manager")
    watch = await listening(app)
    first = await inbox(client, h)
    epoch = watch.epoch
    # the LISTEN connection is cut and the database refuses new ones for a while
    connect = watch._connect

    async def refused() -> Any:
        raise OSError("connection refused")

    monkeypatch.setattr(watch_module, "RETRY_SECONDS", (0.05,))
    monkeypatch.setattr(watch, "_connect", refused)
    await behind_the_app(settings, "SELECT pg_terminate_backend($1)", watch.server_pid)
    async with asyncio.timeout(10):
        await watch.until(lambda: not watch.listening)
    assert watch.version("inbox", first["items"][0]["person_id"]) is None
    # meanwhile every answer is made afresh (a change then is not missed)
    await behind_the_app(settings, "UPDATE warning SET hit_count = 41")
    assert (await inbox(client, h))["items"][0]["hit_count"] == 41
    swap_kept(app, settings, b'{"kept": true}')  # the page from before the cut
    assert (await inbox(client, h))["items"][0]["hit_count"] == 41
    # listening again under a new epoch: pages from before are not answered, new ones are kept
    monkeypatch.setattr(watch, "_connect", connect)
    await listening(app)
    assert watch.epoch > epoch
    assert (await inbox(client, h))["items"][0]["hit_count"] == 41
    swap_kept(app, settings, b'{"kept": true}')
    assert await inbox(client, h) == {"kept": True}


async def test_a_kept_page_ends_when_an_item_on_it_falls_due(client, sessions, seed, settings, app):
    one = await seed.warning("E0005")
    h = await sessions.headers("manager")
    watch = await listening(app)
    person = (await inbox(client, h))["items"][0]["person_id"]
    before = watch.version("inbox", person)
    due = utcnow() + timedelta(hours=2)
    await behind_the_app(settings, "UPDATE warning SET due_at = $1 WHERE id = $2", due, one)
    await told(watch, person, before)
    page = await inbox(client, h)
    cache = page_cache(app.state.db.engine, settings.inbox_cache_pages)
    assert cache is not None
    kept = cache.get(next(reversed(cache._pages)), watch.version("inbox", person), utcnow())
    ends = min(due, next_midnight(utcnow()))  # days left change at local midnight too
    assert kept is not None and kept.fresh_until == ends
    assert not page["items"][0]["overdue"]
    # the moment the deadline (or midnight) passes, the kept page is not answered any more
    key = next(reversed(cache._pages))
    assert cache.get(key, kept.version, ends - timedelta(seconds=1)) is kept
    assert cache.get(key, kept.version, ends + timedelta(seconds=1)) is None


def mark_kept(app: Any, settings: Any) -> None:
    """Replace every kept page's body by ``{"kept": <person>}`` (same version): a page answered
    that way was kept."""
    cache = page_cache(app.state.db.engine, settings.inbox_cache_pages)
    assert cache is not None
    for key, kept in list(cache._pages.items()):
        cache.put(key, _Kept(kept.version, kept.fresh_until, b'{"kept": %d}' % key[0], kept.ids, {}))


async def test_own_writes_end_the_pages_of_the_people_they_change_only(
    client, sessions, seed, settings, app, monkeypatch
):
    """A reply ends its author's kept pages, a head's decision the person's whose warning it
    moved; the other people's pages stay kept (their changes come with the notifications). A write
    outside a person's request (a worker, a rule run in the process) ends every page."""
    mine = await seed.warning("E0005")
    others = await seed.warning("E0006")
    manager, manager2 = await sessions.headers("manager"), await sessions.headers("manager2")
    watch = await listening(app)
    late: list[str] = []
    monkeypatch.setattr(watch, "_notified", late.append)  # notifications read late: not relied on
    me = (await inbox(client, manager))["items"][0]["person_id"]
    other = (await inbox(client, manager2))["items"][0]["person_id"]
    mark_kept(app, settings)
    assert await inbox(client, manager) == {"kept": me}

    async def reply(wid: int, headers: dict[str, str]) -> None:
        body = {
            "client_id": str(uuid.uuid4()),
            "result": "true",
            "cause": "换表未抄底度",
            "measures": "追补电费",
        }
        answer = await client.post(f"/api/warnings/{wid}/verifications", json=body, headers=headers)
        assert answer.status_code == 201, answer.text

    # another manager's reply: their page is made again, this one stays kept
    await reply(others, manager2)
    assert {i["id"]: i["state"] for i in (await inbox(client, manager2))["items"]}[others] == "submitted"
    assert await inbox(client, manager) == {"kept": me}
    # this manager's reply, then the head's decision on it: both show at once in this inbox
    await reply(mine, manager)
    assert (await inbox(client, manager))["items"][0]["state"] == "submitted"
    mark_kept(app, settings)
    confirm = await client.post(f"/api/warnings/{mine}/confirm", headers=await sessions.headers("head"))
    assert confirm.status_code == 200, confirm.text
    assert (await inbox(client, manager))["items"][0]["state"] == "confirmed"
    assert await inbox(client, manager2) == {"kept": other}
    # a write of the process outside anyone's request ends every kept page

    async def outside_any_request() -> None:
        async with app.state.db.session() as s:
            await s.execute(
                text("UPDATE warning SET hit_count = hit_count + 1 WHERE id = :id"), {"id": others}
            )
            await s.commit()

    client.blocking_portal.call(outside_any_request)  # on the app's loop, as its workers run
    assert (await inbox(client, manager2))["items"][0]["hit_count"] == 2
    # a topic renamed within a person's request (an administrator's): every page is made again
    mark_kept(app, settings)
    assert await inbox(client, manager2) == {"kept": other}

    async def rename_within_a_request() -> None:
        with acting_person(me):
            async with app.state.db.session() as s:
                await s.execute(text("UPDATE topic SET name = name || '（新）'"))
                await s.commit()

    client.blocking_portal.call(rename_within_a_request)
    assert (await inbox(client, manager2))["items"][0]["id"] == others
    assert late
