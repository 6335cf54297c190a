"""``probity ladder sweep``: escalate unanswered ladder cases, report overdue recommendations."""

from __future__ import annotations

from typing import Any

import click

from backend.audit.service import AuditTrail
from backend.kernel.clitools import cli_settings, run_async
from backend.kernel.db import Database
from backend.ladder.service import sweep


@click.group("ladder")
def ladder_group() -> None:
    """The personal escalation ladder (notice, inquiry, supervision recommendation)."""


@ladder_group.command("sweep")
def sweep_command() -> None:
    """One pass: unanswered notices and inquiries move up a tier; late recommendations are reported."""
    settings = cli_settings()

    async def go(db: Database) -> Any:
        async with db.session() as session:
            return await sweep(session, AuditTrail(settings.secret_key.get_secret_value()), settings)

    click.echo(run_async(go, settings).line())


COMMANDS = [ladder_group]
