from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from backend.audit.models import AuditRecord
from backend.org.models import Person, Unit

HEADER = "employee_no,name,unit_code,post_code,started_in_post,phone,roles\n"


async def upload(client, headers, kind, name, content, **params):
    return await client.post(
        f"/api/org/import/{kind}",
        files={"data": (name, content, "application/octet-stream")},
        params=params,
        headers=headers,
    )


async def counts(db):
    async with db.session() as s:
        people = (await s.execute(select(func.count()).select_from(Person))).scalar_one()
        units = (await s.execute(select(func.count()).select_from(Unit))).scalar_one()
        trail = (await s.execute(select(func.count()).select_from(AuditRecord))).scalar_one()
    return people, units, trail


async def test_people_csv_import_creates_then_second_run_changes_nothing(client, sessions, db):
    admin = await sessions.headers("admin")
    csv = (
        HEADER + "N001,甲乙,C01-S1,CM,2023-05-06,13900001111,employee\n"
        "N002,丙丁,C01-S2,MI,2024/01/02,,employee;head\n"
    ).encode()
    first = await upload(client, admin, "people", "people.csv", csv)
    assert first.status_code == 200, first.text
    assert first.json() | {"errors": []} == first.json() and first.json()["created"] == 2
    before = await counts(db)
    second = await upload(client, admin, "people", "people.csv", csv)
    assert second.json()["created"] == 0 and second.json()["unchanged"] == 2
    assert await counts(db) == before
    listed = (await client.get("/api/people", params={"q": "N002"}, headers=admin)).json()["items"][0]
    assert listed["roles"] == ["employee", "head"] and listed["started_in_post"] == "2024-01-02"


@pytest.mark.parametrize(
    ("rows", "row", "column", "reason"),
    [
        ("N1,甲,NOPE,CM,,,employee\n", 2, "unit_code", "unknown unit"),
        ("N1,甲,C01-S1,ZZ,,,employee\n", 2, "post_code", "unknown post"),
        ("N1,甲,C01-S1,CM,2023-13-45,,employee\n", 2, "started_in_post", "not a date"),
        ("N1,甲,C01-S1,CM,,,employee;king\n", 2, "roles", "unknown role"),
        ("N1,甲,C01-S1,CM,,,employee\nN1,乙,C01-S1,CM,,,employee\n", 3, "employee_no", "also on row 3"),
        ("N1,,C01-S1,CM,,,employee\n", 2, "name", "at least 1 character"),
        ("N1,甲,C01-S1,CM,,,employee,extra,cells\n", 2, None, "cells but the header has"),
    ],
)
async def test_a_bad_row_names_row_and_column_and_nothing_is_written(
    client, sessions, db, rows, row, column, reason
):
    admin = await sessions.headers("admin")
    before = await counts(db)
    good = "G1,好人,C01-S1,CM,,,employee\n"
    response = await upload(client, admin, "people", "people.csv", (HEADER + good + rows).encode())
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_rejected"
    first = body["errors"][0]
    assert (first["row"], first["column"]) == (row + 1, column), body
    assert reason in first["reason"]
    assert f"row {row + 1}" in body["detail"]
    assert await counts(db) == before


async def test_missing_columns_empty_and_foreign_files_are_refused(client, sessions, db):
    admin = await sessions.headers("admin")
    before = await counts(db)
    missing = await upload(client, admin, "people", "p.csv", b"employee_no,name\nN1,x\n")
    assert missing.status_code == 400 and missing.json()["code"] == "missing_columns"
    assert "unit_code" in missing.json()["detail"]
    empty = await upload(client, admin, "people", "p.csv", b"")
    assert empty.status_code == 400 and empty.json()["code"] == "empty_file"
    pdf = await upload(client, admin, "people", "p.pdf", b"%PDF-1.4")
    assert pdf.status_code == 400 and pdf.json()["code"] == "unsupported_file_type"
    broken = await upload(client, admin, "people", "p.xlsx", b"PK\x03\x04 not really a zip")
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_file"
    unknown = await upload(client, admin, "staff", "p.csv", HEADER.encode())
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_import_kind"
    assert await counts(db) == before


