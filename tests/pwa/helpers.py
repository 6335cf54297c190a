"""Seeds and checks for the browser tests: warnings as a rule run raises them, stored replies read back."""

from __future__ import annotations

import struct
import time
import zlib
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from backend.kernel.timeutil import utcnow
from backend.warnings.models import Verification, Warning, WarningPhoto
from tests.pwa.conftest import LiveServer, sign_in
from tests.warnings.conftest import Seeder


def wait_until(page: Any, condition: str, *, timeout: float = 15.0) -> None:
    """Poll an async page function until it resolves truthy. Playwright's wait_for_function takes a
    returned promise itself as truthy (it does not await it), so it cannot wait on IndexedDB."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {condition}")
        page.wait_for_timeout(100)


def seed_warnings(live: LiveServer, employee_no: str = "E0005") -> dict[str, int]:
    """One fresh red, orange and yellow warning (the yellow one due in 2027: provisional), one overdue."""

    async def go(db: Any) -> dict[str, int]:
        seed = Seeder(db)
        return {
            "overdue": await seed.warning(
                employee_no, level="medium", topic_code="T02", raised_at=utcnow() - timedelta(days=70)
            ),
            "low": await seed.warning(employee_no, level="low", topic_code="T03"),
            "medium": await seed.warning(employee_no, level="medium", topic_code="T02"),
            "high": await seed.warning(employee_no, level="high", topic_code="T01"),
        }

    return dict(live.run(go))


def _of_warning(live: LiveServer, model: Any, warning_id: int) -> list[Any]:
    async def go(db: Any) -> list[Any]:
        async with db.session() as s:
            rows = await s.execute(select(model).where(col(model.warning_id) == warning_id))
            return list(rows.scalars())

    return list(live.run(go))


def replies(live: LiveServer, warning_id: int) -> list[Verification]:
    return _of_warning(live, Verification, warning_id)


def photos(live: LiveServer, warning_id: int) -> list[WarningPhoto]:
    return _of_warning(live, WarningPhoto, warning_id)


def warning_state(live: LiveServer, warning_id: int) -> str:
    async def go(db: Any) -> str:
        async with db.session() as s:
            w = await s.get(Warning, warning_id)
            assert w is not None
            return str(w.state)

    return str(live.run(go))


def png(width: int, height: int) -> bytes:
    """A camera-sized RGB PNG (a gradient), written by hand: no imaging library needed."""
    rows = bytearray()
    for y in range(height):
        shade = (y * 255) // max(1, height - 1)
        rows += b"\x00" + bytes((shade, 90, 255 - shade)) * width
    raw = zlib.compress(bytes(rows), 6)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def jpeg_size(content: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    assert content[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(content):
        marker = content[i + 1]
        length = struct.unpack(">H", content[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", content[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no start-of-frame marker")


def true_warning(live: LiveServer, level: str = "high", employee_no: str = "E0005") -> int:
    """A warning of the manager (E0005) replied "true" from the API and confirmed by the head."""

    async def go(db: Any) -> int:
        return int(await Seeder(db).warning(employee_no, level=level, topic_code="T01"))

    wid = int(live.run(go))
    reply = {
        "client_id": f"true-{level}-{wid:08d}",
        "result": "true",
        "cause": "换表未抄读数",
        "measures": "已追补电费",
    }
    r = live.api("POST", f"/api/warnings/{wid}/verifications", "manager", json=reply)
    assert r.status_code == 201, r.text
    r = live.api("POST", f"/api/warnings/{wid}/confirm", "head", json={})
    assert r.status_code == 200, r.text
    return wid


def person_id(live: LiveServer, username: str) -> int:
    return int(live.api("GET", "/api/auth/me", username).json()["person_id"])


def signed_in(phone: Any, username: str) -> tuple[Any, Any, list[str]]:
    """A new phone (browser context) signed in as ``username``: (context, page, page errors seen)."""
    ctx = phone()
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, username)
    return ctx, page, problems


def offline_topic(live: LiveServer, code: str, name: str = "竣工验收（线下）") -> int:
    """A proposed offline topic made by the admin; returns its id."""
    body = {"code": code, "name": name, "specialty": "engineering", "offline": True}
    made = live.api("POST", "/api/topics", "admin", json=body)
    assert made.status_code in (200, 201), made.text
    return int(made.json()["id"])
