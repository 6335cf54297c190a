"""A realistic linked warning: three true findings of one topic on a customer manager, confirmed by
the head of 城关供电所; helpers to read a form's PDF as text."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from tests.warnings.conftest import Seeder
from tests.warnings.test_linked import linked, true_finding


def pdf_text(content: bytes) -> str:
    """The PDF's text with white space removed (table cells wrap)."""
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", "", text)


def has(text: str, *phrases: str) -> None:
    for phrase in phrases:
        assert re.sub(r"\s+", "", phrase) in text, f"{phrase!r} not in the PDF"


async def call(
    client: Any, sessions: Any, method: str, url: str, user: str, status: int = 200, **kw: Any
) -> Any:
    r = await client.request(method, url, headers=await sessions.headers(user), **kw)
    assert r.status_code == status, r.text
    return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.content


async def sign(client, sessions, form, position, user, opinion, approve=True, status=200):
    return await call(
        client,
        sessions,
        "POST",
        f"/api/forms/{form['id']}/steps/{position}",
        user,
        status,
        json={"approve": approve, "opinion": opinion},
    )


@pytest.fixture
async def letter(client, sessions, db) -> dict[str, Any]:
    """A letter (repeat: topic T05 true three times) to 城关供电所."""
    body = {
        "code": "T05",
        "name": "表计装拆后电量为零",
        "specialty": "marketing",
        "rule_text": "换表前3日有电量、换表后7日电量为零",
    }
    topic = await call(client, sessions, "POST", "/api/topics", "admin", 201, json=body)
    seed = Seeder(db)
    ids = [
        await seed.warning("E0005", level="medium", topic_code="T05", topic_id=topic["id"]) for _ in range(3)
    ]
    for wid in ids:
        await true_finding(client, sessions, wid)
    (row,) = await linked(client, sessions)
    return row
