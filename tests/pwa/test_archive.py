"""The archive and list exports on the phone at 390×844 zh-CN: the inspector browses 档案 and takes a
case's ZIP; the head exports the station's warnings (only the station's people) and a larger list
of replies made in the background, watching its progress until the file comes."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import expect

from backend.archive import exporting
from tests.archive.conftest import jpeg
from tests.pwa.conftest import sign_in
from tests.pwa.test_a11y import audit
from tests.warnings.conftest import Seeder

CAUSE = "表计更换后七日未抄表，电量漏计"


def seeded(live: Any) -> dict[str, Any]:
    async def work(db: Any) -> dict[str, Any]:
        seeder = Seeder(db)
        ids = [await seeder.warning("E0005", level=level) for level in ("high", "medium", "low")]
        other = await seeder.warning("E0006", level="high")
        async with db.session() as s:
            from backend.org.service import OrgService
            from tests.warnings.conftest import TRAIL

            names = {no: (await OrgService(s, TRAIL).person_by_no(no)).name for no in ("E0005", "E0006")}  # type: ignore[union-attr]
        return {"ids": ids, "other": other, "names": names}

    return live.run(work)


def replied(live: Any, wid: int) -> str:
    """The manager replies with a photo; returns the photo's SHA-256 as the server stored it."""
    photo = live.api(
        "POST",
        f"/api/warnings/{wid}/photos",
        "manager",
        files={"file": ("p.jpg", jpeg((220, 40, 40)), "image/jpeg")},
    )
    assert photo.status_code == 201, photo.text
    body = {
        "client_id": str(uuid.uuid4()),
        "result": "true",
        "cause": CAUSE,
        "measures": "已追补电费",
        "photo_ids": [photo.json()["id"]],
    }
    r = live.api("POST", f"/api/warnings/{wid}/verifications", "manager", json=body)
    assert r.status_code == 201, r.text
    return str(photo.json()["sha256"])