async def test_gbk_csv_and_xlsx_imports(client, sessions):
    admin = await sessions.headers("admin")
    gbk = (HEADER + "K001,赵钱孙,C02-S2,CM,,,employee\n").encode("gb18030")
    assert (await upload(client, admin, "people", "gbk.csv", gbk)).json()["created"] == 1

    book = Workbook()
    sheet = book.active
    sheet.append(["employee_no", "name", "unit_code", "post_code", "started_in_post", "phone", "roles"])
    sheet.append(["K002", "周吴郑", "C02-S2", "MI", None, 13900002222, "employee"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = await upload(client, admin, "people", "people.xlsx", buffer.getvalue())
    assert response.status_code == 200, response.text
    person = (await client.get("/api/people", params={"q": "K002"}, headers=admin)).json()["items"][0]
    assert person["phone"] == "13900002222" and person["post_code"] == "MI"


async def test_dry_run_checks_without_writing(client, sessions, db):
    admin = await sessions.headers("admin")
    before = await counts(db)
    response = await upload(
        client, admin, "people", "p.csv", (HEADER + "D1,试,C01,,,,employee\n").encode(), dry_run="true"
    )
    assert response.status_code == 200 and response.json()["dry_run"] is True and response.json()["rows"] == 1
    assert await counts(db) == before


async def test_dry_run_reports_what_it_would_create_and_change(client, sessions, db):
    admin = await sessions.headers("admin")
    first = HEADER + "D1,试一,C01-S1,CM,,,employee\n"
    assert (await upload(client, admin, "people", "p.csv", first.encode())).json()["created"] == 1
    units = "code,name,kind,parent_code,specialty\nC01-S9,新所,station,C01,marketing\n"
    before = await counts(db)
    people = HEADER + "D1,试一改,C01-S1,CM,,,employee\nD2,试二,C01-S1,,,,employee\n"
    r = await upload(client, admin, "people", "p.csv", people.encode(), dry_run="true")
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (1, 1, 0)
    r = await upload(client, admin, "people", "p.csv", first.encode(), dry_run="true")
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 0, 1)
    r = await upload(client, admin, "units", "u.csv", units.encode(), dry_run="true")
    assert (r.json()["created"], r.json()["dry_run"]) == (1, True)
    assert await counts(db) == before  # nothing written, not even to the trail
    person = (await client.get("/api/people", params={"q": "D1"}, headers=admin)).json()["items"][0]
    assert person["name"] == "试一"


async def test_an_import_without_a_file_is_400(client, sessions):
    admin = await sessions.headers("admin")
    other = {"other": ("p.csv", b"x", "text/csv")}
    r = await client.post("/api/org/import/people", files=other, headers=admin)
    assert (r.status_code, r.json()["code"]) == (400, "file_required")
    r = await client.post("/api/org/import/people", headers=admin)
    assert r.status_code == 400


async def test_units_import_orders_parents_and_refuses_loops(client, sessions, db):
    admin = await sessions.headers("admin")
    csv = (
        b"code,name,kind,parent_code,specialty\nC03-S1,child,station,C03,marketing\nC03,parent,county,P00,\n"
    )
    response = await upload(client, admin, "units", "units.csv", csv)
    assert response.status_code == 200 and response.json()["created"] == 2
    units = {u["code"]: u for u in (await client.get("/api/units", headers=admin)).json()}
    assert units["C03-S1"]["parent_id"] == units["C03"]["id"]
    before = await counts(db)
    loop = b"code,name,kind,parent_code,specialty\nL1,a,station,L2,\nL2,b,station,L1,\n"
    refused = await upload(client, admin, "units", "units.csv", loop)
    assert refused.status_code == 400 and "loops" in refused.json()["errors"][0]["reason"]
    kind = await upload(client, admin, "units", "units.csv", b"code,name,kind\nZ1,z,planet\n")
    assert kind.json()["errors"][0] == {
        "row": 2,
        "column": "kind",
        "reason": kind.json()["errors"][0]["reason"],
    }
    assert await counts(db) == before
