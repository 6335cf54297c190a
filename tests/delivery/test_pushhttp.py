"""The Web Push client (notifications/pushhttp.py): https verified against the host name, kept-alive
connections reused (and a closed one replaced), an answer's status, headers and text, a silent
service timing out, a request never sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifications.pushhttp import PushClient
from tests.delivery.fakes import free_port


def _certificate(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (and 127.0.0.1): its PEM and its key's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class Service:
    """A push service on 127.0.0.1 (https with ``tls``): records each request and the client port
    it came from; answers ``answers`` in turn (then 201); ``close`` hangs up after each answer."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self.tls = tls
        self.requests: list[tuple[str, dict[str, str], bytes, int]] = []
        self.answers: list[tuple[int, dict[str, str], str]] = []
        self.close = False
        app = web.Application()
        app.router.add_post("/push/{name}", self.handle)
        self.runner = web.AppRunner(app, access_log=None, keepalive_timeout=0.2)

    async def handle(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        body = await request.read()
        self.requests.append((request.path_qs, dict(request.headers), body, int(peer[1]) if peer else 0))
        status, headers, text = self.answers.pop(0) if self.answers else (201, {}, "")
        if self.close:
            headers = {**headers, "Connection": "close"}
        return web.Response(status=status, headers=headers, text=text or None)

    async def start(self) -> Service:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, ssl_context=self.tls).start()
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()


@pytest.fixture
async def tls(tmp_path: Path) -> AsyncIterator[tuple[Service, ssl.SSLContext]]:
    cert, key = _certificate(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    service = await Service(server).start()
    trusting = ssl.create_default_context(cafile=str(cert))
    yield service, trusting
    await service.stop()


@pytest.fixture
async def plain() -> AsyncIterator[Service]:
    service = await Service().start()
    yield service
    await service.stop()


def client(**options: object) -> PushClient:
    return PushClient(resolver=aiohttp.DefaultResolver(), limit=8, **options)  # type: ignore[arg-type]


async def test_https_is_verified_against_the_host_name(tls):
    service, trusting = tls
    url = f"https://localhost:{service.port}/push/phone?x=1"
    async with client(ssl_context=trusting) as http:
        answer = await http.post(url, {"ttl": "60", "topic": "abc"}, b"\x00\x01body")
    assert answer.status == 201
    [(path, headers, body, _)] = service.requests
    assert (path, body) == ("/push/phone?x=1", b"\x00\x01body")
    assert headers["Host"] == f"localhost:{service.port}"
    assert (headers["ttl"], headers["topic"], headers["Content-Length"]) == ("60", "abc", "6")

    # the system's trusted certificates do not include this one: nothing is sent
    async with client() as http:
        with pytest.raises(ssl.SSLCertVerificationError):
            await http.post(url, {}, b"x")
    assert len(service.requests) == 1


async def test_a_connection_is_kept_alive_and_a_closed_one_replaced(plain):
    url = f"http://127.0.0.1:{plain.port}/push/p"
    async with client() as http:
        for _ in range(3):
            assert (await http.post(url, {}, b"x")).status == 201
        assert len({port for *_, port in plain.requests}) == 1  # one connection for all three
        plain.close = True  # the service hangs up after answering: the next one connects anew
        for _ in range(2):
            assert (await http.post(url, {}, b"x")).status == 201
        assert len({port for *_, port in plain.requests}) == 2  # the 5th came on a new one
        plain.close = False
        assert (await http.post(url, {}, b"x")).status == 201
        await asyncio.sleep(0.3)  # idle past the service's keep-alive: it hangs up unasked
        assert (await http.post(url, {}, b"x")).status == 201
    assert len({port for *_, port in plain.requests}) == 4
    assert len(plain.requests) == 7  # each request once


async def test_an_answer_brings_its_status_headers_and_text(plain):
    plain.answers = [(429, {"Retry-After": "7"}, "slow down"), (413, {}, "")]
    url = f"http://127.0.0.1:{plain.port}/push/p"
    async with client() as http:
        busy = await http.post(url, {}, b"x")
        large = await http.post(url, {}, b"x")
    assert (busy.status, busy.headers["retry-after"], busy.text()) == (429, "7", "slow down")
    assert large.status == 413


async def test_a_silent_service_times_out_and_nothing_is_sent_again():
    seen: list[bytes] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.read(1024))
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with client(timeout=0.3) as http:
            started = asyncio.get_running_loop().time()
            with pytest.raises(TimeoutError):
                await http.post(f"http://127.0.0.1:{port}/push/p", {}, b"x")
            assert asyncio.get_running_loop().time() - started < 2
    finally:
        server.close()
    assert len(seen) == 1 and seen[0].startswith(b"POST /push/p HTTP/1.1\r\n")


async def test_a_header_with_a_line_break_is_refused(plain):
    async with client() as http:
        with pytest.raises(OSError):
            await http.post(f"http://127.0.0.1:{plain.port}/push/p", {"topic": "a\r\nX-Evil: 1"}, b"x")
    assert plain.requests == []
