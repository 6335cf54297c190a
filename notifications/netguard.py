"""Web Push connects to public addresses only, checked at the moment of connecting.

A subscription's endpoint was checked when it was stored (backend/delivery/endpoints.py), but a
name can resolve elsewhere by the time a push is sent (DNS rebinding), and an endpoint may be an
IP literal, which is connected to without asking any resolver. So two guards, both on the
push client (:mod:`notifications.pushhttp`):

- :class:`PublicResolver` drops non-public answers of every lookup (a name with only private
  answers fails as a DNS error, and a mixed answer connects to its public addresses only);
- :func:`_guarded_socket` (the client's socket factory) is handed the very address the client is
  about to connect to (literal or resolved) and refuses it unless it is public: nothing reaches a
  private address.

``PROBITY_PUSH_ALLOW_PRIVATE`` turns both off (an on-premises push service, a local test fake).
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from backend.delivery.endpoints import is_public, parse_ip
from backend.kernel.settings import Settings
from notifications.pushhttp import PushClient


class NotPublicAddress(OSError):
    """The push service's address is not public: nothing was sent."""


def _public(host: str) -> bool:
    ip = parse_ip(host)
    return ip is not None and is_public(ip)


class PublicResolver(AbstractResolver):
    """aiohttp's default resolver, keeping public answers only."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self.inner = inner or aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        kept = [a for a in answers if _public(a["host"])]
        if not kept:
            raise NotPublicAddress(f"{host} has no public address")
        return kept

    async def close(self) -> None:
        await self.inner.close()


def _guarded_socket(addr_info: Any) -> socket.socket:
    family, kind, proto, _name, address = addr_info
    if not _public(str(address[0])):
        raise NotPublicAddress("the push service's address is not public")
    return socket.socket(family=family, type=kind, proto=proto)


def push_client(settings: Settings, *, limit: int, resolver: AbstractResolver | None = None) -> PushClient:
    """The worker's Web Push client: at most ``limit`` requests at once, each within
    ``delivery_timeout_seconds``, with the guards unless ``settings.push_allow_private``
    (``resolver``: the DNS to ask, aiohttp's default if none)."""
    inner = resolver or aiohttp.DefaultResolver()
    timeout = settings.delivery_timeout_seconds
    if settings.push_allow_private:
        return PushClient(resolver=inner, limit=limit, timeout=timeout)
    return PushClient(
        resolver=PublicResolver(inner), socket_factory=_guarded_socket, limit=limit, timeout=timeout
    )
