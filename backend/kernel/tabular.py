"""Read a CSV or XLSX upload into header + numbered rows, with clear errors for bad files; write
people's text into workbook cells safely."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from backend.kernel.errors import Invalid

#: characters a workbook cannot hold (openpyxl refuses them: an export with one failed with 500)
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_row(values: list[Any]) -> list[Any]:
    """Cells for a workbook row: text without the control characters a workbook cannot hold, and
    text that a spreadsheet would run as a formula (=, +, -, @ first) kept as text."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            value = _NOT_IN_XLSX.sub("", value)
            if value[:1] in ("=", "+", "-", "@"):
                value = "'" + value
        out.append(value)
    return out


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(filename: str, content: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Return the header and an iterator of ``(row_number, {column: text})``.

    Row numbers are as a person sees them in the file: the header is row 1.
    """
    name = filename.lower()
    if name.endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    if name.endswith((".csv", ".txt")) or not name:
        return _read_csv(content)
    raise Invalid(f"{filename}: only .csv and .xlsx files can be imported", code="unsupported_file_type")


def _read_csv(content: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Invalid("the file is neither UTF-8 nor GB18030 text", code="bad_encoding")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise Invalid("the file is empty: it needs a header row", code="empty_file") from None
    except csv.Error as exc:
        raise Invalid(f"row 1: {exc}", code="malformed_file") from exc
    return header, _csv_rows(reader, header)


def _csv_rows(reader: Any, header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Invalid(f"row {number}: {exc}", code="malformed_file") from exc
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            yield number, {"__error__": f"{len(cells)} cells but the header has {len(header)} columns"}
            continue
        yield number, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}


def _read_xlsx(content: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise Invalid(f"not a readable .xlsx workbook ({type(exc).__name__})", code="malformed_file") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [_cell(h) for h in next(rows)]
    except StopIteration:
        raise Invalid(
            "the workbook's first sheet is empty: it needs a header row", code="empty_file"
        ) from None
    while header and not header[-1]:
        header.pop()

    def numbered() -> Iterator[tuple[int, dict[str, str]]]:
        for number, cells in enumerate(rows, start=2):
            values = [_cell(c) for c in cells]
            if not any(values):
                continue
            yield number, {h: (values[i] if i < len(values) else "") for i, h in enumerate(header)}

    return header, numbered()


def require_columns(header: list[str], required: list[str]) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise Invalid(
            f"missing column(s): {', '.join(missing)}; the header row must name: {', '.join(required)}",
            code="missing_columns",
            extra={"errors": [RowError(1, c, "missing column").as_dict() for c in missing]},
        )
