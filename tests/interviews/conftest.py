"""Interview fixtures: a true red warning of the manager, confirmed, and PNG signatures."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Any

import pytest
from PIL import Image, ImageDraw

from backend.kernel.timeutil import SHANGHAI
from tests.warnings.conftest import Seeder


def png(mark: int = 0) -> bytes:
    """A signature as a phone canvas exports it: a PNG with a stroke."""
    image = Image.new("RGBA", (300, 120), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 90), (80 + mark, 20), (160, 100), (290, 30)], fill="black", width=4)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


async def true_warning(client: Any, sessions: Any, seeder: Seeder, level: str = "high", **kw: Any) -> int:
    wid = await seeder.warning("E0005", level=level, **kw)
    body = {
        "client_id": str(uuid.uuid4()),
        "result": "true",
        "cause": "meter swapped without a reading",
        "measures": "billing recovered",
    }
    r = await client.post(
        f"/api/warnings/{wid}/verifications", json=body, headers=await sessions.headers("manager")
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=await sessions.headers("head"))
    assert r.status_code == 200, r.text
    return wid


async def sign(client: Any, headers: dict[str, str], mark: int) -> int:
    r = await client.post(
        "/api/interviews/signatures", files={"file": ("sig.png", png(mark), "image/png")}, headers=headers
    )
    assert r.status_code in {200, 201}, r.text
    return int(r.json()["id"])


class People:
    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


@pytest.fixture
def seed(db: Any) -> Seeder:
    return Seeder(db)


@pytest.fixture
async def people(seed: Seeder) -> People:
    numbers = {
        "inspector": "E0003",
        "head": "E0004",
        "manager": "E0005",
        "manager2": "E0006",
        "head2": "E0008",
    }
    return People({name: (await seed.person(no))[0] for name, no in numbers.items()})


async def record_body(
    client: Any, headers: dict[str, str], people: People, links: list[int], **over: Any
) -> dict[str, Any]:
    """A complete record: head and inspector interview the manager; all three sign."""
    signers = [
        ("interviewer", people["head"]),
        ("interviewer", people["inspector"]),
        ("interviewee", people["manager"]),
    ]
    signatures = [
        {"signature_id": await sign(client, headers, k), "signer": s, "person_id": p}
        for k, (s, p) in enumerate(signers)
    ]
    body = {
        "client_id": str(uuid.uuid4()),
        "person_id": people["manager"],
        "warning_ids": links,
        "interviewer_ids": [people["head"], people["inspector"]],
        "held_at": datetime.now(SHANGHAI).replace(microsecond=0).isoformat(),
        "place": "城关供电所会议室",
        "q_true": "预警属实，表计更换后未抄表",
        "q_cause": "换表流程缺少复核，风险点在抄表环节",
        "q_integrity": "八小时内外未发现其他问题",
        "c_collaboration": "营销部与供电所协同监督已落地",
        "c_control": "供电所建立换表复核台账",
        "c_education": "本年度参加廉洁教育12学时",
        "suggestion": "换表后48小时内由第二人复核读数",
        "follow_up": "已追补电费，下月起执行复核制度",
        "signatures": signatures,
    }
    body.update(over)
    return body
