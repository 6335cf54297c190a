"""Uploads: multipart and raw bodies go to disk as they arrive; the import record shows bytes received."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from backend.data import upload
from backend.data.upload import Part, multipart_file, receive
from backend.kernel.errors import Invalid
from tests.data.factories import GOOD, declare_readings, readings_csv
from tests.data.test_import import rows_in

URL = "/api/data/tables/readings"


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def form(parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary") -> bytes:
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


MULTIPART = "b0undary"


async def test_multipart_import_streams_the_file_part(client, sessions, db, settings):
    await declare_readings(db, settings)
    content = readings_csv(GOOD).encode()
    response = await client.post(
        f"{URL}/import",
        files={"data": ("march.csv", content, "text/csv")},
        headers=await sessions.headers("admin"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["filename"], body["rows_taken"], body["bytes"]) == (
        "done",
        "march.csv",
        3,
        len(content),
    )
    assert len(rows_in(settings)) == 3


async def test_raw_upload_and_refused_uploads_leave_a_failed_record(client, sessions, db, settings):
    await declare_readings(db, settings)
    admin = await sessions.headers("admin")
    content = readings_csv(GOOD).encode()
    raw = await client.put(f"{URL}/upload?filename=april.csv", content=content, headers=admin)
    assert raw.status_code == 200 and raw.json()["status"] == "done"
    not_a_form = await client.post(
        f"{URL}/import", content=content, headers={**admin, "content-type": "text/csv"}
    )
    assert not_a_form.status_code == 400 and not_a_form.json()["code"] == "multipart_required"
    wrong_field = await client.post(
        f"{URL}/import", files={"file": ("a.csv", content, "text/csv")}, headers=admin
    )
    assert wrong_field.status_code == 400 and wrong_field.json()["code"] == "unexpected_field"
    settings.upload_max_bytes = 1024
    too_large = await client.put(f"{URL}/upload?filename=big.csv", content=content * 20, headers=admin)
    assert too_large.status_code == 413 and too_large.json()["code"] == "body_too_large"
    records = (await client.get("/api/data/imports", headers=admin)).json()
    assert [(r["filename"], r["status"]) for r in records] == [
        ("upload", "failed"),
        ("upload", "failed"),
        ("april.csv", "done"),
    ]  # the body that was no form opened no record
    assert records[0]["error"].startswith("body_too_large")
    assert records[1]["error"].startswith("unexpected_field")
    assert len(rows_in(settings)) == 3


async def test_multipart_parts_are_cut_out_whatever_the_chunk_size():
    content = b"account_no\r\n--b0undar\r\nA1\r\n" * 50
    for size in (1, 7, 4096):
        part = Part()
        got = b"".join(
            [
                c
                async for c in multipart_file(
                    pieces(form([("data", "x.csv", content)]), size), MULTIPART, part
                )
            ]
        )
        assert got == content and part.filename == "x.csv"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (form([("note", None, b"hello"), ("data", "x.csv", b"a\n1\n")]), "unexpected_field"),
        (form([]), "no_file"),
        (form([("data", "x.csv", b"a\n1\n")])[:-20], "malformed_upload"),
    ],
)
async def test_bad_multipart_bodies_say_why(body, code):
    with pytest.raises(Invalid) as caught:
        async for _ in multipart_file(pieces(body, 16), MULTIPART, Part()):
            pass
    assert caught.value.code == code


async def test_receive_reports_progress_while_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(upload, "PROGRESS_EVERY", 100)
    seen: list[int] = []

    async def progress(size: int) -> None:
        seen.append(size)

    size = await receive(pieces(b"x" * 1000, 64), tmp_path / "f", 10_000, progress)
    assert size == 1000 and (tmp_path / "f").read_bytes() == b"x" * 1000
    assert seen == [128, 256, 384, 512, 640, 768, 896, 1000]


async def test_pushed_rows_are_checked_like_a_file_and_numbered_from_one(client, sessions, db, settings):
    await declare_readings(db, settings)
    admin = await sessions.headers("admin")
    good = [
        {"account_no": "P1", "reading_date": "2026-10-01", "month": "2026-10", "kwh": 1.5},
        {"account_no": "P2", "reading_date": "2026-10-01", "month": "2026-10", "kwh": 2},
    ]
    pushed = await client.post(f"{URL}/rows", json={"rows": good, "source": "metering"}, headers=admin)
    assert pushed.status_code == 200, pushed.text
    assert (pushed.json()["status"], pushed.json()["rows_taken"]) == ("done", 2)
    bad = [*good, {**good[0], "kwh": "lots"}, good[1]]
    refused = (await client.post(f"{URL}/rows", json={"rows": bad}, headers=admin)).json()
    assert refused["status"] == "refused"
    assert [(e["row"], e["column"], e["reason"][:9]) for e in refused["errors"]] == [
        (3, "kwh", "Could not"),
        (4, "account_no, reading_date", "duplicate"),
    ]
    assert refused["errors"][1]["reason"] == "duplicate key: same as row 2"
    unknown = (await client.post(f"{URL}/rows", json={"rows": [{"colour": "red"}]}, headers=admin)).json()
    assert unknown["status"] == "failed" and unknown["error"].startswith("unknown_columns")
    assert len(rows_in(settings)) == 2
