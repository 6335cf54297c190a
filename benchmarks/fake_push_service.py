"""A local Web Push service for the delivery benchmarks (run as its own process, 127.0.0.1 only).

    .venv/bin/python benchmarks/fake_push_service.py --port 8765 [--flaky]

POST /push/{name}: 201, or with --flaky: endpoints whose name starts with "dead" answer 410, the
rest answer 500 or 429 (Retry-After: 0) on 30 % of posts. A message is identified by its
``Topic`` header (one per dedup key). POST /sms: a JSON SMS gateway (Apprise ``json://``) that
identifies a message by its ``Idempotency-Key`` header and its addressee by the body's ``phone``.
``--delay S``: every answer comes after S seconds (a slow service). GET /stats: posts, distinct
topics delivered, topics delivered more than once, statuses, and arrival times per topic (for
latency). GET /count: the counts alone.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter

from aiohttp import web


def build(flaky: bool, seed: int = 5, delay: float = 0.0) -> web.Application:
    rng = random.Random(seed)  # noqa: S311 - failure injection, not secrets
    delivered: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    arrivals: dict[str, float] = {}
    posts = [0]
    #: addressee → the distinct keys they were sent (more than one: told twice, whatever the keys)
    keys_of: dict[str, set[str]] = {}

    async def push(request: web.Request) -> web.Response:
        await request.read()
        if delay:
            await asyncio.sleep(delay)
        posts[0] += 1
        name = request.match_info["name"]
        status = 201
        if flaky:
            if name.startswith("dead"):
                status = 410
            elif rng.random() < 0.3:
                status = rng.choice((500, 429))
        statuses[status] += 1
        if status == 201:
            topic = request.headers.get("Topic", name)
            delivered[topic] += 1
            keys_of.setdefault(name, set()).add(topic)
            arrivals.setdefault(topic, time.time())
        headers = {"Retry-After": "0"} if status == 429 else {}
        return web.Response(status=status, headers=headers)

    async def sms(request: web.Request) -> web.Response:
        body = await request.json()
        if delay:
            await asyncio.sleep(delay)
        posts[0] += 1
        statuses[200] += 1
        key = request.headers.get("Idempotency-Key", "")
        delivered[key] += 1
        arrivals.setdefault(key, time.time())
        keys_of.setdefault(str(body.get("phone")), set()).add(key)
        return web.json_response({"ok": True})

    def counts() -> dict[str, int]:
        return {
            "posts": posts[0],
            "distinct": len(delivered),
            "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
            "people_told_twice": sum(len(keys) > 1 for keys in keys_of.values()),
        }

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(
            {**counts(), "statuses": {str(k): v for k, v in statuses.items()}, "arrivals": arrivals}
        )

    async def count(_request: web.Request) -> web.Response:
        """The counts alone: cheap to poll while a benchmark runs."""
        return web.json_response(counts())

    async def reset(_request: web.Request) -> web.Response:
        delivered.clear()
        statuses.clear()
        arrivals.clear()
        keys_of.clear()
        posts[0] = 0
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=1 << 20)
    app.router.add_post("/push/{name}", push)
    app.router.add_post("/sms", sms)
    app.router.add_get("/stats", stats)
    app.router.add_get("/count", count)
    app.router.add_post("/reset", reset)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--flaky", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(
        build(args.flaky, delay=args.delay), host="127.0.0.1", port=args.port, print=None, access_log=None
    )


if __name__ == "__main__":
    main()
