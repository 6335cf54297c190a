"""Exports of lists: the screen's filters, the caller's scope, in the trail, rate-limited, large
ones in the background with progress, and the file only for whoever asked for it."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook

from backend.archive import exporting, lists
from backend.archive.models import ExportJob
from tests.archive.conftest import CAUSE, MEASURES, name_of, open_case


def rows(content: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]


async def export(client: Any, headers: dict[str, str], name: str, **filters: Any) -> dict[str, Any]:
    r = await client.post("/api/exports", json={"list": name, "filters": filters}, headers=headers)
    assert r.status_code in {201, 202}, r.text
    return dict(r.json())


async def take(client: Any, headers: dict[str, str], job: dict[str, Any]) -> list[tuple[Any, ...]]:
    r = await client.get(job["download_url"], headers=headers)
    assert r.status_code == 200, r.text
    assert "spreadsheetml" in r.headers["content-type"]
    return rows(r.content)


async def test_a_heads_export_holds_only_the_people_of_their_station(
    client: Any, sessions: Any, seed: Any, db: Any
) -> None:
    await seed.warning("E0005", level="high")
    await seed.warning("E0005", level="low")
    await seed.warning("E0006", level="high")
    mine, other = await name_of(db, "E0005"), await name_of(db, "E0006")
    head = await sessions.headers("head")
    job = await export(client, head, "warnings", view="unit")
    assert job["state"] == "done" and job["title"] == "预警列表" and job["file_name"].endswith(".xlsx")
    got = await take(client, head, job)
    assert got[0][:3] == ("预警主题", "风险等级", "状态")
    people = [r[3] for r in got[1:]]
    assert people == [mine, mine] and other not in {c for r in got for c in r}
    high = await take(client, head, await export(client, head, "warnings", view="unit", level="high"))
    assert [r[1] for r in high[1:]] == ["高风险（红色）"], "the screen's filters apply"
    everyone = await take(
        client,
        await sessions.headers("committee"),
        await export(client, await sessions.headers("committee"), "warnings", view="scope"),
    )
    assert {r[3] for r in everyone[1:]} == {mine, other}


async def test_replies_export_lists_each_reply_of_the_heads_queue(
    client: Any, sessions: Any, seed: Any, db: Any
) -> None:
    head, manager = await sessions.headers("head"), await sessions.headers("manager")
    wid = await seed.warning("E0005", level="high")
    body = {"client_id": str(uuid.uuid4()), "result": "true", "cause": CAUSE, "measures": MEASURES}
    assert (
        await client.post(f"/api/warnings/{wid}/verifications", json=body, headers=manager)
    ).status_code == 201
    other = await seed.warning("E0006", level="high")
    body2 = {"client_id": str(uuid.uuid4()), "result": "not_true", "cause": "另一所的反馈"}
    r = await client.post(
        f"/api/warnings/{other}/verifications", json=body2, headers=await sessions.headers("manager2")
    )
    assert r.status_code == 201
    got = await take(client, head, await export(client, head, "replies", view="unit", state="submitted"))
    assert len(got) == 2
    line = dict(zip(got[0], got[1], strict=True))
    assert line["原因分析"] == CAUSE and line["整改措施"] == MEASURES and line["核查结论"] == "属实"
    assert line["处理结果"] == "待确认" and line["责任人"] == await name_of(db, "E0005")


async def test_an_export_is_in_the_trail(client: Any, sessions: Any, seed: Any) -> None:
    await seed.warning("E0005")
    job = await export(client, await sessions.headers("head"), "warnings", view="unit")
    trail = await client.get(
        f"/api/audit?object_type=export_job&object_id={job['id']}",
        headers=await sessions.headers("committee"),
    )
    (record,) = trail.json()["items"]
    assert record["action"] == "report.export" and record["actor_label"] == "head"
    assert record["new_value"] == {"what": "list.warnings", "format": "xlsx"}
    await take(client, await sessions.headers("head"), job)
    trail = await client.get(
        f"/api/audit?object_type=export_job&object_id={job['id']}",
        headers=await sessions.headers("committee"),
    )
    assert [i["action"] for i in trail.json()["items"]] == ["export.download", "report.export"]


async def test_past_the_minutes_share_an_export_is_refused_with_a_clear_error(
    client: Any, sessions: Any
) -> None:
    manager = await sessions.headers("manager")
    for _ in range(10):
        await export(client, manager, "warnings", view="mine")
    r = await client.post("/api/exports", json={"list": "ladder", "filters": {}}, headers=manager)
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_exports" and "10 exports a minute" in r.json()["detail"]
    assert r.headers["retry-after"] == "60"
    mine = await client.get("/api/exports", headers=manager)
    assert len(mine.json()) == 10, "the refused export left nothing behind"
    other = await client.post(
        "/api/exports", json={"list": "ladder", "filters": {}}, headers=await sessions.headers("manager2")
    )
    assert other.status_code == 201, "the share is per account"


async def test_nobody_else_takes_or_sees_my_export(client: Any, sessions: Any, seed: Any) -> None:
    await seed.warning("E0005")
    head = await sessions.headers("head")
    job = await export(client, head, "warnings", view="unit")
    for who in ("manager2", "committee", "inspector", "manager"):
        headers = await sessions.headers(who)
        assert (await client.get(f"/api/exports/{job['id']}/file", headers=headers)).status_code == 404, who
        assert (await client.get(f"/api/exports/{job['id']}", headers=headers)).status_code == 404, who
        assert job["id"] not in [j["id"] for j in (await client.get("/api/exports", headers=headers)).json()]
    assert (await client.get(f"/api/exports/{job['id']}/file", headers=head)).status_code == 200


async def test_lists_beyond_the_roles_or_with_bad_filters_are_refused(client: Any, sessions: Any) -> None:
    head = await sessions.headers("head")
    r = await client.post("/api/exports", json={"list": "trail", "filters": {}}, headers=head)
    assert r.status_code == 403
    r = await client.post(
        "/api/exports", json={"list": "warnings", "filters": {"level": "purple"}}, headers=head
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_filter"
    r = await client.post("/api/exports", json={"list": "secrets", "filters": {}}, headers=head)
    assert r.status_code == 404 and r.json()["code"] == "list_not_found"


async def test_each_case_list_exports_in_words(client: Any, sessions: Any, people: Any) -> None:
    inspector = await sessions.headers("inspector")
    await open_case(client, inspector, people["manager"], "inquiry", "报销单据不全", "多张发票缺少审批")
    ladder = await take(client, inspector, await export(client, inspector, "ladder", state="open"))
    assert ladder[1][:2] == ("报销单据不全", "质询") and ladder[1][4] == "待答复"
    trail = await take(client, inspector, await export(client, inspector, "trail", object_type="ladder_case"))
    assert trail[0] == ("时间", "操作", "对象", "操作人", "岗位", "渠道")
    assert ("下达廉情预警", "廉情预警") in [r[1:3] for r in trail[1:]]
    for name in ("interviews", "linked"):
        job = await export(client, inspector, name)
        assert job["state"] == "done" and len(await take(client, inspector, job)) >= 1


async def test_a_large_export_runs_in_the_background_with_progress(
    client: Any, sessions: Any, seed: Any, db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for level in ("high", "medium", "low"):
        await seed.warning("E0005", level=level)
    monkeypatch.setattr(exporting, "INLINE_ROWS", 2)
    monkeypatch.setattr(lists, "PAGE", 1)
    head = await sessions.headers("head")
    r = await client.post(
        "/api/exports", json={"list": "warnings", "filters": {"view": "unit"}}, headers=head
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert (job["state"], job["total"], job["percent"], job["download_url"]) == ("queued", 3, 0, None)
    early = await client.get(f"/api/exports/{job['id']}/file", headers=head)
    assert early.status_code == 409 and early.json()["code"] == "export_not_ready"

    seen: list[tuple[str, int]] = []
    real = exporting._progress

    async def watched(database: Any, export_id: int, done: int) -> None:
        await real(database, export_id, done)
        async with db.session() as s:
            row = await s.get(ExportJob, export_id)
            assert row is not None
            seen.append((row.state, row.done_rows))

    monkeypatch.setattr(exporting, "_progress", watched)
    line = await exporting.run_exports(db, settings)
    assert line.startswith("exports made: 1")
    assert seen == [("running", 1), ("running", 2), ("running", 3)]
    done = (await client.get(f"/api/exports/{job['id']}", headers=head)).json()
    assert (done["state"], done["done"], done["percent"]) == ("done", 3, 100)
    got = await take(client, head, done)
    assert sorted(r[1] for r in got[1:]) == sorted(["高风险（红色）", "中风险（橙色）", "低风险（黄色）"])
    assert await exporting.run_exports(db, settings) == "exports made: 0, failed: 0, removed: 0"


async def test_case_files_share_the_minutes_exports(client: Any, sessions: Any, seed: Any) -> None:
    wid = await seed.warning("E0005")
    inspector = await sessions.headers("inspector")
    for _ in range(10):
        await export(client, inspector, "ladder")
    r = await client.get(f"/api/archive/warning/{wid}/zip", headers=inspector)
    assert r.status_code == 429 and r.json()["code"] == "too_many_exports"
    trail = await client.get(f"/api/audit?object_type=warning&object_id={wid}", headers=inspector)
    assert "report.export" not in [i["action"] for i in trail.json()["items"]], (
        "a refused file leaves no record"
    )


async def test_two_runners_never_make_the_same_export(client: Any, sessions: Any, db: Any) -> None:
    """Both saw the export waiting; the conditional update gives it to the first only. A runner that
    died leaves a lease; once it lapses the export is taken again."""
    from datetime import timedelta

    from backend.kernel.timeutil import utcnow

    async with db.session() as s:
        job = ExportJob(account_id=1, person_id=1, list_name="ladder")
        s.add(job)
        await s.commit()
        export_id = job.id
    assert export_id is not None
    now = utcnow()
    async with db.session() as first, db.session() as second:
        assert await exporting.take(first, export_id, now) is True
        await first.commit()
        assert await exporting.take(second, export_id, now) is False
        await second.commit()
    assert await exporting.claim(db) is None, "running under a live lease: nobody takes it"
    async with db.session() as s:
        assert await exporting.take(s, export_id, now + exporting.LEASE + timedelta(seconds=1)) is True
