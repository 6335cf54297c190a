"""The messengers over HTTP: WeCom's callback door, single sign-on, and the admin's app settings.

* ``GET/POST /messenger/wecom/{app}/callback`` — URL verification (``echostr``) and encrypted
  events, each signed, fresh (timestamp) and new (nonce); a button press is handled by
  :func:`backend.messenger.presses.press` and the card is updated to say what was done.
* ``GET /messenger/wecom/{app}/sso?to=/warnings/12`` — starts WeCom's OAuth (``snsapi_base``) with a
  ``state`` bound to this browser (a cookie); ``…/sso/back`` takes the code back, finds the person
  and hands the PWA a single-use code (``/#/sso/<code>``), which ``POST /messenger/sso/exchange``
  (same browser) trades for a session. A user id with no person gets a clear page, in Chinese.
"""

from __future__ import annotations

import html
import logging
from typing import Annotated, Any

import aiohttp
from defusedxml import DefusedXmlException, ElementTree
from litestar import Controller, Request, Response, get, post, put
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.controller import json_only
from backend.kernel.access import Principal, Role, requires
from backend.kernel.errors import NotFound, Unauthorized
from backend.kernel.web import outside_work, request_id
from backend.messenger.cards import done_card, sso_link
from backend.messenger.client import AppKeys, MessengerError
from backend.messenger.crypto import CallbackRefused, WeComCrypto, check_fresh
from backend.messenger.models import (
    AppPublic,
    AppUpdate,
    BindingPublic,
    HandoffExchange,
    MatchReport,
    Provider,
)
from backend.messenger.presses import Pressed, press
from backend.messenger.service import MessengerService, client_for, pressed, safe_target
from backend.messenger.texts import t
from backend.messenger.wecom import WeComClient, WeComError

log = logging.getLogger("probity.messenger")
COOKIE = "probity_sso"


async def provide_messenger(db_session: NamedDependency[AsyncSession], state: State) -> MessengerService:
    return MessengerService(db_session, state.trail, state.settings, state.get("facts_cache"))


def _text(body: str, status: int = 200) -> Response[str]:
    return Response(body, status_code=status, media_type="text/plain; charset=utf-8")


def _page(
    language: str,
    message: str,
    status: int,
    *,
    title: str | None = None,
    link: tuple[str, str] | None = None,
    ok: bool = False,
) -> Response[str]:
    """A plain page in the person's language (a sign-in that could not finish, a press's outcome)."""
    title = title or t(language, "sso_title")
    href, label = link or ("/#/login", t(language, "sso_back"))
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/css/app.css"></head>'
        f'<body><main id="main"><h1 class="page-title">{html.escape(title)}</h1>'
        f'<div class="alert {"alert-ok" if ok else "alert-error"}" id="why">{html.escape(message)}</div>'
        f'<p><a class="btn" href="{html.escape(href)}">{html.escape(label)}</a></p>'
        "</main></body></html>"
    )
    return Response(body, status_code=status, media_type="text/html; charset=utf-8")


def _done_page(language: str, done: Pressed, view_url: str) -> Response[str]:
    """What a press did, on the page the card's link opened (DingTalk's cards do not change)."""
    return _page(
        language,
        done.note,
        200 if done.done else 403,
        title=done.title,
        link=(view_url, t(language, "btn_view")),
        ok=done.done,
    )


async def _update_card(
    app: AppKeys, user_id: str, response_code: str, card: dict[str, Any], seconds: float
) -> None:
    """The pressed card now says what was done, or why not (only the presser's card changes)."""
    try:
        async with aiohttp.ClientSession() as http:
            await WeComClient(app, http, timeout=seconds).update_card(user_id, response_code, card)
    except WeComError as exc:
        log.warning("updating a WeCom card after a press failed: %s", exc)


def _refused(exc: CallbackRefused) -> Response[str]:
    log.warning("a WeCom callback was refused: %s", exc.code)
    return _text(exc.code, 403)


def _crypto(app: AppKeys) -> WeComCrypto:
    if not app.token or not app.aes_key or not app.enabled:
        raise CallbackRefused("callback_not_set", "this app takes no callbacks")
    return WeComCrypto(app.token, app.aes_key, app.corp_id)


