"""One case, one file for problem clues and problems: the whole file as a PDF (in Chinese, every step
of the timeline, no identifiers) and a ZIP whose manifest matches the warning's photos and the public
report's attachments as stored; scoped as their lists are (clues: inspectors and the committee;
problems: a head of another unit is refused), listed in the archive by source, unit, person, year."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from backend.intake.service import IntakeService
from backend.warnings.photos import PhotoStore
from tests.archive.conftest import CAUSE, name_of, warning_with_a_life
from tests.archive.test_case_file import ISO_DAY, flat, pdf_text, unzip
from tests.intake.test_intake import BODY, send
from tests.pwa.helpers import png
from tests.warnings.conftest import TRAIL

SUMMARY = "该客户经理换表后七日电量为零，核实属实，疑似收受好处少计电量。"
PROPOSAL = "移交纪委立案核查"
INSTRUCTION = "同意，抓紧核查"
OUTCOME = "已立案审查，给予党内警告处分"
#: words of the machinery that must never reach a reader
KEYS = ("handed_over", "registered", "triaged", "concluded", "clue.", "problem.", "None", "XS-None")


def manifest(files: dict[str, bytes]) -> dict[str, str]:
    sums = dict(reversed(line.split("  ", 1)) for line in files.pop("SHA256SUMS.txt").decode().splitlines())
    assert set(sums) == set(files), "the manifest names every file of the ZIP, and only those"
    for name, content in files.items():
        assert hashlib.sha256(content).hexdigest() == sums[name], name
    return sums


async def post(client: Any, headers: dict[str, str], path: str, body: Any | None = None) -> Any:
    r = await client.post(path, json=body if body is not None else {}, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def person_id(client: Any, sessions: Any, user: str) -> int:
    return (await client.get("/api/auth/me", headers=await sessions.headers(user))).json()["person_id"]


async def test_a_clue_from_a_true_warning_has_its_whole_file_with_the_warnings_photos(
    client: Any, sessions: Any, seed: Any, people: Any, settings: Any, db: Any
) -> None:
    case = await warning_with_a_life(client, sessions, seed, people)
    inspector, committee = await sessions.headers("inspector"), await sessions.headers("committee")
    body = {"source": "warning", "warning_id": case["id"], "nature": "违规收取费用", "summary": SUMMARY}
    clue = await post(client, inspector, "/api/clues", body)
    cid = clue["id"]
    await post(client, inspector, f"/api/clues/{cid}/triage", {"level": "first", "proposal": PROPOSAL})
    await post(client, committee, f"/api/clues/{cid}/instruct", {"instruction": INSTRUCTION})
    me = await person_id(client, sessions, "committee")
    await post(client, inspector, f"/api/clues/{cid}/hand-over", {"receiver_person_id": me})
    await post(client, committee, f"/api/clues/{cid}/receive")
    await post(client, committee, f"/api/clues/{cid}/conclude", {"outcome": "filed", "text": OUTCOME})

    r = await client.get(f"/api/archive/clue/{cid}/zip", headers=inspector)
    assert r.status_code == 200, r.text
    files = unzip(r.content)
    sums = manifest(files)
    photos = {n: c for n, c in files.items() if n.startswith("照片原件/")}
    assert sorted(photos) == ["照片原件/照片01.jpg", "照片原件/照片02.jpg"]
    stored = {p["sha256"] for p in case["photos"]}
    assert {sums[n] for n in photos} == stored
    store = PhotoStore(settings.data_dir)
    for digest in stored:
        assert hashlib.sha256(store.get(digest)).hexdigest() == digest
    (pdf_name,) = [n for n in files if n.endswith(".pdf")]
    subject = await name_of(db, "E0005")
    assert pdf_name.startswith(f"问题线索案卷-{subject}-") and not ISO_DAY.search(pdf_name)

    text = pdf_text(files[pdf_name])
    for expected in (
        f"问题线索案卷：{subject}",
        "线索来源属实预警",
        "状态已办结",
        "所涉单位城关供电所",
        "反映人匿名",
        SUMMARY,
        "分级一级（严重）",
        "拟办意见" + PROPOSAL,
        "领导批示" + INSTRUCTION,
        "办理结果立案审查",
        OUTCOME,
        "线索来源：属实预警",
        "高风险（红色）",
        "照片1",
        "照片2",
        "处理过程",
        "登记",
        "分级拟办",
        "移交纪检",
        "签收",
        "办结",
        "行权留痕",
        "登记问题线索",
        "签收线索",
    ):
        assert flat(expected) in text, expected
    assert CAUSE not in text, "the warning's reply stays in the warning's own file"
    assert not ISO_DAY.search(text)
    for key in KEYS:
        assert key not in text, key
    # the download is in the trail of the clue, and shows in the next file's trail
    trail = await client.get(f"/api/audit?object_type=clue&object_id={cid}", headers=committee)
    exports = [i for i in trail.json()["items"] if i["action"] == "report.export"]
    assert [e["new_value"] for e in exports] == [{"what": "archive.clue", "format": "zip"}]


async def test_a_clue_from_a_public_report_keeps_its_attachments_as_sent(
    client: Any, sessions: Any, settings: Any, db: Any
) -> None:
    photo = png(40, 30)
    assert (await send(client, files=[photo], about="幸福小区抄表员")).status_code == 201
    inspector = await sessions.headers("inspector")
    (report,) = (await client.get("/api/intake", headers=inspector)).json()
    units = (await client.get("/api/units", headers=inspector)).json()
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    body = {
        "source": "public",
        "intake_report_id": report["id"],
        "unit_id": station,
        "subject_name": "某抄表员",
        "nature": "吃拿卡要",
        "summary": "群众反映抄表员上门索要好处费。",
    }
    clue = await post(client, inspector, "/api/clues", body)
    r = await client.get(f"/api/archive/clue/{clue['id']}/zip", headers=inspector)
    assert r.status_code == 200, r.text
    files = unzip(r.content)
    sums = manifest(files)
    assert sums["照片原件/附件01.png"] == hashlib.sha256(photo).hexdigest()
    store = IntakeService(None, TRAIL, settings).files  # type: ignore[arg-type]
    assert store.get(sums["照片原件/附件01.png"]) == photo, "the attachment as the server keeps it"
    (pdf_name,) = [n for n in files if n.endswith(".pdf")]
    text = pdf_text(files[pdf_name])
    for expected in (
        "线索来源：群众举报",
        "抄表员索要好处费",
        BODY,
        "幸福小区抄表员",
        "附件1",
        "转为问题线索",
    ):
        assert flat(expected) in text, expected

    # clues are kept apart: a head is refused, the inspector of the other county does not find it
    for who, status in (("head", 403), ("inspector2", 404), ("committee", 200)):
        r = await client.get(f"/api/archive/clue/{clue['id']}/pdf", headers=await sessions.headers(who))
        assert r.status_code == status, (who, r.text)
    r = await client.get("/api/archive/clue", headers=await sessions.headers("head"))
    assert r.status_code == 403
    listed = (await client.get("/api/archive/clue?topic=public", headers=inspector)).json()
    assert [(i["title"], i["topic"], i["person_name"], i["unit_name"]) for i in listed["items"]] == [
        ("吃拿卡要", "群众举报", "某抄表员", "城关供电所")
    ]
    assert (await client.get("/api/archive/clue", headers=await sessions.headers("inspector2"))).json()[
        "total"
    ] == 0
    facets = (await client.get("/api/archive/clue/facets", headers=inspector)).json()
    assert [f["label"] for f in facets["topics"]] == ["群众举报"] and facets["years"]


async def test_a_problems_file_has_every_step_and_is_refused_to_a_head_of_another_unit(
    client: Any, sessions: Any
) -> None:
    inspector, manager = await sessions.headers("inspector"), await sessions.headers("manager")
    units = (await client.get("/api/units", headers=inspector)).json()
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    body = {
        "unit_id": station,
        "origin": "inspection",
        "title": "抄表数据人工修改未留痕/无审批",
        "description": "检查发现营销系统 11 月有 23 条抄表示数被人工修改，无审批记录。",
    }
    pid = (await post(client, inspector, "/api/problems", body))["id"]
    await post(client, inspector, f"/api/problems/{pid}/classify", {"category": "process"})
    assignee = await person_id(client, sessions, "manager")
    await post(client, inspector, f"/api/problems/{pid}/assign", {"assignee_person_id": assignee})
    due = (date.today() + timedelta(days=30)).isoformat()
    await post(client, manager, f"/api/problems/{pid}/plan", {"measures": "建立修改审批流程", "due_on": due})
    await post(client, manager, f"/api/problems/{pid}/done", {"text": "23 条已补录说明"})
    await post(client, inspector, f"/api/problems/{pid}/check", {"passed": True, "note": "审批流程已上线"})
    close = {"money_recovered": 4200.5, "problems_avoided": 3, "effect_note": "追回电费"}
    await post(client, inspector, f"/api/problems/{pid}/close", close)

    for who, status in (("head2", 404), ("inspector2", 404), ("head", 200), ("manager", 403)):
        r = await client.get(f"/api/archive/problem/{pid}/pdf", headers=await sessions.headers(who))
        assert r.status_code == status, (who, r.text)
    r = await client.get(f"/api/archive/problem/{pid}/zip", headers=await sessions.headers("head"))
    assert r.status_code == 200, r.text
    files = unzip(r.content)
    manifest(files)
    (pdf_name,) = list(files)
    assert pdf_name == f"问题整改案卷-抄表数据人工修改未留痕-无审批-{pdf_name.rsplit('-', 1)[1]}"
    text = pdf_text(files[pdf_name])
    for expected in (
        "问题整改案卷：抄表数据人工修改未留痕/无审批",
        "问题来源监督检查",
        "问题分类流程缺陷",
        "整改单位城关供电所",
        "当前状态已销号",
        "整改措施建立修改审批流程",
        "整改完成情况23条已补录说明",
        "挽回经济损失4,200.50元",
        "避免问题数3",
        "成效说明追回电费",
        "制定整改措施",
        "报告整改完成",
        "检查通过",
        "审批流程已上线",
        "销号",
        "问题销号",
        "行权留痕",
    ):
        assert flat(expected) in text, expected
    assert not ISO_DAY.search(text)
    for key in KEYS:
        assert key not in text, key
    page = (await client.get("/api/archive/problem", headers=await sessions.headers("head"))).json()
    assert [(i["title"], i["topic"], i["state"]) for i in page["items"]] == [
        (body["title"], "监督检查", "已销号")
    ]
    other = (await client.get("/api/archive/problem", headers=await sessions.headers("head2"))).json()
    assert other["total"] == 0