def test_archive_and_exports_on_the_phone(live: Any, phone: Any, shots: Any, monkeypatch: Any) -> None:
    data = seeded(live)
    digest = replied(live, data["ids"][0])
    for wid in data["ids"][1:]:
        replied(live, wid)

    # the inspector browses the archive and takes the case's ZIP
    page = phone().new_page()
    sign_in(page, "inspector")
    page.goto("/#/dashboard")
    page.get_by_role("link", name=re.compile("^档案")).click()
    expect(page.get_by_role("heading", name="档案")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="共 3 件")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(data["names"]["E0006"])  # another county's
    page.get_by_label("年度").select_option(label="2026年")
    page.get_by_label("人员").select_option(label=data["names"]["E0005"])
    expect(page.get_by_role("status").filter(has_text="共 3 件")).to_be_visible()
    assert "person_id=" in page.url and "year=2026" in page.url
    shots(page, "archive-inspector", full_page=True)
    assert audit(page, "archive") == []
    card = page.locator("li.archive-item").filter(has_text="高·红")
    with page.expect_download() as got:
        card.get_by_role("button", name=re.compile("压缩包")).click()
    with zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes())) as z:
        sums = z.read("SHA256SUMS.txt").decode()
        photo = [n for n in z.namelist() if n.startswith("照片原件/")]
        assert len(photo) == 1 and hashlib.sha256(z.read(photo[0])).hexdigest() == digest
        assert f"{digest}  {photo[0]}" in sums
    assert got.value.suggested_filename.endswith(".zip")

    # the head exports the station's warnings as on screen: only the station's people
    head = phone().new_page()
    sign_in(head, "head")
    head.goto("/#/warnings?view=unit&box=done")
    with head.expect_download() as got:
        head.get_by_role("button", name="导出 Excel").click()
    expect(head.get_by_role("status").filter(has_text="已导出 3 条")).to_be_visible()
    shots(head, "export-inbox-done")
    assert audit(head, "export") == []
    sheet = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True).worksheets[0]
    people = {r[3] for r in list(sheet.iter_rows(values_only=True))[1:]}
    assert people == {data["names"]["E0005"]}

    # a list past the inline size is made in the background: the bar shows it waiting, then the file
    monkeypatch.setattr(exporting, "INLINE_ROWS", 2)
    head.goto("/#/queue")
    expect(head.get_by_role("heading", name=re.compile("待确认"))).to_be_visible()
    head.get_by_role("button", name="导出 Excel").click()
    expect(head.get_by_role("status").filter(has_text="已排队")).to_be_visible()
    shots(head, "export-queue-queued")
    with head.expect_download() as got:
        line = live.run(lambda db: exporting.run_exports(db, live.settings))
        assert line.startswith("exports made: 1")
    expect(head.get_by_role("status").filter(has_text="已导出 3 条")).to_be_visible()
    shots(head, "export-queue-done")
    rows = list(
        load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert len(rows) == 4 and {r[6] for r in rows[1:]} == {CAUSE}


def test_every_list_screen_offers_its_export(live: Any, phone: Any, shots: Any) -> None:
    """The export bar on a list screen exports what the list shows; an empty list offers none."""
    opened = live.api(
        "POST",
        "/api/ladder",
        "inspector",
        json={
            "person_id": live.api("GET", "/api/auth/me", "manager").json()["person_id"],
            "tier": "notice",
            "subject": "多次未按期反馈预警",
            "problem": "三个月内五条预警逾期未反馈",
        },
    )
    assert opened.status_code == 201, opened.text
    page = phone().new_page()
    sign_in(page, "inspector")
    for route, heading in (("#/linked", "联动预警"), ("#/interviews", "约谈记录")):
        page.goto("/" + route)
        expect(page.get_by_role("heading", name=re.compile(heading))).to_be_visible()
        expect(page.get_by_role("button", name="导出 Excel")).to_have_count(0)  # nothing to export yet
    mine = phone().new_page()
    sign_in(mine, "manager")
    mine.goto("/#/ladder")
    with mine.expect_download() as got:
        mine.get_by_role("button", name="导出 Excel").click()
    expect(mine.get_by_role("status").filter(has_text="已导出 1 条")).to_be_visible()
    shots(mine, "export-ladder")
    assert audit(mine, "ladder-export") == []
    rows = list(
        load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert rows[1][:2] == ("多次未按期反馈预警", "告知")


def test_clue_and_problem_files_on_the_phone(live: Any, phone: Any, shots: Any) -> None:
    """The inspector finds a problem's and a clue's file in the archive and takes the PDF; a head has
    no clue shelf (clues are kept apart from warnings)."""
    units = live.api("GET", "/api/units", "inspector").json()
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    body = {
        "unit_id": station,
        "origin": "audit",
        "title": "备品备件领用无审批",
        "description": "审计发现领用无审批。",
    }
    assert live.api("POST", "/api/problems", "inspector", json=body).status_code == 201
    clue = {
        "source": "inspection",
        "unit_id": station,
        "subject_name": "某抄表员",
        "nature": "吃拿卡要",
        "summary": "检查发现。",
    }
    assert live.api("POST", "/api/clues", "inspector", json=clue).status_code == 201

    page = phone().new_page()
    sign_in(page, "inspector")
    page.goto("/#/archive")
    page.get_by_role("button", name="问题清单", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="共 1 件")).to_be_visible()
    card = page.locator("li.archive-item").filter(has_text="备品备件领用无审批")
    expect(card).to_contain_text("审计")
    expect(card).to_contain_text("已登记")
    shots(page, "archive-problem", full_page=True)
    assert audit(page, "archive-problem") == []
    with page.expect_download() as got:
        card.get_by_role("button", name=re.compile("PDF")).click()
    assert got.value.suggested_filename == "备品备件领用无审批.pdf"
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")
    page.get_by_role("button", name="问题线索", exact=True).click()
    card = page.locator("li.archive-item").filter(has_text="吃拿卡要")
    expect(card).to_contain_text("某抄表员")
    shots(page, "archive-clue", full_page=True)

    head = phone().new_page()
    sign_in(head, "head")
    head.goto("/#/archive?kind=clue")
    expect(head.get_by_role("heading", name="档案")).to_be_visible()
    expect(head.get_by_role("button", name="问题线索", exact=True)).to_have_count(0)
    expect(head.get_by_role("button", name="问题清单", exact=True)).to_be_visible()


def test_the_opinions_list_exports_from_the_phone(live: Any, phone: Any, shots: Any) -> None:
    """B.15 opinions: the list screen's export bar gives the list as on screen (the state filter)."""
    units = live.api("GET", "/api/units", "inspector").json()
    station = next(u["id"] for u in units if u["name"] == "城关供电所")
    for problem in ("领料单无审批", "换表后零电量无人核查"):
        body = {"unit_id": station, "problem": problem, "advice": "建立复核制度"}
        assert live.api("POST", "/api/opinions", "inspector", json=body).status_code == 201
    page = phone().new_page()
    sign_in(page, "inspector")
    page.goto("/#/opinions?state=drafted")
    expect(page.get_by_role("heading", name="协同监督意见书")).to_be_visible()
    with page.expect_download() as got:
        page.get_by_role("button", name="导出 Excel").click()
    expect(page.get_by_role("status").filter(has_text="已导出 2 条")).to_be_visible()
    shots(page, "export-opinions")
    assert audit(page, "opinions-export") == []
    rows = list(
        load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert rows[0][:4] == ("编号", "单位", "状态", "发现问题")
    assert sorted(r[3] for r in rows[1:]) == ["换表后零电量无人核查", "领料单无审批"]
    assert {r[2] for r in rows[1:]} == {"拟稿"}