class WeComCallbackController(Controller):
    """WeCom's callback door (DingTalk's presses come through its sign-in, :class:`SsoController`)."""

    path = "/messenger"
    include_in_schema = False
    dependencies = {"messenger": Provide(provide_messenger)}

    async def _checked(
        self,
        messenger: MessengerService,
        provider: Provider,
        app_id: int,
        query: dict[str, str],
        encrypted: str,
    ) -> tuple[AppKeys, str]:
        if provider != Provider.wecom:  # DingTalk's presses come through its sign-in, not here
            raise NotFound("no such callback", code="not_found")
        app = await messenger.keys(app_id, Provider.wecom)
        crypto = _crypto(app)
        crypto.check_signature(
            query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""), encrypted
        )
        stamp = check_fresh(query.get("timestamp", ""))
        await messenger.accept_nonce(app_id, query.get("nonce", ""), stamp)
        return app, crypto.decrypt(encrypted)

    @get("/{provider:str}/{app_id:int}/callback", summary="WeCom's URL verification")
    async def verify(
        self,
        provider: FromPath[Provider],
        app_id: FromPath[int],
        request: Request[Any, Any, Any],
        messenger: NamedDependency[MessengerService],
    ) -> Response[str]:
        query = dict(request.query_params)
        try:
            _, echo = await self._checked(messenger, provider, app_id, query, query.get("echostr", ""))
        except CallbackRefused as exc:
            return _refused(exc)
        return _text(echo)

    @post("/{provider:str}/{app_id:int}/callback", status_code=200, summary="WeCom's encrypted events")
    async def event(
        self,
        provider: FromPath[Provider],
        app_id: FromPath[int],
        request: Request[Any, Any, Any],
        messenger: NamedDependency[MessengerService],
        state: State,
    ) -> Response[str]:
        query = dict(request.query_params)
        try:
            outer = ElementTree.fromstring(await request.body())
            encrypted = outer.findtext("Encrypt") or ""
            app, plain = await self._checked(messenger, provider, app_id, query, encrypted)
            inner = ElementTree.fromstring(plain)
        except CallbackRefused as exc:
            return _refused(exc)
        except (ElementTree.ParseError, DefusedXmlException):  # entities and DTDs are refused too
            return _refused(CallbackRefused("bad_message", "not XML"))
        if inner.findtext("MsgType") != "event" or inner.findtext("Event") != "template_card_event":
            return _text("")  # other events (enter_agent, a text …) need nothing
        user_id = inner.findtext("FromUserName") or ""
        settings = state.settings
        language = settings.delivery_language
        pressed = await press(
            messenger.session,
            state.trail,
            settings,
            app,
            user_id,
            inner.findtext("EventKey") or "",
            language=language,
            request_id=request_id(request),
            facts_cache=state.get("facts_cache"),
        )
        response_code = inner.findtext("ResponseCode") or ""
        if response_code:
            card = done_card(
                inner.findtext("TaskId") or "",
                title=pressed.title,
                note=pressed.note,
                replace=pressed.replace,
                view_url=sso_link(settings.public_url, "wecom", app.id, pressed.target),
                language=pressed.language,
            )
            # after the answer: WeCom waits 5 s for it, and retries (refused then: a seen nonce)
            return Response(
                "",
                media_type="text/plain; charset=utf-8",
                background=BackgroundTask(
                    _update_card, app, user_id, response_code, card, settings.delivery_timeout_seconds
                ),
            )
        return _text("")


