"""One case, one file: a warning's and a ladder case's whole file as a PDF and a ZIP whose manifest
matches the photos as stored; in Chinese, without identifiers; in the trail; within scope."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from typing import Any

from pypdf import PdfReader

from backend.warnings.photos import PhotoStore
from tests.archive.conftest import (
    CAUSE,
    CAUSE_RETURNED,
    MEASURES,
    RETURN_REASON,
    SHEET,
    URGE_NOTE,
    name_of,
    open_case,
    warning_with_a_life,
)

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: words of the machinery that must never reach a reader
KEYS = ("not_true", "supervision_order", "urged", "confirmed", "report.export", "warning_photo", "None")


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", "", text)


def flat(value: str) -> str:
    return re.sub(r"\s+", "", value)


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return {name: z.read(name) for name in z.namelist()}


async def test_a_warnings_zip_holds_its_pdf_and_photos_as_stored_with_matching_sums(
    client: Any, sessions: Any, seed: Any, people: Any, settings: Any, db: Any
) -> None:
    case = await warning_with_a_life(client, sessions, seed, people)
    inspector = await sessions.headers("inspector")
    r = await client.get(f"/api/archive/warning/{case['id']}/zip", headers=inspector)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/zip")
    files = unzip(r.content)
    sums = dict(reversed(line.split("  ", 1)) for line in files.pop("SHA256SUMS.txt").decode().splitlines())
    assert set(sums) == set(files), "the manifest names every file of the ZIP, and only those"
    for name, content in files.items():
        assert hashlib.sha256(content).hexdigest() == sums[name], name
    photos = {n: c for n, c in files.items() if n.startswith("照片原件/")}
    assert sorted(photos) == ["照片原件/照片01.jpg", "照片原件/照片02.jpg"]
    store = PhotoStore(settings.data_dir)
    stored = {p["sha256"] for p in case["photos"]}
    assert {sums[n] for n in photos} == stored
    for digest in stored:  # the photos as the server keeps them, byte for byte
        assert hashlib.sha256(store.get(digest)).hexdigest() == digest
    (pdf_name,) = [n for n in files if n.endswith(".pdf")]
    assert pdf_name.startswith("预警案卷-") and not ISO_DAY.search(pdf_name)

    text = pdf_text(files[pdf_name])
    body = case["interview"]
    for expected in (
        "预警案卷",
        "基本情况",
        "高风险（红色）",
        await name_of(db, "E0005"),
        CAUSE,
        MEASURES,
        CAUSE_RETURNED,
        RETURN_REASON,
        "已退回",
        "已确认",
        "属实",
        "不属实",
        "催办",
        URGE_NOTE,
        "约谈记录",
        body["place"],
        body["suggestion"],
        body["follow_up"],
        "被约谈人签字",
        "高风险问题核查单",
        SHEET["check_result"],
        SHEET["head_opinion"],
        "行权留痕",
        "上传照片",
        "照片1",
    ):
        assert flat(expected) in text, expected
    assert re.search(r"20\d\d年\d{1,2}月\d{1,2}日", text)
    assert not ISO_DAY.search(text)
    for key in KEYS:
        assert key not in text, key


async def test_a_download_is_in_the_trail_and_the_files_own_trail(
    client: Any, sessions: Any, seed: Any, people: Any
) -> None:
    case = await warning_with_a_life(client, sessions, seed, people)
    inspector = await sessions.headers("inspector")
    r = await client.get(f"/api/archive/warning/{case['id']}/pdf", headers=inspector)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    trail = await client.get(
        f"/api/audit?object_type=warning&object_id={case['id']}", headers=await sessions.headers("committee")
    )
    exports = [i for i in trail.json()["items"] if i["action"] == "report.export"]
    assert len(exports) == 1 and exports[0]["new_value"] == {"what": "archive.warning", "format": "pdf"}
    again = await client.get(f"/api/archive/warning/{case['id']}/pdf", headers=inspector)
    assert "导出" in pdf_text(again.content), "the first download shows in the next file's trail"
    english = await client.get(f"/api/archive/warning/{case['id']}/pdf?lang=en", headers=inspector)
    text = pdf_text(english.content)
    for expected in (
        "Warningfile",
        "Reply2",
        "Returned",
        "Confirmed",
        "Interviewee",
        "Trailofacts",
        "Exported",
    ):
        assert expected in text, expected


async def test_the_file_of_a_warning_outside_scope_is_not_found(
    client: Any, sessions: Any, seed: Any
) -> None:
    other = await seed.warning("E0006", level="medium")
    for who in ("head", "inspector"):
        r = await client.get(f"/api/archive/warning/{other}/zip", headers=await sessions.headers(who))
        assert r.status_code == 404, (who, r.text)
    r = await client.get(f"/api/archive/warning/{other}/pdf", headers=await sessions.headers("committee"))
    assert r.status_code == 200


async def test_a_ladder_case_file_has_its_steps_and_answers(client: Any, sessions: Any, people: Any) -> None:
    inspector, manager = await sessions.headers("inspector"), await sessions.headers("manager")
    cid = await open_case(
        client, inspector, people["manager"], "notice", "多次未按期反馈预警", "三个月内五条预警逾期未反馈"
    )
    answer = {"client_id": "ladder-answer-0001", "text": "因台区改造人手不足，已调整分工"}
    r = await client.post(f"/api/ladder/{cid}/answer", json=answer, headers=manager)
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/ladder/{cid}/visit", json={"note": "回访确认已整改", "lifted": True}, headers=inspector
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/archive/ladder/{cid}/pdf", headers=inspector)
    assert r.status_code == 200, r.text
    text = pdf_text(r.content)
    for expected in (
        "廉情预警案卷",
        "告知",
        "多次未按期反馈预警",
        answer["text"],
        "书面答复",
        "回访确认已整改",
        "已解除",
        "行权留痕",
    ):
        assert flat(expected) in text, expected
    assert not ISO_DAY.search(text)
    r = await client.get(f"/api/archive/ladder/{cid}/pdf", headers=await sessions.headers("head"))
    assert r.status_code == 404, "a ladder case is a personal file: not the head's"
