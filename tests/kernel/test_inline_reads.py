"""Two Databases on one SQLite file in one process (the app's and a worker's, or a test's): disposing
one must not close the plain sqlite3 connections the other is reading with on another thread —
that closed a connection under a running statement and crashed the process (a segfault in the
suite). Run in a subprocess, so that a crash is a failed assertion, not a lost test worker."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import cli_env


def test_disposing_one_database_leaves_the_others_reads_alone(tmp_path):
    script = textwrap.dedent(
        f"""
        import asyncio, threading
        from pathlib import Path
        from sqlalchemy import text
        from backend.kernel.db import Database, read_stored
        from tests.conftest import make_settings

        SLOW = text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
                    "SELECT count(*) FROM n")

        async def main():
            settings = make_settings(Path({str(tmp_path)!r}), "sqlite+aiosqlite:///{tmp_path}/shared.db")
            first, second = Database(settings), Database(settings)
            async with first.engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await read_stored(second.engine, text("SELECT 1"))  # the second reads inline too
            done = []

            def reader():
                async def go():
                    for _ in range(3):
                        done.append((await read_stored(first.engine, SLOW))[0][0])
                asyncio.run(go())

            worker = threading.Thread(target=reader)
            worker.start()
            await asyncio.sleep(0.2)  # the first's slow read is running on its thread
            await second.dispose()
            worker.join()
            assert done == [3000000] * 3, done
            await first.dispose()
            print("ok")

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), (done.returncode, done.stderr[-2000:])
