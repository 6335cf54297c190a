"""``probity rules run [TOPIC_CODE …]``."""

from __future__ import annotations

import getpass
from typing import Any

import click

from backend.kernel.access import Actor, Channel
from backend.kernel.clitools import cli_settings, run_async, say
from backend.kernel.db import Database
from backend.kernel.errors import AppError


@click.group("rules")
def rules() -> None:
    """Supervision rules: run topics."""


@rules.command("run")
@click.argument("codes", nargs=-1)
def run(codes: tuple[str, ...]) -> None:
    """Run online topics now (all, or the TOPIC_CODEs named; named validating topics run as trial).

    Prints hits per level and warnings created/updated for each topic.
    """
    from backend.audit.service import AuditTrail
    from backend.engine.service import EngineService

    settings = cli_settings()
    actor = Actor.system(Channel.cli, f"probity rules run ({getpass.getuser()})")

    async def go(db: Database) -> Any:
        async with db.session() as session:
            engine = EngineService(session, AuditTrail(settings.secret_key.get_secret_value()), settings)
            return await engine.run_codes(list(codes), actor, "cli")

    try:
        runs = run_async(go, settings)
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    failed = 0
    for r in runs:
        if str(r.status) != "done":
            failed += 1
            say(f"{r.topic_code}: FAILED: {r.error}")
            continue
        if r.error:
            say(f"{r.topic_code}: {r.error}")
        click.echo(
            f"{r.topic_code}{' (trial)' if r.trial else ''}: hits high {r.hits_high}, "
            f"medium {r.hits_medium}, "
            f"low {r.hits_low}, none {r.hits_none}; warnings created {r.warnings_created}, "
            f"updated {r.warnings_updated}; rows scanned {r.rows_scanned}; {r.duration_ms} ms"
        )
    if not runs:
        click.echo("no online topic to run")
    if failed:
        raise click.ClickException(f"{failed} topic run(s) failed")


COMMANDS: list[click.Command] = [rules]
