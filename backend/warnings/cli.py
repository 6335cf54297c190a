"""``probity warnings sweep``: deliver missed warnings, remind, chase, order supervision."""

from __future__ import annotations

from typing import Any

import click

from backend.audit.service import AuditTrail
from backend.kernel.clitools import cli_settings, run_async
from backend.kernel.db import Database
from backend.warnings.routing import sweep


@click.group("warnings")
def warnings_group() -> None:
    """The warning lifecycle."""


@warnings_group.command("sweep")
def sweep_command() -> None:
    """One pass: deliver raised warnings, set missing deadlines, remind, chase, supervise."""
    settings = cli_settings()

    async def go(db: Database) -> Any:
        async with db.session() as session:
            return await sweep(session, AuditTrail(settings.secret_key.get_secret_value()), settings)

    click.echo(run_async(go, settings).line())


COMMANDS = [warnings_group]
