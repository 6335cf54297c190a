"""Row numbers of accepted rows, counted the way DuckDB's ``read_csv`` counts its rejected lines.

DuckDB reports a refused row by its *line*: the header is line 1, a quoted value spanning
several physical lines is one line, and a blank line — which ``read_csv`` skips — still counts.
That is the row a person sees when the file is opened as a spreadsheet. Rows DuckDB accepted but
the declaration refuses (empty required text, duplicate keys) are found by their position among
the inserted rows; their line is that position plus the lines skipped before it: refused lines
and blank lines. Blank lines are looked for only when such a row must be numbered, with one
byte search over the file first; the line walk runs only if the file has a blank line at all.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path

CHUNK = 8 * 1024 * 1024
BLANK = (b"\n", b"\r\n", b"\r")


def has_blank_line(path: Path) -> bool:
    """Whether an empty line (``\\n\\n`` or ``\\n\\r\\n``) occurs anywhere in the file."""
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            data = tail + chunk
            if b"\n\n" in data or b"\n\r\n" in data:
                return True
            tail = data[-2:]
    return False


def blank_lines(path: Path) -> list[int]:
    """The lines (counted as DuckDB counts them) that are blank, outside quoted values."""
    if not has_blank_line(path):
        return []
    found: list[int] = []
    number = 0
    quoted = False
    with path.open("rb") as fh:
        for raw in fh:
            if not quoted:
                number += 1
                if raw in BLANK:
                    found.append(number)
                    continue
            # a value's quotes come in pairs ("" inside a value too): an odd count opens or closes one
            if raw.count(b'"') % 2:
                quoted = not quoted
    return found


def line_of(ordinal: int, skipped: Sequence[int]) -> int:
    """Line of the ``ordinal``-th (0-based) accepted data row; ``skipped`` sorted lines without one.

    The least line L with ``L = ordinal + 2 + (skipped lines <= L)``: iterating from below reaches it
    in a few steps (each step adds the skipped lines the previous guess had not passed yet).
    """
    line = ordinal + 2
    while True:
        moved = ordinal + 2 + bisect_right(skipped, line)
        if moved == line:
            return line
        line = moved
