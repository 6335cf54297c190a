"""Put an incoming file where the sandboxed store may read it, as UTF-8 CSV.

* CSV already in UTF-8: hard-linked (no copy) into the staging directory.
* CSV in another encoding (GBK/GB18030 exports are common): given with ``--encoding`` or
  detected from the first megabyte, transcoded in large chunks (no per-row Python).
* XLSX: the first sheet is written out as CSV (openpyxl streams it; XLSX holds at most
  about a million rows, so this stays bounded).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from backend.kernel.errors import Invalid

CHUNK = 8 * 1024 * 1024
SNIFF = 1024 * 1024
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "big5": "big5",
    "utf-16": "utf-16",
    "latin-1": "latin-1",
}
DELIMITERS = (",", "\t", ";", "|")


@dataclass
class Staged:
    path: Path
    encoding: str
    header: list[str]
    delimiter: str
    size: int

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def staging_path(staging_dir: Path, suffix: str = ".csv") -> Path:
    staging_dir.mkdir(parents=True, exist_ok=True)
    return staging_dir / f"{uuid.uuid4().hex}{suffix}"


def known_encoding(name: str | None) -> str | None:
    if name is None:
        return None
    found = ENCODINGS.get(name.strip().lower())
    if found is None:
        raise Invalid(
            f"encoding {name!r} is not supported; use one of {', '.join(sorted(set(ENCODINGS)))}",
            code="bad_encoding",
        )
    return found


def stage(source: Path, filename: str, staging_dir: Path, encoding: str | None = None) -> Staged:
    """Stage ``source`` (which the caller keeps) as a UTF-8 CSV inside ``staging_dir``."""
    size = source.stat().st_size
    if size == 0:
        raise Invalid(f"{filename}: the file is empty", code="empty_file")
    with source.open("rb") as fh:
        head = fh.read(SNIFF)
    name = filename.lower()
    if name.endswith(".xlsx") or head[:4] == b"PK\x03\x04":
        target = staging_path(staging_dir)
        _xlsx_to_csv(source, target, filename)
        return _finish(target, "xlsx", size, filename)
    if not name.endswith((".csv", ".txt", ".tsv")) and "." in name:
        raise Invalid(f"{filename}: only .csv and .xlsx files can be imported", code="unsupported_file_type")
    chosen = known_encoding(encoding) or _detect(head, filename)
    target = staging_path(staging_dir)
    if chosen == "utf-8":
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    else:
        _transcode(source, target, chosen, filename)
    return _finish(target, chosen, size, filename)


def _detect(head: bytes, filename: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise Invalid(
            f"{filename}: the file is neither UTF-8 nor GBK/GB18030 text; give its encoding",
            code="bad_encoding",
        ) from None


def _transcode(source: Path, target: Path, encoding: str, filename: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    try:
        with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(CHUNK):
                dst.write(decoder.decode(chunk))
                offset += len(chunk)
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        target.unlink(missing_ok=True)
        raise Invalid(
            f"{filename}: byte {offset + exc.start} is not valid {encoding} text; check the file's encoding",
            code="bad_encoding",
        ) from exc


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_to_csv(source: Path, target: Path, filename: str) -> None:
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:
        raise Invalid(
            f"{filename}: not a readable .xlsx workbook ({type(exc).__name__})", code="malformed_file"
        ) from exc
    try:
        with target.open("w", encoding="utf-8", newline="") as dst:
            writer = csv.writer(dst)
            rows: Iterable[tuple[Any, ...]] = book.worksheets[0].iter_rows(values_only=True)
            width: int | None = None
            empty = 0
            for cells in rows:
                values = [_cell(c) for c in cells]
                if width is None:
                    while values and not values[-1]:
                        values.pop()
                    width = len(values)
                if not any(values):
                    empty += 1  # an empty row in the sheet: a blank line (skipped, still counted)
                    continue
                dst.write("\r\n" * empty)
                empty = 0
                writer.writerow(values[:width] + [""] * (width - len(values)))
    finally:
        book.close()


def _finish(target: Path, encoding: str, size: int, filename: str) -> Staged:
    with target.open("rb") as fh:
        first = fh.readline(1024 * 1024)
    try:
        text = first.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError:
        target.unlink(missing_ok=True)
        raise Invalid(
            f"{filename}: the header row is not UTF-8 text; give its encoding (e.g. --encoding gb18030)",
            code="bad_encoding",
        ) from None
    if not text.strip():
        target.unlink(missing_ok=True)
        raise Invalid(f"{filename}: the file is empty: it needs a header row", code="empty_file")
    delimiter = max(DELIMITERS, key=text.count)
    header = [h.strip() for h in next(csv.reader(io.StringIO(text), delimiter=delimiter))]
    return Staged(target, encoding, header, delimiter, size)


def write_rows_csv(rows: list[dict[str, Any]], columns: list[str], staging_dir: Path) -> Path:
    """JSON rows pushed by a system, written as a CSV the store reads like any other file."""
    target = staging_path(staging_dir)
    with target.open("w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else _json_cell(row.get(c)) for c in columns])
    return target


def _json_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
