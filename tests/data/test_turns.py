"""Several processes take turns with the business store (DuckDB opens a file in one process at a
time): two ``probity serve --role api`` processes on one data directory both import and run rules,
where the second one answered 503 ``store_unavailable`` before turns were taken."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from backend.data.store import BusinessStore, StoreBusy
from tests.conftest import TEST_SECRET
from tests.data.factories import readings_csv
from tests.delivery.fakes import free_port
from tests.engine.helpers import zero_usage_topic

PROBITY = Path(sys.executable).parent / "probity"


def two_stores(settings, wait: float = 120.0, linger: float = 60.0) -> tuple[BusinessStore, BusinessStore]:
    """Two instances on one file: each locks ``.holder`` through its own open file, as two
    processes do."""
    path, staging = settings.duckdb_path.resolve(), (settings.data_dir / "staging").resolve()
    return tuple(BusinessStore(path, staging, "256MB", wait, linger) for _ in range(2))  # type: ignore[return-value]


def count_in(store: BusinessStore) -> int:
    return store.run(lambda cur: cur.execute("SELECT count(*) FROM t").fetchone()[0])


def test_a_waiting_process_gets_the_store_when_the_holders_work_is_done(settings):
    # the holder would keep the file an hour after its work if nobody asked for it
    first, second = two_stores(settings, linger=3600)
    first.run(lambda cur: cur.execute("CREATE TABLE t AS SELECT 1 AS x"))
    first.acquire()  # work in progress in the first "process"
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(count_in(second)))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive() and got == [], "the second process opened the file while the first held it"
    first.release()  # its work is done: someone waits, so the file is let go now, not in an hour
    waiter.join(60)
    assert got == [1], "the waiting process did not get the store when the holder's work ended"
    assert first._con is None
    second._close(force=True)
    # nobody waits now: after its work a process keeps the file for its linger, then lets it go
    second.linger = 0.3
    assert count_in(second) == 1
    assert second._con is not None
    deadline = time.monotonic() + 30
    while second._con is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert second._con is None
    assert count_in(first) == 1
    first._close(force=True)


def test_past_the_wait_a_clear_busy_answer(settings):
    first, second = two_stores(settings, wait=0.3)
    first.acquire()
    try:
        with pytest.raises(StoreBusy) as refused:
            count_in(second)
        assert (refused.value.status, refused.value.code) == (503, "store_busy")
        assert "another process" in refused.value.detail
    finally:
        first.release()
        first._close(force=True)


def api_process(settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROBITY_ENV": "development",
        "PROBITY_DATABASE_URL": settings.database_url,
        "PROBITY_DATA_DIR": str(settings.data_dir),
        "PROBITY_SECRET_KEY": TEST_SECRET,
        "PROBITY_DEMO_PASSWORD": "demo",
        "PROBITY_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [str(PROBITY), "serve", "--role", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def signed_in(port: int) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120)
    deadline = time.monotonic() + 120
    while True:
        try:
            if (await client.get("/healthz")).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the api process on port {port} did not start")
        await asyncio.sleep(0.2)
    answer = await client.post("/api/auth/login", json={"username": "admin", "password": "demo"})
    assert answer.status_code == 200, answer.text
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


@pytest.mark.skipif(
    not PROBITY.exists() and os.environ.get("CI") != "true", reason="the probity command is not installed"
)
async def test_two_api_processes_both_import_and_run_rules(db, settings, tmp_path):
    await zero_usage_topic(db, settings, tmp_path)
    BusinessStore.close_all()  # this test process lets go of the file, as a finished CLI would
    ports = [free_port(), free_port()]
    processes = [api_process(settings, port) for port in ports]
    try:
        clients = [await signed_in(port) for port in ports]
        months = ["2026-11", "2026-12", "2027-01", "2027-02"]

        async def import_month(client: httpx.AsyncClient, month: str) -> httpx.Response:
            rows = [(f"B{i:04d}", f"{month}-{1 + i % 28:02d}", month, i % 3, "E0005") for i in range(400)]
            return await client.post(
                "/api/data/tables/readings/import",
                files={"data": (f"{month}.csv", readings_csv(rows).encode(), "text/csv")},
            )

        async def run(client: httpx.AsyncClient) -> httpx.Response:
            return await client.post("/api/rules/run", json={"topics": ["MK-ZERO"]})

        answers = await asyncio.gather(
            *(import_month(clients[i % 2], month) for i, month in enumerate(months)),
            run(clients[0]),
            run(clients[1]),
        )
        for answer in answers:
            assert answer.status_code == 200, answer.text
        for answer in answers[: len(months)]:
            assert answer.json()["status"] == "done", answer.json()
            assert answer.json()["rows_taken"] == 400
        for answer in answers[len(months) :]:
            assert [r["status"] for r in answer.json()] == ["done"], answer.json()
        for client in clients:  # each process sees every import
            tables = (await client.get("/api/data/tables/readings")).json()
            assert tables["rows"] == 20 + 400 * len(months), tables
        for client in clients:
            await client.aclose()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
