"""Refused rows are numbered as a person sees them in the file, blank lines and multi-line values too."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook

from backend.data.lines import blank_lines, line_of
from tests.data.factories import ACTOR, GOOD, declare_readings, readings_csv, service
from tests.data.test_import import rows_in

HEADER = "户号,reading_date,month,kwh,employee_no"


async def import_bytes(db, settings, tmp_path: Path, content: bytes, name: str = "r.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(content)
    async with db.session() as session:
        return await service(session, settings).import_file("readings", path, name, ACTOR, **kwargs)


def errors_of(record) -> list[tuple[int, str | None, str]]:
    return [(e["row"], e["column"], e["reason"]) for e in record.errors]


async def test_blank_lines_count_in_the_row_numbers_of_refused_rows(db, settings, tmp_path):
    await declare_readings(db, settings)
    text = (
        f"{HEADER}\n"
        "A001,2026-10-01,2026-10,1,E0005\n"  # 2
        "\n"  # 3
        "A002,2026-10-01,2026-10,2,E0005\n"  # 4
        "A003,not a date,2026-10,3,E0005\n"  # 5: refused by the reader
        "\n"  # 6
        "\n"  # 7
        ",2026-10-02,2026-10,4,E0005\n"  # 8: empty required text
        "A001,2026-10-01,2026-10,5,E0005\n"  # 9: same key as row 2
    )
    record = await import_bytes(db, settings, tmp_path, text.encode())
    assert record.status == "refused"
    assert (record.rows_read, record.rows_refused, record.rows_taken) == (5, 3, 0)
    assert errors_of(record) == [
        (5, "reading_date", record.errors[0]["reason"]),
        (8, "account_no", "required value is empty"),
        (9, "account_no, reading_date", "duplicate key: same as row 2"),
    ]
    assert "not a date" in record.errors[0]["reason"]


async def test_windows_line_ends_and_a_value_over_two_lines(db, settings, tmp_path):
    await declare_readings(db, settings)
    text = (
        f"{HEADER}\r\n"
        '"A0\r\n01",2026-10-01,2026-10,1,E0005\r\n'  # 2: one row over two physical lines
        "\r\n"  # 3
        "A002,2026-10-01,2026-10,2,E0005\r\n"  # 4
        "A002,2026-10-01,2026-10,3,E0005\r\n"  # 5: duplicate of 4
    )
    record = await import_bytes(db, settings, tmp_path, text.encode(), take_good_rows=True)
    assert record.status == "done"
    assert errors_of(record) == [(5, "account_no, reading_date", "duplicate key: same as row 4")]
    assert [r[0] for r in rows_in(settings)] == ["A0\r\n01", "A002"]


async def test_every_duplicate_is_refused_even_beyond_the_listed_errors(db, settings, tmp_path):
    await declare_readings(db, settings)
    rows = [(f"B{i:05d}", "2026-10-01", "2026-10", 1, "E0005") for i in range(1200)]
    three_times = [("C00001", "2026-10-01", "2026-10", n, "E0005") for n in range(3)]
    text = readings_csv([*rows, *three_times, *rows])
    record = await import_bytes(db, settings, tmp_path, text.encode(), take_good_rows=True)
    assert record.status == "done"
    assert (record.rows_read, record.rows_taken, record.rows_refused) == (2403, 1201, 1202)
    assert len(record.errors) == 1000  # listed: the first thousand
    assert errors_of(record)[:2] == [
        (1203, "account_no, reading_date", "duplicate key: same as row 1202"),
        (1204, "account_no, reading_date", "duplicate key: same as row 1202"),
    ]
    assert errors_of(record)[2] == (1205, "account_no, reading_date", "duplicate key: same as row 2")
    assert len(rows_in(settings)) == 1201


async def test_empty_rows_of_a_workbook_keep_the_sheet_row_numbers(db, settings, tmp_path):
    await declare_readings(db, settings)
    book = Workbook()
    sheet = book.active
    sheet.append(["户号", "reading_date", "month", "kwh", "employee_no"])
    sheet.append(["X1", "2026-10-05", "2026-10", 3.25, "E0005"])  # row 2
    sheet.append([])  # row 3
    sheet.append([None, None, None, None, None])  # row 4
    sheet.append(["X1", "2026-10-05", "2026-10", 4, "E0005"])  # row 5: duplicate of row 2
    sheet.append(["X2", "2026-10-05", "2026-10", "many", "E0005"])  # row 6
    sheet.append([])  # trailing empty rows are not rows
    buf = io.BytesIO()
    book.save(buf)
    record = await import_bytes(db, settings, tmp_path, buf.getvalue(), name="r.xlsx")
    assert record.status == "refused"
    assert [(e["row"], e["column"]) for e in record.errors] == [
        (5, "account_no, reading_date"),
        (6, "kwh"),
    ]
    assert record.errors[0]["reason"] == "duplicate key: same as row 2"


async def test_a_clean_file_with_blank_lines_imports_every_row(db, settings, tmp_path):
    await declare_readings(db, settings)
    text = readings_csv(GOOD).replace("\nA002", "\n\n\nA002")
    record = await import_bytes(db, settings, tmp_path, text.encode())
    assert record.status == "done" and record.rows_taken == 3


def test_blank_lines_are_found_outside_quoted_values(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b'a,b\n1,x\n\n2,y\n"3\n\nz",q\n\n\nbad,w\n')
    # DuckDB counts the quoted value over three physical lines as one line (5)
    assert blank_lines(path) == [3, 6, 7]
    path.write_bytes(b"a,b\n1,x\n2,y\n")
    assert blank_lines(path) == []


def test_line_of_skips_refused_and_blank_lines():
    assert line_of(0, []) == 2
    assert line_of(0, [2, 3]) == 4
    assert line_of(1, [3]) == 4
    assert line_of(2, [3, 5, 6, 9]) == 7
    assert line_of(5, [3, 5, 6, 9]) == 11
