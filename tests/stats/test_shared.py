"""Callers of one scope and period share one computation while it runs, and its result for a while."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.stats.service import Shared


async def test_callers_at_the_same_time_share_one_computation() -> None:
    shared = Shared()
    started = asyncio.Event()
    release = asyncio.Event()
    runs: list[str] = []

    async def compute() -> Any:
        runs.append("run")
        started.set()
        await release.wait()  # every other caller asks while this one runs
        return {"figures": len(runs)}

    first = asyncio.create_task(shared.get("scope-a", 20, compute))
    await started.wait()
    others = [asyncio.create_task(shared.get("scope-a", 20, compute)) for _ in range(15)]
    other_scope = asyncio.create_task(shared.get("scope-b", 20, compute))
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(first, *others, other_scope)
    assert runs == ["run", "run"]  # one for scope a (16 callers), one for scope b
    assert all(r is results[0] for r in results[:16])
    assert await shared.get("scope-a", 20, compute) is results[0]  # kept
    assert runs == ["run", "run"]


async def test_without_a_time_each_call_computes_and_a_failure_is_not_shared() -> None:
    shared = Shared()
    runs: list[int] = []

    async def compute() -> Any:
        runs.append(1)
        return len(runs)

    assert [await shared.get("k", 0, compute) for _ in range(3)] == [1, 2, 3]

    gate = asyncio.Event()

    async def failing() -> Any:
        await gate.wait()
        raise RuntimeError("database went away")

    first = asyncio.create_task(shared.get("f", 20, failing))
    await asyncio.sleep(0)
    second = asyncio.create_task(shared.get("f", 20, compute))
    await asyncio.sleep(0)
    gate.set()
    with pytest.raises(RuntimeError):
        await first
    assert await second == 4  # the waiter computed on its own
