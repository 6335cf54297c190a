"""Where the server may connect on a person's say-so: a push endpoint is an https URL of a push
service on public addresses only.

A subscription names a URL the worker will POST to; without this, anyone could make the server
call its own loopback, the private network or a cloud metadata service and read the answer back.
Checked when a device subscribes (every address the name resolves to must be public); the worker
connects only to addresses that pass :func:`is_public` again at send time (notifications/netguard.py),
so a name that resolves elsewhere later (DNS rebinding) gains nothing.
``PROBITY_PUSH_ALLOW_PRIVATE`` lets an on-premises push service (or a test fake) on a private address
through, over plain http too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from backend.kernel.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """A globally routable unicast address: not loopback, private, link-local, multicast, reserved,
    unspecified or shared (100.64/10); an IPv6 address that embeds an IPv4 one is judged by it."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return is_public(ip.ipv4_mapped)
        inner = _embedded_v4(ip)
        if inner is not None and not is_public(inner):
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone id is not part of it
    except ValueError:
        return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = [parse_ip(str(info[4][0])) for info in infos]
    return [ip for ip in found if ip is not None]


def _refuse(detail: str) -> Invalid:
    return Invalid(detail, code="invalid_subscription", extra={"field": "endpoint"})


async def check_push_endpoint(url: str, *, allow_private: bool) -> None:
    """Refuse (400 ``invalid_subscription``) a push endpoint the server must not connect to."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise _refuse("a push endpoint is an https:// URL of a push service") from exc
    host = parts.hostname
    if not host or parts.username is not None or parts.password is not None:
        raise _refuse("a push endpoint is an https:// URL of a push service")
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_private):
        raise _refuse("a push endpoint is an https:// URL of a push service")
    try:
        addresses = await resolve_host(host, port)
    except (OSError, UnicodeError) as exc:
        raise _refuse("the push service's address could not be found") from exc
    if not addresses:
        raise _refuse("the push service's address could not be found")
    if not allow_private and not all(is_public(ip) for ip in addresses):
        raise _refuse("a push endpoint must be a push service on the public internet")