class SsoController(Controller):
    """Sign-in through a messenger: WeCom's OAuth (``code``) or DingTalk's (``authCode``)."""

    path = "/messenger"
    include_in_schema = False
    dependencies = {"messenger": Provide(provide_messenger)}

    @get("/{provider:str}/{app_id:int}/sso", summary="Sign in through the messenger (opens its OAuth page)")
    async def sso(
        self,
        provider: FromPath[Provider],
        app_id: FromPath[int],
        request: Request[Any, Any, Any],
        messenger: NamedDependency[MessengerService],
        state: State,
        to: FromQuery[str] = "/warnings",
    ) -> Response[Any]:
        app = await messenger.keys(app_id, provider)
        started = messenger.sso_start(app_id, to, request.cookies.get(COOKIE))
        back = f"{state.settings.public_url.rstrip('/')}/messenger/{provider.value}/{app_id}/sso/back"
        async with aiohttp.ClientSession() as http:
            where = client_for(app, http).authorize_url(back, started.state)
        secure = state.settings.public_url.startswith("https://")
        cookie = Cookie(
            key=COOKIE,
            value=started.browser,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/messenger",
            max_age=600,
        )
        return Redirect(where, status_code=302, cookies=[cookie])

    @get("/{provider:str}/{app_id:int}/sso/back", summary="The messenger's OAuth comes back here")
    async def sso_back(
        self,
        provider: FromPath[Provider],
        app_id: FromPath[int],
        request: Request[Any, Any, Any],
        messenger: NamedDependency[MessengerService],
        state: State,
        code: FromQuery[str] = "",
        auth_code: Annotated[str, QueryParameter(name="authCode")] = "",
    ) -> Response[Any]:
        settings = state.settings
        language = settings.delivery_language
        browser = request.cookies.get(COOKIE)
        try:
            target = messenger.sso_target(app_id, request.query_params.get("state", ""), browser)
        except Unauthorized:
            return _page(language, t(language, "sso_expired"), 400)
        app = await messenger.keys(app_id, provider)
        try:
            # a slow messenger holds no admission slot nor connection meanwhile (a morning's sign-ins)
            async with outside_work(request, messenger.session), aiohttp.ClientSession() as http:
                client = client_for(app, http, timeout=settings.delivery_timeout_seconds)
                user_id = await client.user_of_code(code or auth_code)
        except MessengerError as exc:
            log.warning("the messenger did not take a sign-in code: %s", exc)
            return _page(language, t(language, "sso_expired" if not exc.retryable else "sso_failed"), 400)
        if user_id is None:
            return _page(language, t(language, "sso_not_member"), 403)
        person_id = await messenger.person_of(app, user_id)
        if person_id is None:
            return _page(language, t(language, "sso_unknown_user", user=user_id), 403)
        language = await messenger.language_of(person_id)
        press_of = pressed(settings, target)
        if press_of is None and target.startswith("/press/"):  # a changed or made-up press link
            return _page(language, t(language, "unknown_button"), 403, title=t(language, "refused"))
        if press_of is not None:  # a DingTalk card's 已读 / 确认: pressed for the person it was sent to
            key, meant_for = press_of
            if meant_for != person_id:
                return _page(language, t(language, "not_yours"), 403)
            done = await press(
                messenger.session,
                state.trail,
                settings,
                app,
                user_id,
                key,
                language=language,
                request_id=request_id(request),
                facts_cache=state.get("facts_cache"),
            )
            return _done_page(
                done.language, done, sso_link(settings.public_url, provider.value, app_id, done.target)
            )
        assert browser is not None
        handoff = await messenger.handoff(person_id, provider, browser, target)
        return Redirect(f"/#/sso/{handoff}", status_code=302)


class SsoExchangeController(Controller):
    path = "/messenger/sso"
    include_in_schema = False
    dependencies = {"messenger": Provide(provide_messenger)}

    @post(
        "/exchange",
        status_code=200,
        guards=[json_only],
        summary="Trade a messenger sign-in's handoff code for a session",
    )
    async def exchange(
        self,
        data: JSONBody[HandoffExchange],
        request: Request[Any, Any, Any],
        messenger: NamedDependency[MessengerService],
    ) -> dict[str, Any]:
        answer, target = await messenger.exchange(  # a session, or the second step still to do
            data.code, request.cookies.get(COOKIE), request_id=request_id(request)
        )
        return {**answer.model_dump(mode="json"), "target": safe_target(target)}


class MessengerController(Controller):
    path = "/api/messenger"
    tags = ["messenger"]
    dependencies = {"messenger": Provide(provide_messenger)}

    @get("/me", guards=[requires()], summary="My company-messenger bindings (WeCom, DingTalk)")
    async def me(
        self, messenger: NamedDependency[MessengerService], request: Request[Principal, Any, Any]
    ) -> list[BindingPublic]:
        return await messenger.bindings(request.user.person_id)

    @get("/apps", guards=[requires(Role.admin)], summary="The messenger apps (secrets shown only as set)")
    async def apps(self, messenger: NamedDependency[MessengerService]) -> list[AppPublic]:
        return await messenger.apps()

    @put(
        "/units/{unit_id:int}/{provider:str}",
        guards=[requires(Role.admin)],
        summary="Set a unit's WeCom or DingTalk app",
    )
    async def put_app(
        self,
        unit_id: FromPath[int],
        provider: FromPath[Provider],
        data: JSONBody[AppUpdate],
        messenger: NamedDependency[MessengerService],
        request: Request[Principal, Any, Any],
    ) -> AppPublic:
        return await messenger.put_app(request.user.actor, unit_id, provider, data)

    @post(
        "/apps/{app_id:int}/match-by-mobile",
        status_code=200,
        guards=[requires(Role.admin)],
        summary="Find people's messenger user ids by their mobile numbers",
    )
    async def match(
        self,
        app_id: FromPath[int],
        messenger: NamedDependency[MessengerService],
        request: Request[Principal, Any, Any],
        state: State,
        overwrite: FromQuery[bool] = False,
    ) -> MatchReport:
        app = await messenger.keys(app_id)
        async with aiohttp.ClientSession() as http:
            return await messenger.match_by_mobile(
                request.user.actor,
                app,
                client_for(app, http, timeout=state.settings.delivery_timeout_seconds),
                overwrite=overwrite,
            )
