"""``probity warnings sweep``: deliver missed warnings, remind, chase, order supervision."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import AuditTrail
from backend.kernel.clitools import cli_settings, run_async
from backend.kernel.db import Database
from backend.kernel.settings import Settings
from backend.warnings.routing import sweep


@click.group("warnings")
def warnings_group() -> None:
    """The warning lifecycle."""


def sweep_command(
    sweep_fn: Callable[[AsyncSession, AuditTrail, Settings], Awaitable[Any]], doc: str
) -> click.Command:
    """A ``sweep`` command: one pass of ``sweep_fn`` in one session, its report's line printed."""

    def command() -> None:
        settings = cli_settings()

        async def go(db: Database) -> Any:
            async with db.session() as session:
                return await sweep_fn(session, AuditTrail(settings.secret_key.get_secret_value()), settings)

        click.echo(run_async(go, settings).line())

    command.__doc__ = doc
    return click.command("sweep")(command)


warnings_group.add_command(
    sweep_command(
        sweep, "One pass: deliver raised warnings, set missing deadlines, remind, chase, supervise."
    )
)


COMMANDS = [warnings_group]
