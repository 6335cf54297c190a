"""Files the app keeps on disk are private to the account running it.

The data directory holds the DuckDB business store, uploaded photos and signatures, the trail's
checkpoints and (without ``PROBITY_SECRET_KEY``) the secret key; often the SQLite database too.
At start the process's umask becomes 0077 (everything it creates afterwards is 0600 / 0700),
the data directory is made 0700, and the database files already there lose any group or world
bits. Appends that must survive a crash (checkpoints) are one ``write`` on an ``O_APPEND``
descriptor followed by ``fsync``: lines written by several processes never mix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Make ``path`` (and missing parents) a directory only its owner can enter."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # not ours: leave it as it is
        if path.stat().st_mode & 0o777 != DIR_MODE:
            path.chmod(DIR_MODE)
    return path


def private_files(paths: Iterable[Path]) -> None:
    """Take group and world bits off those of ``paths`` that exist."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                path.chmod(mode & 0o700)


def secure_process_files(data_dir: Path, database_files: Iterable[Path] = ()) -> None:
    """At start: umask 0077 for this process, the data directory 0700, its database files 0600."""
    os.umask(PRIVATE_UMASK)
    private_dir(data_dir)
    private_files(database_files)


def append_line(path: Path, line: str) -> None:
    """Append ``line`` (one line, no newline inside) durably; safe from several processes."""
    if "\n" in line:
        raise ValueError("one line at a time")
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        size = os.fstat(fd).st_size
        # a line cut short by a crash is ended first, so this one stays a line of its own
        start = b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
        os.write(fd, start + (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        sync_dir(path.parent)


def sync_dir(path: Path) -> None:
    """Make a new name in ``path`` durable (POSIX: fsync the directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write ``data`` to ``path`` (mode 0600) whole or not at all: a temporary file, fsync'd, then
    renamed (or, with ``exclusive``, linked: False when ``path`` already exists, left untouched)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
        else:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    sync_dir(path.parent)
    return True
