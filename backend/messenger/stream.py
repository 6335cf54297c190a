"""DingTalk's Stream mode: presses of interactive cards come back on a connection we open.

No public URL is needed: for each DingTalk app with a card template, a worker process asks
DingTalk's gateway for an endpoint and a one-time ticket (``/v1.0/gateway/connections/open``, with
the app's key and secret), opens that WebSocket and answers its frames:

* ``SYSTEM`` ``ping`` — answered with the same data (DingTalk's liveness check); ``disconnect`` —
  the gateway moves us: the connection is opened again.
* ``CALLBACK`` on ``/v1.0/card/instances/callback`` — a button pressed on a card: ``userId`` (the
  presser), ``outTrackId`` (the card: the delivery's key) and ``content`` whose
  ``cardPrivateData.params.key`` is the button's key (``w:confirm:12``, ``n:read:7``). It goes
  through :func:`backend.messenger.presses.press` — the same services as the PWA and the bot, as the
  presser, channel ``dingtalk`` in the trail — is acknowledged, and the card is then changed to say
  what was done (or why not) and when — in the presser's view of the card only.

Frames come on the connection this process opened with the app's secret, so they are DingTalk's;
the corp id they name must be the app's. A frame DingTalk sends again (same message id, our
acknowledgement lost) is acknowledged again without a second press. The connection is opened again
after any failure, waiting longer each time (up to a minute); the apps are read again every
:data:`REFRESH_SECONDS`, so a new or changed app is taken up without a restart. Several worker
processes may each hold a connection: DingTalk gives each press to one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import quote_plus

import aiohttp

from backend.audit.service import AuditTrail
from backend.kernel.cache import TTLCache
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.messenger.cards import done_params, sso_link
from backend.messenger.client import AppKeys, MessengerError
from backend.messenger.dingtalk import CARD_TOPIC, DingTalkClient
from backend.messenger.presses import press
from backend.messenger.service import MessengerService
from backend.org.service import PersonFacts

log = logging.getLogger("probity.messenger.stream")

REFRESH_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 60.0
#: message ids remembered per connection (a frame sent again is not pressed twice)
SEEN = 2000


class StreamLink:
    """One app's Stream connection, kept open until :meth:`stop`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        trail: AuditTrail,
        app: AppKeys,
        http: aiohttp.ClientSession,
        facts_cache: TTLCache[PersonFacts] | None = None,
    ) -> None:
        self.db, self.settings, self.trail, self.app, self.http = db, settings, trail, app, http
        self.facts_cache = facts_cache
        self.client = DingTalkClient(app, http, timeout=settings.delivery_timeout_seconds)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._send = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        #: how many connections were opened (the README's figures and the tests read it)
        self.connections = 0

    def start(self) -> StreamLink:
        self._runner = asyncio.create_task(self._run(), name=f"dingtalk-stream-{self.app.id}")
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        wait = 1.0
        while True:
            try:
                endpoint, ticket = await self.client.open_stream()
                async with self.http.ws_connect(
                    f"{endpoint}{'&' if '?' in endpoint else '?'}ticket={quote_plus(ticket)}",
                    heartbeat=60.0,
                ) as ws:
                    self.connections += 1
                    wait = 1.0
                    await self._serve(ws)
            except asyncio.CancelledError:
                raise
            except (MessengerError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                # the text never holds the ticket or the secret (MessengerError keeps no URL)
                log.warning("DingTalk stream of app %s: %s", self.app.id, type(exc).__name__)
            except Exception:  # a fault of ours: logged, and the connection is opened again
                log.exception("DingTalk stream of app %s failed", self.app.id)
            await asyncio.sleep(wait)
            wait = min(MAX_BACKOFF_SECONDS, wait * 2)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for raw in ws:
            if raw.type != aiohttp.WSMsgType.TEXT:
                if raw.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                    return
                continue
            try:
                frame = json.loads(raw.data)
            except ValueError:
                continue
            if not isinstance(frame, dict):
                continue
            headers = frame.get("headers") or {}
            kind, topic = frame.get("type"), headers.get("topic")
            if kind == "SYSTEM" and topic == "disconnect":
                return
            if kind == "SYSTEM":
                await self._ack(ws, headers, frame.get("data") or "")
            elif kind == "CALLBACK" and topic == CARD_TOPIC:
                task = asyncio.create_task(self._callback(ws, headers, frame.get("data") or ""))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _ack(self, ws: aiohttp.ClientWebSocketResponse, headers: dict[str, Any], data: str) -> None:
        reply = {
            "code": 200,
            "headers": {"contentType": "application/json", "messageId": headers.get("messageId", "")},
            "message": "OK",
            "data": data,
        }
        async with self._send:
            if not ws.closed:
                await ws.send_str(json.dumps(reply))

    async def _callback(
        self, ws: aiohttp.ClientWebSocketResponse, headers: dict[str, Any], data: str
    ) -> None:
        message_id = str(headers.get("messageId") or "")
        if message_id and message_id in self._seen:
            await self._ack(ws, headers, "{}")
            return
        try:
            body = json.loads(data)
            content = json.loads(body.get("content") or "{}")
            params = (content.get("cardPrivateData") or {}).get("params") or {}
            user_id, track = str(body.get("userId") or ""), str(body.get("outTrackId") or "")
            key = str(params.get("key") or "")
        except (ValueError, AttributeError):
            await self._ack(ws, headers, "{}")
            return
        if body.get("corpId") not in (None, "", self.app.corp_id) or not user_id:
            await self._ack(ws, headers, "{}")
            return
        if message_id:
            self._seen[message_id] = None
            while len(self._seen) > SEEN:
                self._seen.popitem(last=False)
        try:
            async with self.db.session() as session:
                pressed = await press(
                    session,
                    self.trail,
                    self.settings,
                    self.app,
                    user_id,
                    key,
                    language=self.settings.delivery_language,
                    facts_cache=self.facts_cache,
                )
        except Exception:  # not acknowledged: DingTalk sends the press again
            self._seen.pop(message_id, None)
            log.exception("a DingTalk card press could not be handled")
            return
        await self._ack(ws, headers, "{}")
        if not track:
            return
        view_url = sso_link(self.settings.public_url, "dingtalk", self.app.id, pressed.target)
        try:
            await self.client.update_card(
                track, user_id, done_params(title=pressed.title, note=pressed.note, view_url=view_url)
            )
        except MessengerError as exc:
            log.warning("updating a DingTalk card after a press failed: %s", exc)


class Streams:
    """The Stream connections of this process: one per DingTalk app with a card template, kept in
    step with the apps' settings."""

    def __init__(self, db: Database, settings: Settings, trail: AuditTrail, facts_cache: Any = None) -> None:
        self.db, self.settings, self.trail, self.facts_cache = db, settings, trail, facts_cache
        self.links: dict[int, tuple[str, StreamLink]] = {}
        self._http: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None

    async def start(self) -> Streams:
        self._http = aiohttp.ClientSession()
        try:
            await self.refresh()
        except Exception:  # the database not there yet: tried again every REFRESH_SECONDS
            log.exception("reading the DingTalk apps failed")
        self._runner = asyncio.create_task(self._keep(), name="dingtalk-streams")
        return self

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception:  # a database hiccup: the links stay as they are, tried again later
                log.exception("reading the DingTalk apps failed")

    async def refresh(self) -> None:
        assert self._http is not None
        async with self.db.session() as session:
            apps = await MessengerService(session, self.trail, self.settings).stream_apps()
        wanted = {a.id: a for a in apps}
        for app_id in list(self.links):
            fingerprint, link = self.links[app_id]
            app = wanted.get(app_id)
            if app is None or _fingerprint(app) != fingerprint:
                del self.links[app_id]
                await link.stop()
        for app_id, app in wanted.items():
            if app_id not in self.links:
                link = StreamLink(self.db, self.settings, self.trail, app, self._http, self.facts_cache)
                self.links[app_id] = (_fingerprint(app), link.start())

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for _, link in self.links.values():
            await link.stop()
        self.links.clear()
        if self._http is not None:
            await self._http.close()


def _fingerprint(app: AppKeys) -> str:
    return f"{app.cache_key}|{app.app_key}|{app.open_api_base}|{app.card_template_id}"
