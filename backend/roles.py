"""Process roles: what ``probity serve --role ROLE`` starts in its process.

* ``all`` (default): everything in one process: HTTP (API, PWA, Telegram webhook), a delivery
  worker, the scheduler and the bot (workers and scheduler when ``run_workers``: not under
  ``env=test`` unless ``PROBITY_WORKERS_ENABLED``).
* ``api``: HTTP only. No delivery worker, no scheduler, no long polling; with the bot in webhook
  mode the process answers ``POST /telegram/webhook`` (its bot feeds updates, never polls).
* ``worker``: delivery (``notifications.worker``) and the DingTalk Stream connections that bring
  back interactive card presses (``backend.messenger.stream``: one per app with a card template).
* ``scheduler``: the periodic jobs only (``backend.schedule``: each job once per due time, whatever
  the number of processes).
* ``bot``: Telegram long polling only (one such process: conversation state is loaded at start).

Several ``api`` and ``worker`` processes run side by side on PostgreSQL; scheduler processes may
too (the schedule table makes each due job one process's). Every role composes the features'
hooks first (``backend.kernel.hooks.compose``), so a change makes the same follow-ups whichever
process it came through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from litestar.datastructures import State

from backend.kernel.hooks import ROLES, compose
from backend.kernel.jobs import discover_jobs
from backend.kernel.settings import Settings
from backend.messenger.stream import Streams
from backend.schedule.service import Scheduler
from backend.telegram.service import bot_enabled, webhook_mode

log = logging.getLogger("probity.roles")


@dataclass
class Running:
    """The background parts a process started (HTTP itself is uvicorn's); ``stop()`` ends them."""

    role: str
    workers: Any = None
    scheduler: Scheduler | None = None
    bot: Any = None
    streams: Any = None
    extra: list[str] = field(default_factory=list)

    @property
    def parts(self) -> set[str]:
        found = {
            name for name in ("workers", "scheduler", "bot", "streams") if getattr(self, name) is not None
        }
        return found | set(self.extra)

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        if self.streams is not None:
            await self.streams.stop()
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.workers is not None:
            await self.workers.stop()


def refusal(role: str, settings: Settings) -> str | None:
    """Why ``role`` cannot start with ``settings``, or None."""
    if role not in ROLES:
        return f"unknown role {role!r}: one of {', '.join(ROLES)}"
    if role == "bot":
        if not bot_enabled(settings):
            return "the bot role needs PROBITY_TELEGRAM_BOT_TOKEN (and the bot enabled)"
        if webhook_mode(settings):
            return (
                "the bot is in webhook mode: Telegram's updates come to the api processes; "
                "the bot role is for long polling (PROBITY_TELEGRAM_MODE=polling)"
            )
    return None


async def start_parts(role: str, app: Any) -> Running:
    """Start the workers, scheduler and bot ``role`` has (``app.state`` as the app factory makes it)."""
    from bot.runtime import start_bot
    from notifications.worker import start_workers

    state = app.state
    settings: Settings = state.settings
    running = Running(role)
    background = role == "all" and settings.run_workers
    if role == "worker" or background:
        running.workers = await start_workers(app)
        running.streams = await Streams(state.db, settings, state.trail, state.get("facts_cache")).start()
    if role == "scheduler" or background:
        running.scheduler = Scheduler(state.db, settings, discover_jobs()).start()
    polling = role in ("all", "bot") and not webhook_mode(settings)
    answering = role in ("all", "api") and webhook_mode(settings)
    if polling or answering:
        running.bot = await start_bot(app)
    else:
        state.telegram_bot = None
    state.parts = running
    return running


@contextlib.asynccontextmanager
async def role_process(role: str, settings: Settings) -> AsyncIterator[Running]:
    """A process of ``role`` without HTTP (worker, scheduler, bot): composed, its parts started,
    stopped and the database closed on exit."""
    from backend.app import app_state

    reason = refusal(role, settings)
    if reason is not None:
        raise ValueError(reason)
    compose(role)
    holder = SimpleNamespace(state=State(app_state(settings)))
    sealer = holder.state.sealer  # this process's records are sealed even with no HTTP process
    try:
        running = await start_parts(role, holder)
        log.info("probity %s process started: %s", role, ", ".join(sorted(running.parts)) or "nothing")
        sealer.start()
        try:
            yield running
        finally:
            await running.stop()
            await sealer.stop()
    finally:
        await holder.state.db.dispose()


async def serve(role: str, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """:func:`role_process` until ``stop`` is set (SIGTERM or SIGINT when not given)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    async with role_process(role, settings):
        await stop.wait()


def run(role: str, settings: Settings, *, host: str, port: int, processes: int = 1) -> None:
    """What ``probity serve --role ROLE`` runs (the database is checked before). ``all`` and ``api``
    answer HTTP in ``processes`` processes on one listening socket: this one (of ``role``) and
    ``processes - 1`` of role ``api`` (:class:`HttpHelpers`)."""
    from backend.kernel.logs import configure_logging

    reason = refusal(role, settings)
    if reason is not None:
        raise ValueError(reason)
    if role in ("all", "api"):
        import uvicorn

        from backend.app import create_app

        app = create_app(settings, role=role)
        if processes <= 1:
            uvicorn.run(app, host=host, port=port, **_http_options(settings))
            return
        config = uvicorn.Config(app, host=host, port=port, **_http_options(settings))
        sock = config.bind_socket()
        helpers = HttpHelpers(settings, sock, processes - 1).start()
        # uvicorn raises the signal that stopped it again once it is done: caught here, so the
        # helpers are stopped (and waited for) before this process ends
        ours = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except _Stopped:
            pass
        finally:
            helpers.stop()
            for sig, handler in ours.items():
                signal.signal(sig, handler)
        return
    configure_logging(settings.log_level)
    if role == "worker":
        from notifications.worker import run_process

        compose(role)
        run_process(settings)
        return
    asyncio.run(serve(role, settings))


class _Stopped(Exception):
    """SIGINT or SIGTERM, raised again by uvicorn after its shutdown."""


def _stopped(signum: int, _frame: Any) -> None:
    raise _Stopped(signum)


def _http_options(settings: Settings) -> dict[str, Any]:
    return {
        "log_level": settings.log_level.lower(),
        "loop": settings.server_loop,
        # the client address and scheme only from proxies we were told to trust (uvicorn
        # believes 127.0.0.1 by default); PROBITY_TRUSTED_PROXIES is the one list
        "forwarded_allow_ips": settings.trusted_proxies or "",
        # an idle kept-alive connection is closed by the client first (aiohttp after 15 s,
        # proxies after 60 s): a server closing it sooner races a request sent on it just
        # then, and that request fails on the client (seen at 5-10 s think time)
        "timeout_keep_alive": settings.keep_alive_seconds,
    }


class HttpHelpers:
    """The extra HTTP processes of ``probity serve --processes N``: each of role ``api`` (no
    workers, scheduler or polling: those stay in the first process), accepting connections on the
    socket the first process bound, so the kernel shares the connections out among them.

    Each is ``python -c`` of :func:`http_helper_main` (the socket passed as a descriptor, the
    settings on its stdin) in a session of its own: Ctrl-C reaches the first process only, which
    stops the helpers (SIGTERM: each finishes its requests and exits 0). A helper that ends
    otherwise (a crash, a kill) is started again; one that ends cleanly is not. A helper ends by
    itself when the first process is gone."""

    RESTART_PAUSE = 1.0

    def __init__(self, settings: Settings, sock: Any, count: int) -> None:
        self._settings = settings
        self._sock = sock
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def start(self) -> HttpHelpers:
        for slot in range(len(self._procs)):
            self._start(slot)
        self._watch = threading.Thread(target=self._restart_failed, name="http-helpers", daemon=True)
        self._watch.start()
        return self

    def _start(self, slot: int) -> None:
        fd = self._sock.fileno()
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, our module
            [sys.executable, "-c", HELPER_COMMAND, str(fd), str(os.getpid())],
            pass_fds=(fd,),
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(pickle.dumps(self._settings))
        proc.stdin.close()
        self._procs[slot] = proc

    def _restart_failed(self) -> None:
        while not self._stopping.wait(self.RESTART_PAUSE):
            for slot, proc in enumerate(self._procs):
                if proc is None or proc.poll() is None or proc.returncode == 0 or self._stopping.is_set():
                    continue
                log.warning(
                    "HTTP process %s ended (exit code %s): starting another", proc.pid, proc.returncode
                )
                self._start(slot)

    def stop(self, wait_seconds: float = 30.0) -> None:
        self._stopping.set()
        if self._watch is not None:
            self._watch.join()
        running = [proc for proc in self._procs if proc is not None and proc.poll() is None]
        for proc in running:
            proc.terminate()  # SIGTERM: uvicorn finishes the requests under way
        for proc in running:
            try:
                proc.wait(wait_seconds)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


HELPER_COMMAND = "from backend.roles import http_helper_main; http_helper_main()"


def http_helper_main() -> None:
    """A helper HTTP process (started by :class:`HttpHelpers`, role ``api``): argv is the listening
    socket's descriptor and the first process's pid; the pickled settings come on stdin."""
    import socket

    import uvicorn

    from backend.app import create_app

    # SIGTERM (the first process stopping it): its requests finished, it ends cleanly (exit 0)
    signal.signal(signal.SIGTERM, _stopped)
    fd, parent = int(sys.argv[1]), int(sys.argv[2])
    settings: Settings = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - from the first process
    sock = socket.socket(fileno=fd)

    def end_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=end_with_parent, name="parent-watch", daemon=True).start()
    config = uvicorn.Config(create_app(settings, role="api"), **_http_options(settings))
    with contextlib.suppress(_Stopped):
        uvicorn.Server(config).run(sockets=[sock])
