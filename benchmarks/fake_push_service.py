"""A local Web Push service for the delivery benchmarks (run as its own process, 127.0.0.1 only).

    .venv/bin/python benchmarks/fake_push_service.py --port 8765 [--flaky]

POST /push/{name}: 201, or with --flaky: endpoints whose name starts with "dead" answer 410, the
rest answer 500 or 429 (Retry-After: 0) on 30 % of posts. A message is identified by its
``Topic`` header (one per dedup key). POST /sms: a JSON SMS gateway (Apprise ``json://``) that
identifies a message by its ``Idempotency-Key`` header and its addressee by the body's ``phone``.
``--delay S``: every answer comes after S seconds (a slow service). GET /stats: posts, distinct
topics delivered, topics delivered more than once, statuses, and arrival times per topic (for
latency). GET /count: the counts alone.

It is a bare HTTP/1.1 server (an asyncio protocol parsing with ``httptools``, on uvloop, kept-alive
connections) rather than a web framework: it shares the machine's cores with the worker processes
being measured, and takes ~4 times less CPU per message than an aiohttp application (measured
~60 against ~250 µs), so the figures say more about the workers and less about the stand-in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from typing import Any

import httptools

BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
REASONS = {200: "OK", 201: "Created", 404: "Not Found", 410: "Gone", 429: "Too Many Requests", 500: "Error"}


class Service:
    """The counts the benchmarks read, and what each request answers."""

    def __init__(self, flaky: bool, seed: int = 5, delay: float = 0.0) -> None:
        self.flaky = flaky
        self.delay = delay
        self.rng = random.Random(seed)  # noqa: S311 - failure injection, not secrets
        self.delivered: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.arrivals: dict[str, float] = {}
        self.posts = 0
        #: addressee → the distinct keys they were sent (more than one: told twice, whatever the keys)
        self.keys_of: dict[str, set[str]] = {}

    def push(self, name: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.posts += 1
        status = 201
        if self.flaky:
            if name.startswith("dead"):
                status = 410
            elif self.rng.random() < 0.3:
                status = self.rng.choice((500, 429))
        self.statuses[status] += 1
        if status == 201:
            topic = headers.get("topic", name)
            self.delivered[topic] += 1
            self.keys_of.setdefault(name, set()).add(topic)
            self.arrivals.setdefault(topic, time.time())
        return status, ({"Retry-After": "0"} if status == 429 else {}), None

    def sms(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        message = json.loads(body or b"{}")
        self.posts += 1
        self.statuses[200] += 1
        key = headers.get("idempotency-key", "")
        self.delivered[key] += 1
        self.arrivals.setdefault(key, time.time())
        self.keys_of.setdefault(str(message.get("phone")), set()).add(key)
        return 200, {}, {"ok": True}

    def counts(self) -> dict[str, int]:
        return {
            "posts": self.posts,
            "distinct": len(self.delivered),
            "duplicates": sum(n - 1 for n in self.delivered.values() if n > 1),
            "people_told_twice": sum(len(keys) > 1 for keys in self.keys_of.values()),
        }

    def reset(self) -> dict[str, bool]:
        self.delivered.clear()
        self.statuses.clear()
        self.arrivals.clear()
        self.keys_of.clear()
        self.posts = 0
        return {"ok": True}

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if method == "POST" and path.startswith("/push/"):
            return self.push(path[len("/push/") :], headers)
        if method == "POST" and path == "/sms":
            return self.sms(headers, body)
        if method == "GET" and path == "/stats":
            statuses = {str(k): v for k, v in self.statuses.items()}
            return 200, {}, {**self.counts(), "statuses": statuses, "arrivals": self.arrivals}
        if method == "GET" and path == "/count":  # the counts alone: cheap to poll during a run
            return 200, {}, self.counts()
        if method == "POST" and path == "/reset":
            return 200, {}, self.reset()
        return 404, {}, None


class Connection(asyncio.Protocol):
    """One client connection: requests parsed as they arrive, answered in order."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.pending: asyncio.Future[None] | None = None  # the previous answer, when delayed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(BAD_REQUEST)
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = {}
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method().decode()
        path = httptools.parse_url(self.url).path.decode()
        request = (method, path, self.headers, b"".join(self.body))
        keep = self.parser.should_keep_alive()
        slow = self.service.delay and method == "POST" and path != "/reset"
        if slow or self.pending is not None:  # later, and still in the order asked
            previous = self.pending
            self.pending = asyncio.ensure_future(self._later(previous, request, keep, slow))
            return
        self._write(*self.service.answer(*request), keep)

    async def _later(
        self, previous: asyncio.Future[None] | None, request: Any, keep: bool, slow: bool
    ) -> None:
        """A slow service: messages are answered after ``delay`` seconds."""
        if slow:
            await asyncio.sleep(self.service.delay)
        if previous is not None:
            await previous
        self._write(*self.service.answer(*request), keep)

    def _write(self, status: int, headers: dict[str, str], payload: Any, keep: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        body = b"" if payload is None else json.dumps(payload).encode()
        head = f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\nContent-Length: {len(body)}\r\n"
        if body:
            head += "Content-Type: application/json\r\n"
        for name, value in headers.items():
            head += f"{name}: {value}\r\n"
        if not keep:
            head += "Connection: close\r\n"
        transport.write(head.encode("latin-1") + b"\r\n" + body)
        if not keep:
            transport.close()


async def serve(port: int, service: Service) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(service), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--flaky", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    service = Service(args.flaky, delay=args.delay)
    try:
        import uvloop
    except ImportError:  # plain asyncio: slower, the same answers
        asyncio.run(serve(args.port, service))
    else:
        uvloop.run(serve(args.port, service))


if __name__ == "__main__":
    main()
