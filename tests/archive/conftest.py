"""Archive fixtures: a warning's whole life (a chase, a reply returned, a reply with a photo
confirmed, an interview with signatures, a check sheet) and the names of the demo people."""

from __future__ import annotations

import io
import uuid
from typing import Any

from PIL import Image

from tests.interviews.conftest import People, people, record_body, seed
from tests.warnings.conftest import TRAIL, Seeder

__all__ = ["People", "people", "seed"]


def jpeg(colour: tuple[int, int, int]) -> bytes:
    """A photo as a phone sends it (a small JPEG)."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
    return buf.getvalue()


async def name_of(db: Any, employee_no: str) -> str:
    from backend.org.service import OrgService

    async with db.session() as s:
        person = await OrgService(s, TRAIL).person_by_no(employee_no)
        assert person is not None
        return person.name


CAUSE_RETURNED = "现场核查未发现异常"
RETURN_REASON = "请补充现场照片后重新反馈"
CAUSE = "表计更换后七日未抄表，电量漏计"
MEASURES = "已追补电费四千元，建立换表复核台账"
URGE_NOTE = "请于本周内完成核查反馈"
SHEET = {
    "risk_description": "换表后零电量，疑似少计电费",
    "check_result": "核实换表流程缺少复核",
    "possible_risk": "抄表员与客户串通少计电量",
    "control_requirements": "换表后四十八小时内由第二人复核",
    "head_opinion": "同意整改措施，纳入月度考核",
}


async def warning_with_a_life(client: Any, sessions: Any, seeder: Seeder, people: People) -> dict[str, Any]:
    """A red warning of the manager: chased by the head, a first reply returned, a second reply with
    two photos confirmed, an interview with three signatures and a check sheet."""
    manager, head = await sessions.headers("manager"), await sessions.headers("head")
    wid = await seeder.warning("E0005", level="high")
    r = await client.post(f"/api/warnings/{wid}/urge", json={"kind": "urge", "note": URGE_NOTE}, headers=head)
    assert r.status_code == 200, r.text
    first = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": CAUSE_RETURNED}
    r = await client.post(f"/api/warnings/{wid}/verifications", json=first, headers=manager)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/warnings/{wid}/return", json={"reason": RETURN_REASON}, headers=head)
    assert r.status_code == 200, r.text
    photos = []
    for colour in ((200, 30, 30), (30, 30, 200)):
        r = await client.post(
            f"/api/warnings/{wid}/photos",
            files={"file": ("p.jpg", jpeg(colour), "image/jpeg")},
            headers=manager,
        )
        assert r.status_code == 201, r.text
        photos.append(r.json())
    second = {
        "client_id": str(uuid.uuid4()),
        "result": "true",
        "cause": CAUSE,
        "measures": MEASURES,
        "photo_ids": [p["id"] for p in photos],
    }
    r = await client.post(f"/api/warnings/{wid}/verifications", json=second, headers=manager)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/warnings/{wid}/confirm", headers=head)
    assert r.status_code == 200, r.text
    body = await record_body(client, head, people, [wid])
    r = await client.post("/api/interviews", json=body, headers=head)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/check-sheets?warning_id={wid}", json=SHEET, headers=head)
    assert r.status_code in {200, 201}, r.text
    return {"id": wid, "photos": photos, "interview": body}


async def open_case(
    client: Any, inspector: dict[str, str], person_id: int, tier: str, subject: str, problem: str
) -> int:
    """An inspector issues a ladder case (notice, inquiry, recommendation) to a person."""
    body = {"person_id": person_id, "tier": tier, "subject": subject, "problem": problem}
    opened = await client.post("/api/ladder", json=body, headers=inspector)
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])
