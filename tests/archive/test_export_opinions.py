"""The supervision opinions (B.15) list as XLSX, as the list shows it: the screen's state filter, the
caller's scope (a head only what was sent to their station, nothing of another county), in words, in
the trail, rate-limited with the other exports, and made in the background when large."""

from __future__ import annotations

from typing import Any

import pytest

from backend.archive import exporting, lists
from tests.archive.test_exports import export, take
from tests.problems.test_problems import unit_id

PROBLEM = "换表工单与抄表示数无交叉复核，表计装拆后零电量无人核查。"
ADVICE = "建立装拆表后七日电量复核制度，由班组长签字确认。"


async def opinion(client: Any, sessions: Any, unit: str, problem: str, *, send: bool) -> int:
    inspector = "inspector" if unit == "城关供电所" else "inspector2"
    body = {"unit_id": await unit_id(client, sessions, unit), "problem": problem, "advice": ADVICE}
    headers = await sessions.headers(inspector)
    r = await client.post("/api/opinions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    if send:
        committee = await sessions.headers("committee")
        for user, name, text in (
            (headers, "submit", {"text": "情况属实，建议下发"}),
            (committee, "approve", {"text": "同意下发，限一个月内整改"}),
            (headers, "send", {}),
        ):
            r = await client.post(f"/api/opinions/{oid}/{name}", json=text, headers=user)
            assert r.status_code == 200, r.text
    return int(oid)


async def test_the_opinions_list_exports_in_words_within_scope(client: Any, sessions: Any) -> None:
    await opinion(client, sessions, "城关供电所", PROBLEM, send=True)
    await opinion(client, sessions, "城关供电所", "草稿：领料单无审批", send=False)
    await opinion(client, sessions, "河口供电所", "另一县的问题", send=True)

    inspector = await sessions.headers("inspector")
    job = await export(client, inspector, "opinions")
    assert job["state"] == "done" and job["title"] == "协同监督意见书"
    got = await take(client, inspector, job)
    assert got[0][:5] == ("编号", "单位", "状态", "发现问题", "整改意见")
    lines = [dict(zip(got[0], r, strict=True)) for r in got[1:]]
    assert sorted(line["发现问题"] for line in lines) == sorted([PROBLEM, "草稿：领料单无审批"])
    sent = next(line for line in lines if line["发现问题"] == PROBLEM)
    assert sent["状态"] == "已下发待反馈" and sent["单位"] == "城关供电所"
    assert sent["监督工作委员会意见"] == "同意下发，限一个月内整改" and "年" in sent["下发时间"]
    assert "另一县的问题" not in {c for r in got for c in r}

    # the screen's filter, and a head sees only what was sent to the station
    drafts = await take(client, inspector, await export(client, inspector, "opinions", state="drafted"))
    assert [r[3] for r in drafts[1:]] == ["草稿：领料单无审批"]
    head = await sessions.headers("head")
    mine = await take(client, head, await export(client, head, "opinions"))
    assert [r[3] for r in mine[1:]] == [PROBLEM]
    everyone = await take(
        client,
        await sessions.headers("committee"),
        await export(client, await sessions.headers("committee"), "opinions"),
    )
    assert len(everyone) == 4

    # in the trail; an employee without the list is refused; a bad filter is named
    trail = await client.get(
        f"/api/audit?object_type=export_job&object_id={job['id']}",
        headers=await sessions.headers("committee"),
    )
    assert {"what": "list.opinions", "format": "xlsx"} in [i["new_value"] for i in trail.json()["items"]]
    r = await client.post(
        "/api/exports", json={"list": "opinions", "filters": {}}, headers=await sessions.headers("manager")
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/exports", json={"list": "opinions", "filters": {"state": "lost"}}, headers=head
    )
    assert r.status_code == 400 and r.json()["field"] == "state"


async def test_a_large_opinions_export_is_made_in_the_background_and_rate_limited(
    client: Any, sessions: Any, db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await opinion(client, sessions, "城关供电所", f"问题 {n + 1}", send=False)
    monkeypatch.setattr(exporting, "INLINE_ROWS", 2)
    monkeypatch.setattr(lists, "PAGE", 1)
    inspector = await sessions.headers("inspector")
    job = await export(client, inspector, "opinions")
    assert (job["state"], job["total"], job["download_url"]) == ("queued", 3, None)
    assert (await exporting.run_exports(db, settings)).startswith("exports made: 1")
    done = (await client.get(f"/api/exports/{job['id']}", headers=inspector)).json()
    assert (done["state"], done["done"], done["percent"]) == ("done", 3, 100)
    assert sorted(r[3] for r in (await take(client, inspector, done))[1:]) == ["问题 1", "问题 2", "问题 3"]
    for _ in range(9):
        await export(client, inspector, "opinions")
    r = await client.post("/api/exports", json={"list": "opinions", "filters": {}}, headers=inspector)
    assert r.status_code == 429 and r.json()["code"] == "too_many_exports"
