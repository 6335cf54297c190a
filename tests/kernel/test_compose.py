"""Hooks are registered by ``compose`` at start-up, never by importing a module; every entry point
composes, so the CLI alone makes the same follow-ups as the app. Fresh interpreters (subprocesses)
show what an import does on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from sqlalchemy import select

from backend.warnings.models import LinkedWarning, Warning
from tests.conftest import TEST_SECRET, cli_env
from tests.warnings.conftest import Seeder

VERIFIED = {"backend.telegram.decisions.tell_deciders"}
CONFIRMED = {"backend.warnings.linked.evaluate"}
CALENDAR_CHANGED = {
    "backend.ladder.service.recompute_case_deadlines",
    "backend.warnings.service.recompute_deadlines",
    "backend.warnings.linked.recompute_report_deadlines",
}


def _python(script: str, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_module_registers_nothing_until_compose():
    seen = _python(
        """
        import importlib, json, pkgutil
        import backend, bot, notifications
        from backend.kernel.hooks import REGISTRY, compose
        imported = 0
        for package in (backend, bot, notifications):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                if info.name.startswith("backend.migrations"):
                    continue  # Alembic's scripts, run by Alembic
                importlib.import_module(info.name)
                imported += 1
        before = REGISTRY.labels()
        compose("all")
        compose("all")  # idempotent
        print(json.dumps({"imported": imported, "before": before, "after": REGISTRY.labels()}))
        """
    )
    assert seen["imported"] > 100
    assert seen["before"] == {}
    after = seen["after"]
    assert sorted(after["warning.verified"]) == sorted(VERIFIED)
    assert sorted(after["warning.confirmed"]) == sorted(CONFIRMED)
    assert sorted(after["calendar.changed"]) == sorted(CALENDAR_CHANGED)


async def test_the_command_line_alone_makes_the_apps_follow_ups(db, settings):
    """A process that imported only ``backend.cli``: ``probity calendar add`` recomputes deadlines,
    and a confirmation in that process raises the linked warning (two true reds)."""
    seed = Seeder(db)
    moved = await seed.warning("E0005", level="high", raised_at=_dt(2026, 12, 28))
    first = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    second = await seed.warning("E0005", level="high", topic_code="T01", topic_id=1)
    person, unit = await seed.person("E0005")
    head, _ = await seed.person("E0004")
    async with db.session() as s:
        due_before = (await s.get(Warning, moved)).due_at
    seen = _python(
        f"""
        import asyncio, json
        from backend.cli import main
        from backend.kernel.hooks import REGISTRY

        before = REGISTRY.labels()
        main(["calendar", "add", "2027-01-01", "holiday", "--note", "元旦"], standalone_mode=False)

        async def reply_true():
            from backend.audit.service import AuditTrail
            from backend.kernel.access import Principal, Role
            from backend.kernel.clitools import cli_settings
            from backend.kernel.db import Database
            from backend.warnings.schemas import DecisionCreate, VerificationCreate
            from backend.warnings.service import WarningService
            from backend.warnings.models import Finding

            settings = cli_settings()
            db = Database(settings)
            me = Principal(0, "", {person}, {unit}, frozenset({{Role.employee}}), frozenset())
            boss = Principal(0, "", {head}, {unit}, frozenset({{Role.head}}), frozenset({{{unit}}}))
            try:
                for n, wid in enumerate(({first}, {second})):
                    async with db.session() as session:
                        trail = AuditTrail(settings.secret_key.get_secret_value())
                        svc = WarningService(session, trail, settings)
                        data = VerificationCreate(
                            client_id=f"cli-only-{{n:04d}}", result=Finding.true, cause="c", measures="m"
                        )
                        await svc.verify(me, wid, data)
                for wid in ({first}, {second}):
                    async with db.session() as session:
                        trail = AuditTrail(settings.secret_key.get_secret_value())
                        svc = WarningService(session, trail, settings)
                        await svc.decide(boss, wid, DecisionCreate(), confirm=True)
            finally:
                await db.dispose()

        asyncio.run(reply_true())
        print(json.dumps({{"before": before, "after": REGISTRY.labels()}}))
        """,
        PROBITY_DATABASE_URL=settings.database_url,
        PROBITY_SECRET_KEY=TEST_SECRET,
        PROBITY_DATA_DIR=str(settings.data_dir),
        PROBITY_ENV="test",
    )
    assert seen["before"] == {}
    assert set(seen["after"]["warning.verified"]) == VERIFIED
    assert set(seen["after"]["warning.confirmed"]) == CONFIRMED
    async with db.session() as s:
        assert (await s.get(Warning, moved)).due_at > due_before  # the holiday moved it
        rules = (await s.execute(select(LinkedWarning.rule))).scalars().all()
    assert list(rules) == ["double_red"]


def _dt(y: int, m: int, d: int):
    from datetime import datetime

    from backend.kernel.timeutil import SHANGHAI

    return datetime(y, m, d, 10, tzinfo=SHANGHAI)
