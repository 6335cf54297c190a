from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import select

from backend.audit.models import AuditRecord
from backend.cli import main
from backend.data.models import DataImport, DataQualityIssue
from backend.data.store import BusinessStore
from backend.kernel.errors import AppError
from tests.data.factories import ACTOR, GOOD, declare_readings, readings_csv, service


def rows_in(settings, sql="SELECT account_no, reading_date::VARCHAR, month, kwh FROM readings ORDER BY 1, 2"):
    return BusinessStore.for_settings(settings).run(lambda cur: cur.execute(sql).fetchall())


async def import_text(db, settings, tmp_path: Path, text: str | bytes, name="r.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    async with db.session() as session:
        return await service(session, settings).import_file("readings", path, name, ACTOR, **kwargs)


async def test_happy_path_takes_every_row_and_records_the_import(db, settings, tmp_path):
    await declare_readings(db, settings)
    record = await import_text(db, settings, tmp_path, readings_csv(GOOD))
    assert record.status == "done"
    assert (record.rows_read, record.rows_taken, record.rows_refused) == (3, 3, 0)
    assert record.periods == ["2026-10"]
    assert record.duration_ms >= 0
    assert rows_in(settings) == [
        ("A001", "2026-10-01", "2026-10", 12.5),
        ("A001", "2026-10-02", "2026-10", 0.0),
        ("A002", "2026-10-01", "2026-10", 7.0),
    ]
    async with db.session() as s:
        trail = (
            (
                await s.execute(
                    select(AuditRecord).order_by(AuditRecord.id).where(AuditRecord.action == "data.import")
                )
            )
            .scalars()
            .all()
        )
    assert trail and trail[-1].new_value["rows_taken"] == 3


async def test_wrong_types_refuse_the_whole_file_and_report_rows(db, settings, tmp_path):
    await declare_readings(db, settings)
    bad = readings_csv(
        [*GOOD, ("A003", "2026-13-45", "2026-10", 3, "E0005"), ("A004", "2026-10-01", "2026-10", "lots", "")]
    )
    record = await import_text(db, settings, tmp_path, bad)
    assert record.status == "refused"
    assert record.rows_taken == 0 and record.rows_refused == 2
    assert [(e["row"], e["column"]) for e in record.errors] == [(5, "reading_date"), (6, "kwh")]
    assert "lots" in record.errors[1]["reason"]
    assert rows_in(settings) == []
    async with db.session() as s:
        issues = (await s.execute(select(DataQualityIssue))).scalars().all()
        refused = (
            (
                await s.execute(
                    select(AuditRecord)
                    .order_by(AuditRecord.id)
                    .where(AuditRecord.action == "data.import_refused")
                )
            )
            .scalars()
            .all()
        )
    assert {(i.row, i.column) for i in issues} == {(5, "reading_date"), (6, "kwh")}
    assert all(i.table_name == "readings" for i in issues)
    assert refused and refused[-1].actor_label == "test"


async def test_take_good_rows_keeps_the_good_ones(db, settings, tmp_path):
    await declare_readings(db, settings)
    bad = readings_csv(
        [*GOOD, ("A004", "2026-10-01", "2026-10", "lots", ""), ("", "2026-10-03", "2026-10", 1, "")]
    )
    record = await import_text(db, settings, tmp_path, bad, take_good_rows=True)
    assert record.status == "done"
    assert (record.rows_taken, record.rows_refused) == (3, 2)
    assert {(e["row"], e["column"], e["reason"]) for e in record.errors} >= {
        (6, "account_no", "required value is empty")
    }
    assert len(rows_in(settings)) == 3


async def test_duplicate_keys_are_refused_with_both_rows(db, settings, tmp_path):
    await declare_readings(db, settings)
    record = await import_text(db, settings, tmp_path, readings_csv([*GOOD, GOOD[0]]))
    assert record.status == "refused"
    assert record.errors == [
        {"row": 5, "column": "account_no, reading_date", "reason": "duplicate key: same as row 2"}
    ]


async def test_reimporting_a_period_replaces_it(db, settings, tmp_path):
    await declare_readings(db, settings)
    await import_text(db, settings, tmp_path, readings_csv(GOOD))
    await import_text(db, settings, tmp_path, readings_csv([("B001", "2026-11-01", "2026-11", 1, "E0005")]))
    again = await import_text(
        db, settings, tmp_path, readings_csv([("A001", "2026-10-01", "2026-10", 99, "E0005")])
    )
    assert again.rows_replaced == 3
    assert rows_in(settings) == [
        ("A001", "2026-10-01", "2026-10", 99.0),
        ("B001", "2026-11-01", "2026-11", 1.0),
    ]


async def test_empty_file_and_header_only_are_refused(db, settings, tmp_path):
    await declare_readings(db, settings)
    empty = await import_text(db, settings, tmp_path, "")
    assert empty.status == "failed" and empty.error.startswith("empty_file")
    header_only = await import_text(db, settings, tmp_path, "户号,reading_date,month,kwh\n")
    assert header_only.status == "failed" and "no data rows" in header_only.error


async def test_missing_columns_are_named(db, settings, tmp_path):
    await declare_readings(db, settings)
    record = await import_text(db, settings, tmp_path, "户号,month\nA1,2026-10\n")
    assert record.status == "failed"
    assert "reading_date" in record.error and "kwh" in record.error
    assert {e["column"] for e in record.errors} == {"reading_date", "kwh"}


async def test_unknown_table_is_refused(db, settings, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    async with db.session() as session:
        with pytest.raises(AppError) as caught:
            await service(session, settings).import_file("nope", path, "x.csv", ACTOR)
    assert caught.value.code == "unknown_table"


@pytest.mark.parametrize("encoding", [None, "gb18030", "gbk"])
async def test_gbk_files_are_detected_or_named(db, settings, tmp_path, encoding):
    await declare_readings(db, settings)
    text = readings_csv([("户甲001", "2026-10-01", "2026-10", 5, "E0005")])
    record = await import_text(db, settings, tmp_path, text.encode("gbk"), encoding=encoding)
    assert record.status == "done", record.error
    assert record.encoding == "gb18030"
    assert rows_in(settings)[0][0] == "户甲001"


async def test_gbk_file_read_as_utf8_says_which_encoding_to_use(db, settings, tmp_path):
    await declare_readings(db, settings)
    rows = [("户甲001", "2026-10-01", "2026-10", 5, "E0005")]
    plain_header = readings_csv(rows, header="account_no,reading_date,month,kwh,employee_no")
    record = await import_text(db, settings, tmp_path, plain_header.encode("gbk"), encoding="utf-8")
    assert record.status == "refused"
    assert "gb18030" in record.errors[0]["reason"]
    chinese_header = await import_text(
        db, settings, tmp_path, readings_csv(rows).encode("gbk"), encoding="utf-8"
    )
    assert chinese_header.status == "failed" and "gb18030" in chinese_header.error


async def test_xlsx_import(db, settings, tmp_path):
    await declare_readings(db, settings)
    book = Workbook()
    sheet = book.active
    sheet.append(["户号", "reading_date", "month", "kwh", "employee_no"])
    sheet.append(["X1", "2026-10-05", "2026-10", 3.25, "E0005"])
    buf = io.BytesIO()
    book.save(buf)
    record = await import_text(db, settings, tmp_path, buf.getvalue(), name="r.xlsx")
    assert record.status == "done", record.error
    assert rows_in(settings) == [("X1", "2026-10-05", "2026-10", 3.25)]


async def test_cli_import_prints_taken_and_refused(db, settings, tmp_path, monkeypatch):
    await declare_readings(db, settings)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(readings_csv(GOOD))
    bad.write_text(readings_csv([("A9", "not a date", "2026-10", 1, "")]))
    for name, value in {
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(settings.data_dir),
        "PROBITY_SECRET_KEY": settings.secret_key.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    BusinessStore.close_all()  # the CLI opens the store itself, as a separate process would

    def invoke(*args: str):
        return asyncio.to_thread(CliRunner().invoke, main, list(args))

    ok = await invoke("data", "import", "readings", str(good))
    assert ok.exit_code == 0, ok.output
    assert "taken 3, refused 0" in ok.output
    refused = await invoke("data", "import", "readings", str(bad))
    assert refused.exit_code == 1
    assert "row 2, column reading_date" in refused.output
    unknown = await invoke("data", "import", "nope", str(good))
    assert unknown.exit_code == 1 and "unknown_table" in unknown.output
    BusinessStore.close_all()
    async with db.session() as s:
        records = (await s.execute(select(DataImport).order_by(DataImport.id))).scalars().all()
    assert [r.status for r in records] == ["done", "refused"]
    assert records[0].channel == "cli"
