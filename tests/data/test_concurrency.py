"""Two imports of the same period at the same moment: the later replaces the earlier, never doubles it."""

from __future__ import annotations

import asyncio

from tests.data.factories import ACTOR, declare_readings, readings_csv, service
from tests.data.test_import import rows_in


async def test_racing_imports_of_one_period_replace_each_other(db, settings, tmp_path):
    await declare_readings(db, settings)
    files = []
    for n, name in ((300, "a.csv"), (200, "b.csv")):
        path = tmp_path / name
        path.write_text(readings_csv([(f"A{i:04d}", "2026-10-01", "2026-10", i, "E0005") for i in range(n)]))
        files.append(path)

    async def one(path):
        async with db.session() as session:
            return await service(session, settings).import_file("readings", path, path.name, ACTOR)

    first, second = await asyncio.gather(*(one(p) for p in files))
    assert (first.status, second.status) == ("done", "done")
    assert sorted([first.rows_replaced, second.rows_replaced]) in ([0, 200], [0, 300])
    assert len(rows_in(settings)) in (200, 300)
    assert first.rows_replaced + second.rows_replaced + len(rows_in(settings)) == 500
